"""Where the organization stands: alert rules run after every change, and the dashboard."""

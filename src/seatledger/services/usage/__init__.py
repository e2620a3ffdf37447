"""Usage history: use over time against the purchased limit, and team costs."""

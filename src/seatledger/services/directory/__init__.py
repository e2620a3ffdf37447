"""Who and what holds seats: teams, people and devices."""

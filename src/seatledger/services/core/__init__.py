"""The plumbing every service shares: the unit of work, entity snapshots, forking helpers."""

"""The plumbing every service shares: the unit of work, entity snapshots, table queries, forking."""

"""Database-wide data settings: how often snapshots come, when an import is old."""

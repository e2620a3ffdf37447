"""File imports: preview and commit, the writers that upsert records, normalization rules."""

"""The effective license position and its findings as of a date, and their export."""

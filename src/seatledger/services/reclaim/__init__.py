"""Reclaiming idle seats: rules per product, runs, notices, keeps and the release."""

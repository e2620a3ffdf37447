"""Audits as records, the organization's signing identity and the signed report bundle."""

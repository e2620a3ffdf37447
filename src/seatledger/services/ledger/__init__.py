"""The activity ledger: verifying its chain and reading its entries."""

"""Demo databases (small and large), built from a seed and the day they are built.

The demo writes its ledger with the services' own entry builders and the store's chain code, so its
entries are those the services would write.  It may import the services; nothing in the services
imports it.  The start dialog and ``seatledger demo`` call :func:`.builder.build_demo`.
"""

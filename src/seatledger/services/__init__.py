"""The services: the only writers, and the reads the screens and commands share.

One service call is one transaction and one ledger entry (see :mod:`.core.context`).  Each package
owns one feature:

- ``core``: the unit of work (context, clock, actor), entity snapshots, the table-query
  protocol, when to fork a helper
- ``catalog``: vendors, products and entitlements (what was bought)
- ``directory``: teams, people and devices (who and what holds seats)
- ``seats``: assigning and releasing seats under the purchased-limit rule
- ``imports``: file imports, the writers behind them and normalization rules
- ``position``: the effective license position, its findings and their export
- ``usage``: usage history against the purchased limit
- ``alerts``: alert rules and acknowledgements, and the dashboard figures
- ``audits``: audits, the signing identity and the signed report bundle
- ``reviews``: access review campaigns (reviewers keep or release their teams' seats)
- ``reclaim``: reclaim rules per product, runs over idle seats, notices, keeps and releases
- ``operators``: operators and sign-in, the signed-in session (:class:`Services`), the workspace
- ``ledger``: verifying the activity ledger and reading its entries

``lookups`` is the one read of the names every picker shares (vendors, products, teams), of
natural keys and of the navigation's counts; ``details`` reads single records for edit dialogs.
``reads`` binds those reads and the table queries to a session, as ``Services.reads``: the window
and the command line hold :class:`Services` and nothing below it.
A package's table queries are its ``queries`` module (the ledger's: ``ledger.activity``).
Nothing here imports :mod:`seatledger.demo`, Qt or the UI.
"""

"""Server licensing on virtual infrastructure: hosts, clusters and VMs, and the vendors' rules.

``topology`` holds what the hypervisor exports say (hosts with their sockets and cores,
clusters, VMs and where they ran); ``tables`` loads the vendors' per-core tables (Oracle's core
factors, IBM's processor value units) with their effective dates; ``microsoft``, ``oracle``,
``ibm`` and ``redhat`` are the rules, one pure function each, whose docstrings cite the vendor
document they follow (``docs/server-licensing.md`` gathers them with their worked examples).

Pure: no Qt, no storage; the readers of the exports live in ``seatledger.ingest``.
"""

"""Server licensing: the hosts, clusters and VMs imported from hypervisor exports, and the
position the vendors' rules (``seatledger.domain.server``) give them against what was bought.

``importing`` stores RVTools and Hyper-V exports (one transaction, one ledger entry);
``position`` computes what each server product requires and why, and the what-if beside it;
``service`` is the façade :class:`~seatledger.services.operators.session.Services` holds.
"""

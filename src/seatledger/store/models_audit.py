"""Audits: scope, trigger, status, schedules, and every decision taken in the audit wizard.

Entities share :class:`~seatledger.store.models.Base`; ``models`` imports this module so one
metadata holds the whole schema.
"""

from __future__ import annotations

from seatledger.store.models import Base

__all__ = ["Base"]

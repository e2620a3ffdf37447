"""Alerts: misuse and limit alerts raised after changes and imports, and their acknowledgements.

Entities share :class:`~seatledger.store.models.Base`; ``models`` imports this module so one
metadata holds the whole schema.
"""

from __future__ import annotations

from seatledger.store.models import Base

__all__ = ["Base"]

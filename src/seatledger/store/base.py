"""The declarative base every entity module shares, with the constraint naming convention.

Its own module so that ``models`` can import the entity modules that extend the schema
(``models_alerts``, ``models_audit``, ``models_servers``, ``models_signing``) without them
importing ``models`` back.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations can alter constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

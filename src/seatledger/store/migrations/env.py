"""Alembic environment: runs migrations on the connection SeatLedger hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from seatledger.store import models  # noqa: F401 (importing it puts every table into the metadata)
from seatledger.store.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on the caller's connection, or on ``sqlalchemy.url`` for the alembic CLI."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("SeatLedger migrations run online only.")
run_migrations_online()

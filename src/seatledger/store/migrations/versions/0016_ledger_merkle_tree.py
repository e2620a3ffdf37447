"""A Merkle tree over the ledger (RFC 9162): the right edge beside the head, block roots stored.

The hash chain proves an unbroken sequence but can only be checked whole; the tree lets a vendor
check a few disclosed entries against a signed root, and that today's ledger extends the one an
earlier report signed.  Its leaves are the entries' chain hashes (``leaf = SHA-256(0x00 ||
entry hash)``), so the chain stays exactly as it was and every checkpoint signed before this
revision (a size and a head hash) is still provable: the head hash is the last leaf of the tree
of that size.

The tree of the entries already stored is built here, in one pass over their hashes (a million
entries take a few seconds): the right edge goes into ``ledger_head.frontier`` and the root of
every complete block of 32 entries into ``ledger_block``, which is append-only like the ledger.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 11:00:00.000000
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_MESSAGE = "the activity ledger is append-only"
_BATCH = 50_000
# Written out rather than imported: a migration must build the same tree whatever the code
# of later versions says.
_BLOCK_LEVEL = 5


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    with op.batch_alter_table("ledger_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frontier", sa.LargeBinary(), nullable=True))
    op.create_table(
        "ledger_block",
        sa.Column("idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_ledger_block")),
    )
    if postgresql:  # ledger_refuse_change() is revision 0002's
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_block_no_{verb.lower()} BEFORE {verb} ON ledger_block "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
        op.execute(
            "CREATE TRIGGER ledger_block_no_truncate BEFORE TRUNCATE ON ledger_block "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_block_no_{verb.lower()} BEFORE {verb} ON ledger_block "
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )
    _build_tree(op.get_bind())


def _build_tree(conn: sa.Connection) -> None:
    head = conn.execute(sa.text("SELECT size FROM ledger_head WHERE id = 1")).first()
    if head is None:
        return
    size = int(head[0])
    sha256 = hashlib.sha256
    nodes: list[bytes] = []
    count = 0
    blocks: list[dict[str, object]] = []
    insert = sa.text("INSERT INTO ledger_block (idx, hash) VALUES (:idx, :hash)")
    after = 0
    while after < size:
        rows = conn.execute(
            sa.text(
                "SELECT seq, hash FROM ledger_entry WHERE seq > :after AND seq <= :size "
                "ORDER BY seq LIMIT :batch"
            ),
            {"after": after, "size": size, "batch": _BATCH},
        ).all()
        if not rows:
            break
        for _seq, digest in rows:
            node = sha256(b"\x00" + bytes(digest)).digest()
            merged, height = count, 0
            while merged & 1:
                node = sha256(b"\x01" + nodes.pop() + node).digest()
                merged >>= 1
                height += 1
                if height == _BLOCK_LEVEL:
                    blocks.append({"idx": ((count + 1) >> _BLOCK_LEVEL) - 1, "hash": node})
            nodes.append(node)
            count += 1
        after = rows[-1][0]
        if blocks:
            conn.execute(insert, blocks)
            blocks = []
    # A ledger shorter than its head is left without a tree: verification reports it truncated.
    if count == size:
        conn.execute(
            sa.text("UPDATE ledger_head SET frontier = :frontier WHERE id = 1"),
            {"frontier": b"".join(nodes)},
        )


def downgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for verb in ("update", "delete") + (("truncate",) if postgresql else ()):
        op.execute(
            f"DROP TRIGGER IF EXISTS ledger_block_no_{verb}"
            + (" ON ledger_block" if postgresql else "")
        )
    op.drop_table("ledger_block")
    with op.batch_alter_table("ledger_head", schema=None) as batch_op:
        batch_op.drop_column("frontier")

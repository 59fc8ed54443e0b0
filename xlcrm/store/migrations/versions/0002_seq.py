"""Change sequence numbers: every record row carries the number of the transaction that last wrote it.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ENTITIES = ("customers", "followups", "purchases")


def upgrade() -> None:
    for entity in ENTITIES:
        op.add_column(entity, sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"))
        op.create_index(f"ix_{entity}_seq", entity, ["seq"])
    # The change log too: "which customers left this owner since the last sync" is a log question.
    op.add_column("change_log", sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"))
    op.create_index("ix_change_log_seq", "change_log", ["seq"])
    # Rows written before this revision have seq 0; a book synced before it has no recorded seq and
    # takes the full path once.
    op.execute("INSERT INTO store_meta (key, value) SELECT 'seq', '0' WHERE NOT EXISTS "
               "(SELECT 1 FROM store_meta WHERE key = 'seq')")

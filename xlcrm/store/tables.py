"""The store's schema as SQLAlchemy 2 Core tables.

Record tables (customers, followups, purchases) share the system columns every row has — a stable
`uid`, a `version` for optimistic locking, `updated_at`/`updated_by`, the `owner` and a soft-delete
flag — plus one text column per input field of the workbook's sheet (schema.py). Field values are
kept as canonical text (dates ISO, numbers plain, choices as codes) so the three-way merge compares
exactly what the workbook shows; the types come back from schema.py when frames are built.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from .. import schema

metadata = MetaData()

POOL_OWNER = "公海"  # the shared pool: customers nobody serves (seed: 3 months without follow-up)
RECORD_SHEETS = {"customers": schema.CUSTOMERS, "followups": schema.FOLLOWUPS, "purchases": schema.PURCHASES}
SYSTEM_COLUMNS = ("uid", "version", "updated_at", "updated_by", "owner", "deleted", "seq")
SEQ_KEY = "seq"  # store_meta row: the last change sequence number handed out


def field_keys(entity: str) -> list[str]:
    """The input fields of an entity stored as columns (computed columns are derived, never stored).
    `owner` of customers is the system column of the same name."""
    return [c.key for c in RECORD_SHEETS[entity].input_columns if c.key != "owner"]


def _record_table(entity: str) -> Table:
    columns = [
        Column("uid", String(36), primary_key=True),
        Column("version", Integer, nullable=False, default=1),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("updated_by", String(120), nullable=False, default=""),
        Column("owner", String(120), nullable=True),
        Column("deleted", Boolean, nullable=False, default=False),
        # The transaction that last wrote the row (store_meta "seq"): a sync loads only rows written
        # after its book's last sync instead of the whole scope.
        Column("seq", BigInteger, nullable=False, default=0),
    ]
    columns += [Column(key, Text, nullable=True) for key in field_keys(entity)]
    table = Table(entity, metadata, *columns)
    Index(f"ix_{entity}_owner", table.c.owner)
    Index(f"ix_{entity}_seq", table.c.seq)
    if entity == "customers":
        Index("ux_customers_customer_id", table.c.customer_id, unique=True)
    else:
        Index(f"ix_{entity}_customer_id", table.c.customer_id)
    return table


customers = _record_table("customers")
followups = _record_table("followups")
purchases = _record_table("purchases")
RECORDS = {"customers": customers, "followups": followups, "purchases": purchases}

# Append-only: rows are inserted, never updated or deleted (the answer to "who changed this owner").
change_log = Table(
    "change_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(20), nullable=False),
    Column("uid", String(36), nullable=False),
    Column("customer_id", Text, nullable=True),
    Column("field", String(60), nullable=False),
    Column("old", Text, nullable=True),
    Column("new", Text, nullable=True),
    Column("who", String(120), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("source", String(20), nullable=False),  # button | cli | import | sync | api
    Column("seq", BigInteger, nullable=False, default=0),  # the writing transaction's change number
    Index("ix_change_log_uid", "uid"),
    Index("ix_change_log_seq", "seq"),
)

conflicts = Table(
    "conflicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # conflict | duplicate (撞单)
    Column("entity", String(20), nullable=False),
    Column("uid", String(36), nullable=False),
    Column("customer_id", Text, nullable=True),
    Column("field", String(60), nullable=True),
    Column("base", Text, nullable=True),
    Column("local", Text, nullable=True),
    Column("store", Text, nullable=True),
    Column("other_uid", String(36), nullable=True),  # duplicate: the customer another owner has
    Column("other_owner", String(120), nullable=True),
    Column("who", String(120), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),
)

owners = Table(
    "owners", metadata,
    Column("name", String(120), primary_key=True),
    Column("role", String(20), nullable=False, default="sales"),  # sales | manager
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

store_meta = Table(
    "store_meta", metadata,
    Column("key", String(60), primary_key=True),
    Column("value", Text, nullable=False),
)

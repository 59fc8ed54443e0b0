"""The first schema: record tables, change log, conflicts, owners, store metadata.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The fields as they were at this revision (a later schema field gets its own column on connect,
# see engine.add_new_fields; renames and type changes need a real revision).
FIELDS = {
    "customers": ["customer_id", "company", "contact", "title", "mobile", "phone", "phone2", "fax", "email", "email2",
                  "website", "country", "province", "city", "address", "postcode", "industry", "main_products",
                  "source", "customer_type", "deal_status", "demand", "expected_close", "importance",
                  "credit_rating", "birthday", "tags", "marketing_consent", "notes", "created", "planned_next",
                  "grade_override"],
    "followups": ["customer_id", "date", "channel", "by", "summary", "outcome", "demand", "expected_close",
                  "next_date", "next_step"],
    "purchases": ["customer_id", "order_no", "date", "product", "quantity", "unit_price", "amount", "paid_amount",
                  "payment_due", "status"],
}


def upgrade() -> None:
    for entity, fields in FIELDS.items():
        op.create_table(
            entity,
            sa.Column("uid", sa.String(36), primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_by", sa.String(120), nullable=False),
            sa.Column("owner", sa.String(120), nullable=True),
            sa.Column("deleted", sa.Boolean, nullable=False),
            *[sa.Column(f, sa.Text, nullable=True) for f in fields],
        )
        op.create_index(f"ix_{entity}_owner", entity, ["owner"])
        if entity == "customers":
            op.create_index("ux_customers_customer_id", entity, ["customer_id"], unique=True)
        else:
            op.create_index(f"ix_{entity}_customer_id", entity, ["customer_id"])
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.Text),
        sa.Column("field", sa.String(60), nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
        sa.Column("who", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
    )
    op.create_index("ix_change_log_uid", "change_log", ["uid"])
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.Text),
        sa.Column("field", sa.String(60)),
        sa.Column("base", sa.Text),
        sa.Column("local", sa.Text),
        sa.Column("store", sa.Text),
        sa.Column("other_uid", sa.String(36)),
        sa.Column("other_owner", sa.String(120)),
        sa.Column("who", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.Boolean, nullable=False),
    )
    op.create_table(
        "owners",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(60), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("store_meta", "owners", "conflicts", "change_log", "purchases", "followups", "customers"):
        op.drop_table(name)

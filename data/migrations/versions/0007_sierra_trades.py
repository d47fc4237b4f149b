"""Issue 15: Sierra Chart's own trade list. ``traderecord.sierra`` says where a trade stands against it ("" not
compared, "imported", "agrees", "differs"); ``traderecord.sierra_key`` is an imported trade's identity in
Sierra Chart's list (unique per mode and account, so it is never imported twice); ``sierradifference`` lists
what differs.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("traderecord") as batch:
        batch.add_column(sa.Column("sierra", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("sierra_key", sa.String(240), nullable=True))
    op.create_index("uq_traderecord_sierra_key", "traderecord", ["mode", "account", "sierra_key"], unique=True)
    op.create_table(
        "sierradifference",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("panel_value", sa.String(64), nullable=True),
        sa.Column("sierra_value", sa.String(64), nullable=True),
        sa.Column("entry_time", sa.DateTime, nullable=False),
        sa.Column("exit_time", sa.DateTime, nullable=False),
        sa.Column("trade_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(240), nullable=False),
        sa.Column("found_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("mode", "account", "key", name="uq_sierradifference_key"),
    )


def downgrade() -> None:
    op.drop_table("sierradifference")
    op.drop_index("uq_traderecord_sierra_key", "traderecord")
    with op.batch_alter_table("traderecord") as batch:
        batch.drop_column("sierra_key")
        batch.drop_column("sierra")

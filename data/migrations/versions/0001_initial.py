"""Initial schema (first release): OpenPosition, TradeRecord, FillRecord, PositionEvent.

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

D = sa.String(64)  # exact decimals as text


def upgrade() -> None:
    op.create_table(
        "fillrecord",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("execution_id", sa.String(96), nullable=False),
        sa.Column("server_order_id", sa.String(64), nullable=False),
        sa.Column("quantity", D, nullable=False),
        sa.Column("price", D, nullable=False),
        sa.Column("commission", D, nullable=False),
        sa.Column("time", sa.DateTime, nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("mode", "account", "execution_id", name="uq_fillrecord_execution"),
    )
    op.create_index("ix_fillrecord_scope_time", "fillrecord", ["mode", "account", "symbol", "time"])
    op.create_table(
        "openposition",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("qty", D, nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("entry_price", D, nullable=False),
        sa.Column("cost_basis", D, nullable=False),
        sa.Column("entry_time", sa.DateTime, nullable=False),
        sa.Column("opened_quantity", D, nullable=False),
        sa.Column("opened_value", D, nullable=False),
        sa.Column("closed_quantity", D, nullable=False),
        sa.Column("closed_value", D, nullable=False),
        sa.Column("realized_gross", D, nullable=False),
        sa.Column("commissions", D, nullable=False),
        sa.Column("max_quantity", D, nullable=False),
        sa.Column("trade_min_price", D),
        sa.Column("trade_max_price", D),
        sa.Column("target_price", D),
        sa.Column("stop_price", D),
        sa.Column("entry_vwap", D),
        sa.Column("entry_cum_delta", D),
        sa.Column("entry_poc", D),
        sa.Column("last_fill_time", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("mode", "account", "symbol", name="uq_openposition_scope"),
    )
    op.create_table(
        "positionevent",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("quantity_before", D, nullable=False),
        sa.Column("quantity_after", D, nullable=False),
        sa.Column("avg_entry_after", D),
        sa.Column("realized", D, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
    )
    op.create_index("ix_positionevent_scope_at", "positionevent", ["mode", "account", "symbol", "at"])
    op.create_table(
        "traderecord",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty", D, nullable=False),
        sa.Column("max_qty", D, nullable=False),
        sa.Column("entry_price", D, nullable=False),
        sa.Column("exit_price", D, nullable=False),
        sa.Column("entry_time", sa.DateTime, nullable=False),
        sa.Column("exit_time", sa.DateTime, nullable=False),
        sa.Column("gross_pnl", D, nullable=False),
        sa.Column("commissions", D, nullable=False),
        sa.Column("realized_pnl", D, nullable=False),
        sa.Column("point_value", D, nullable=False),
        sa.Column("trade_min_price", D),
        sa.Column("trade_max_price", D),
        sa.Column("mae", D),
        sa.Column("mfe", D),
        sa.Column("exit_reason", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_traderecord_scope_exit", "traderecord", ["mode", "account", "exit_time"])


def downgrade() -> None:
    for table in ("traderecord", "positionevent", "openposition", "fillrecord"):
        op.drop_table(table)

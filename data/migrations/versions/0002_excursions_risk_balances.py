"""MAE/MFE and the opening fill on open positions; stop, R, efficiencies and entry snapshots on trades; balance history.

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

D = sa.String(64)
TRADE_COLUMNS = (
    "stop_price",
    "target_price",
    "initial_risk",
    "r_multiple",
    "entry_efficiency",
    "exit_efficiency",
    "total_efficiency",
    "entry_vwap",
    "entry_cum_delta",
    "entry_poc",
)


def upgrade() -> None:
    with op.batch_alter_table("openposition") as batch:
        batch.add_column(sa.Column("mae", D))
        batch.add_column(sa.Column("mfe", D))
        batch.add_column(sa.Column("initial_quantity", D))
        batch.add_column(sa.Column("initial_entry", D))
    with op.batch_alter_table("traderecord") as batch:
        for name in TRADE_COLUMNS:
            batch.add_column(sa.Column(name, D))
    op.create_table(
        "accountbalance",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("time", sa.DateTime, nullable=False),
        sa.Column("cash_balance", D),
        sa.Column("securities_value", D),
        sa.Column("daily_pnl", D),
        sa.Column("currency", sa.String(8), nullable=False),
    )
    op.create_index("ix_accountbalance_account_time", "accountbalance", ["account", "time"])


def downgrade() -> None:
    op.drop_table("accountbalance")
    with op.batch_alter_table("traderecord") as batch:
        for name in TRADE_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("openposition") as batch:
        for name in ("initial_entry", "initial_quantity", "mfe", "mae"):
            batch.drop_column(name)

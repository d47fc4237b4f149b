"""Issue 10: per-day summaries of closed trades, so statistics of long periods ("All", a year) read a few
hundred rows instead of every trade. A cache: created empty and filled by the statistics loader.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tradedaysummary",
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("mode", "account", "day"),
    )
    op.create_table(
        "tradesummarymark",
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("covered_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("mode", "account"),
    )


def downgrade() -> None:
    op.drop_table("tradesummarymark")
    op.drop_table("tradedaysummary")

"""Issue 13: trades closed while a position is disputed by Sierra Chart are held apart (``heldtrade``) until
the discrepancy resolves, so no statistic counts a trade of a position Sierra Chart contradicts.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heldtrade",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("held_at", sa.DateTime, nullable=False),
        sa.Column("trade", sa.String(), nullable=False),
    )
    op.create_index("ix_heldtrade_key", "heldtrade", ["mode", "account", "symbol"])


def downgrade() -> None:
    op.drop_index("ix_heldtrade_key", "heldtrade")
    op.drop_table("heldtrade")

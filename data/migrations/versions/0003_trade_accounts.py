"""Trade accounts and when this panel first saw each (fills before that are never imported).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tradeaccount",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tradeaccount")

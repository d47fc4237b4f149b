"""Per trade account, which span of closed trades has been compared with Sierra Chart's trade list: the next
logon asks Sierra Chart only for what is newer (issue 10: a year of trades was asked for and compared after
every logon).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tradeaccount") as batch:
        batch.add_column(sa.Column("sierra_checked_from", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("sierra_checked_until", sa.DateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tradeaccount") as batch:
        batch.drop_column("sierra_checked_until")
        batch.drop_column("sierra_checked_from")

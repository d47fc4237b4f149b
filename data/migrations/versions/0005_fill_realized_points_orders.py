"""Issue 11: what each fill realized (today's P&L includes partial exits), MAE/MFE in points and the tick, the
order that opened a trade (initial risk over all its fills), what fills' and trades' money is in (``pnl_unit``),
and the indexes the matching of fills without execution ids and today's sums need.

``fillrecord.realized_gross`` of fills stored before is filled in from their audit event (``positionevent``
rows carry the gross P&L each fill realized, with source ``<fill source>:<execution id>``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

D = sa.String(64)  # Decimals as exact text (data.types.DecimalText)


def upgrade() -> None:
    with op.batch_alter_table("fillrecord") as batch:
        batch.add_column(sa.Column("realized_gross", D, nullable=True))
        batch.add_column(sa.Column("pnl_unit", sa.String(8), nullable=False, server_default=""))
    with op.batch_alter_table("openposition") as batch:
        batch.add_column(sa.Column("mae_points", D, nullable=True))
        batch.add_column(sa.Column("mfe_points", D, nullable=True))
        batch.add_column(sa.Column("opening_order_id", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("traderecord") as batch:
        batch.add_column(sa.Column("mae_points", D, nullable=True))
        batch.add_column(sa.Column("mfe_points", D, nullable=True))
        batch.add_column(sa.Column("tick_size", D, nullable=True))
        batch.add_column(sa.Column("pnl_unit", sa.String(8), nullable=False, server_default=""))
    op.create_index("ix_fillrecord_account_time", "fillrecord", ["mode", "account", "time"])
    op.create_index("ix_fillrecord_order", "fillrecord", ["mode", "account", "server_order_id"])
    # one pass over the events by source (a temporary index), not a scan of them per fill
    op.create_index("tmp_positionevent_source", "positionevent", ["mode", "account", "source"])
    op.execute(
        """
        UPDATE fillrecord SET realized_gross = (
            SELECT e.realized FROM positionevent AS e
            WHERE e.mode = fillrecord.mode AND e.account = fillrecord.account
              AND e.source = fillrecord.source || ':' || fillrecord.execution_id
              AND e.symbol = fillrecord.symbol
            ORDER BY e.id LIMIT 1
        )
        """
    )
    op.drop_index("tmp_positionevent_source", "positionevent")


def downgrade() -> None:
    op.drop_index("ix_fillrecord_order", "fillrecord")
    op.drop_index("ix_fillrecord_account_time", "fillrecord")
    with op.batch_alter_table("traderecord") as batch:
        batch.drop_column("pnl_unit")
        batch.drop_column("tick_size")
        batch.drop_column("mfe_points")
        batch.drop_column("mae_points")
    with op.batch_alter_table("openposition") as batch:
        batch.drop_column("opening_order_id")
        batch.drop_column("mfe_points")
        batch.drop_column("mae_points")
    with op.batch_alter_table("fillrecord") as batch:
        batch.drop_column("pnl_unit")
        batch.drop_column("realized_gross")

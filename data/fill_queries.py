"""Column queries over ``fillrecord`` for today's realized P&L (issue 11): no ORM objects.

Today's realized P&L of a scope is the sum, over its fills since the trading day's start, of the gross P&L
each fill realized (``realized_gross``: 0 for a fill that opens or adds) less its commission — so a partial
exit of a trade that is still open counts on the day it happened, and a trade opened yesterday and closed
today counts only what today's fills realized. Money in account currency: fills whose money is in another
unit (``pnl_unit``: points × contracts, or another currency) are left out, never summed with it; times UTC.

Safe from any thread: each call checks a connection out of the engine's pool and returns it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from data.repository import StorageError
from data.trade_queries import stored_time

_SINCE_SQL = """
WITH top AS (SELECT max(id) AS newest FROM fillrecord)
SELECT top.newest, f.realized_gross, f.commission
FROM top LEFT JOIN fillrecord AS f
  ON f.mode = ? AND f.account = ? AND f.time >= ? AND f.id <= top.newest AND f.pnl_unit = ''
"""
# one statement: the sum and the newest id come from the same snapshot of the table

_AFTER_SQL = (
    "SELECT id, mode, account, time, realized_gross, commission, pnl_unit FROM fillrecord WHERE id > ? ORDER BY id"
)
# by primary key only: the cost is the number of fills stored since, whatever the history's length


def _net(realized: str | None, commission: str | None) -> Decimal:
    return (Decimal(realized) if realized else Decimal(0)) - (Decimal(commission) if commission else Decimal(0))


def realized_since(engine: Engine, mode: str, account: str, since: datetime) -> tuple[int, Decimal]:
    """(newest fill id of any scope, Σ realized − commission of (``mode``, ``account``)'s fills with time ≥
    ``since``). Raises ``StorageError`` if the fills cannot be read or a stored value is not a number;
    ``ValueError`` if ``since`` is naive."""
    try:
        conn = engine.raw_connection()
        try:
            rows = conn.cursor().execute(_SINCE_SQL, (mode, account, stored_time(since))).fetchall()
        finally:
            conn.close()
        newest = int(rows[0][0] or 0) if rows else 0
        return newest, sum((_net(r, c) for _, r, c in rows if r is not None or c is not None), Decimal(0))
    except (sqlite3.Error, SQLAlchemyError) as exc:
        raise StorageError(f"cannot read fills: {exc.__class__.__name__}: {exc}") from exc
    except ArithmeticError as exc:
        raise StorageError(f"cannot read fills: a stored value is not valid: {exc}") from exc


def realized_after(engine: Engine, mode: str, account: str, since: datetime, after_id: int) -> tuple[int, Decimal]:
    """(newest fill id read, or ``after_id``; Σ realized − commission of the fills of (``mode``, ``account``)
    stored after ``after_id`` whose time is ≥ ``since``). Raises like ``realized_since``."""
    since_text = stored_time(since)
    try:
        conn = engine.raw_connection()
        try:
            rows = conn.cursor().execute(_AFTER_SQL, (after_id,)).fetchall()
        finally:
            conn.close()
        total = sum(
            (_net(r, c) for _, m, a, t, r, c, u in rows if m == mode and a == account and t >= since_text and not u),
            Decimal(0),
        )
        return (rows[-1][0] if rows else after_id), total
    except (sqlite3.Error, SQLAlchemyError) as exc:
        raise StorageError(f"cannot read fills: {exc.__class__.__name__}: {exc}") from exc
    except ArithmeticError as exc:
        raise StorageError(f"cannot read fills: a stored value is not valid: {exc}") from exc

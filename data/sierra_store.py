"""Storage of what Sierra Chart's own trade list (HISTORICAL_TRADES_RESPONSE 10102) brought (issue 15).

- The panel's trades to compare (``panel_trades``): closed trades computed from fills, with the execution ids of
  the fills that opened and closed them (the stored fill at the trade's entry/exit time).
- ``record`` stores, in ONE transaction: trades imported from Sierra Chart (``TradeRecord`` rows with
  ``sierra`` = "imported" and a unique ``sierra_key``: one already stored is skipped, so a restart never
  imports it twice), the comparison result of compared trades (``sierra`` = "agrees"/"differs" — their
  figures are never changed), the new ``SierraDifference`` rows (one found again is skipped), the removal of
  differences that now agree, and their ``PositionEvent`` audit rows (only for what is new or removed).
- ``differences`` and ``imported_count`` read them back.

Plain column values in and out; nothing here imports ``core/``. Times UTC; money in account currency; prices
points; quantities contracts. Every method raises ``StorageError`` when the database refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from data.models import PositionEvent, SierraDifference, TradeAccount, TradeRecord
from data.repository import StorageError
from data.trade_queries import Decimals, raw_cursor, stored_time


@dataclass(frozen=True)
class PanelTrade:
    """A closed trade computed from fills, as compared with Sierra Chart's (``TradeRecord`` columns)."""

    id: int
    symbol: str
    side: str
    qty: Decimal
    max_qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_time: datetime
    exit_time: datetime
    gross_pnl: Decimal
    commissions: Decimal
    mae: Decimal | None
    mfe: Decimal | None
    pnl_unit: str
    sierra: str
    open_execution_id: str
    """Execution id of the stored fill at ``entry_time`` ("" if none is stored)."""
    close_execution_id: str
    """Execution id of the stored fill at ``exit_time`` ("" if none is stored)."""


@dataclass(frozen=True)
class Recorded:
    """What ``record`` stored: trades imported now, new differences (already stored ones not counted)."""

    imported: int
    differences: int
    marked: int = 0
    """Compared trades whose mark ("agrees"/"differs") is new or changed."""
    resolved: int = 0
    """Stored differences removed because they now agree."""


_TRADE_FIELDS = (
    "symbol", "side", "qty", "max_qty", "entry_price", "exit_price", "entry_time", "exit_time", "gross_pnl",
    "commissions", "mae", "mfe", "pnl_unit", "sierra",
)  # fmt: skip


class SierraTradeStore:
    """Reads and writes the Sierra Chart trade-list tables of one database (any thread; each call uses its own
    session)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def panel_trades(self, mode: str, account: str, since: datetime, until: datetime) -> list[PanelTrade]:
        """Trades of (mode, account) computed from fills (not imported) with ``since`` ≤ exit ≤ ``until``,
        oldest exit first, each with the execution ids of the first stored fill at its entry time and the last
        at its exit time (same symbol).

        Plain SQL: the fills are looked up per trade by SQLite in the (mode, account, symbol, time) index, and
        each distinct number is parsed once, so a year of trades reads in about a second, not several (it is
        read on the first logon, on a worker thread that shares the interpreter with the window)."""
        fill_at = (
            "(SELECT f.execution_id FROM fillrecord f WHERE f.mode = t.mode AND f.account = t.account "
            "AND f.symbol = t.symbol AND f.time = t.{time} ORDER BY f.id {order} LIMIT 1)"
        )
        sql = (
            f"SELECT t.id, {', '.join('t.' + name for name in _TRADE_FIELDS)}, "
            f"{fill_at.format(time='entry_time', order='ASC')}, {fill_at.format(time='exit_time', order='DESC')} "
            "FROM traderecord t WHERE t.mode = ? AND t.account = ? AND t.sierra != 'imported' "
            "AND t.exit_time >= ? AND t.exit_time <= ? ORDER BY t.exit_time, t.id"
        )
        with raw_cursor(self._engine, "read trades to compare") as cursor:
            rows = cursor.execute(sql, (mode, account, stored_time(since), stored_time(until))).fetchall()
        number = Decimals({None: None})  # each distinct stored number parsed once; NULL → None
        times: dict[str, datetime] = {}

        def time(text: str) -> datetime:
            value = times.get(text)
            if value is None:
                value = times[text] = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return value

        out = []
        for r in rows:
            trade = PanelTrade(
                id=r[0], symbol=r[1], side=r[2], qty=number[r[3]], max_qty=number[r[4]], entry_price=number[r[5]],
                exit_price=number[r[6]], entry_time=time(r[7]), exit_time=time(r[8]), gross_pnl=number[r[9]],
                commissions=number[r[10]], mae=number[r[11]], mfe=number[r[12]], pnl_unit=r[13], sierra=r[14],
                open_execution_id=r[15] or "", close_execution_id=r[16] or "",
            )  # fmt: skip
            out.append(trade)
        return out

    def checked_span(self, account: str) -> tuple[datetime, datetime] | None:
        """(from, until) UTC: every trade of ``account`` that exited between them has been compared with Sierra
        Chart's list (``TradeAccount.sierra_checked_from``/``_until``); None before the first complete answer."""
        try:
            with Session(self._engine) as session:
                row = session.get(TradeAccount, account)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read what was compared with Sierra Chart: {exc}") from exc
        if row is None or row.sierra_checked_from is None or row.sierra_checked_until is None:
            return None
        return row.sierra_checked_from, row.sierra_checked_until

    def record(
        self,
        imports: Sequence[dict[str, Any]],
        checks: dict[int, str],
        differences: Sequence[dict[str, Any]],
        events: Sequence[dict[str, Any]],
        checked: tuple[str, datetime, datetime] | None = None,
        resolved: tuple[str, str, Sequence[str]] = ("", "", ()),
    ) -> Recorded:
        """Store one account's comparison in one transaction.

        ``imports``: ``TradeRecord`` column dicts with ``sierra`` "imported" and a ``sierra_key``;
        ``checks``: trade id → "agrees"/"differs"; ``differences``: ``SierraDifference`` column dicts;
        ``events``: ``PositionEvent`` column dicts, each with an extra ``"_key"``: the ``sierra_key`` (import) or
        difference ``key`` it belongs to — written only if that row is new; ``checked``: (account, from, until)
        — the span now compared (``checked_span``), stored with the rest so it never claims more than is stored;
        ``resolved``: (mode, account, difference keys) — stored differences that now agree: removed from the list
        (their events are written only for rows that were still there)."""
        try:
            with Session(self._engine) as session, session.begin():
                if checked is not None:
                    account, since, until = checked
                    session.execute(
                        update(TradeAccount)
                        .where(col(TradeAccount.account) == account)
                        .values(sierra_checked_from=since, sierra_checked_until=until)
                    )
                new_keys: set[str] = set()
                imported = 0
                for row in imports:
                    result = session.execute(
                        insert(TradeRecord.__table__).values(**row).on_conflict_do_nothing()  # type: ignore[attr-defined]
                    )
                    if result.rowcount:
                        imported += 1
                        new_keys.add(str(row["sierra_key"]))
                marked = 0
                for trade_id, verdict in checks.items():
                    result = session.execute(
                        update(TradeRecord)
                        .where(col(TradeRecord.id) == trade_id, col(TradeRecord.sierra) != verdict)
                        .values(sierra=verdict)
                    )
                    marked += result.rowcount
                found = 0
                for row in differences:
                    result = session.execute(
                        insert(SierraDifference.__table__).values(**row).on_conflict_do_nothing()  # type: ignore[attr-defined]
                    )
                    if result.rowcount:
                        found += 1
                        new_keys.add(str(row["key"]))
                mode, account_, keys = resolved
                removed = 0
                for key in keys:
                    result = session.execute(
                        delete(SierraDifference).where(
                            col(SierraDifference.mode) == mode,
                            col(SierraDifference.account) == account_,
                            col(SierraDifference.key) == key,
                        )
                    )
                    if result.rowcount:
                        new_keys.add(key)
                        removed += 1
                fresh = [{k: v for k, v in e.items() if k != "_key"} for e in events if e["_key"] in new_keys]
                if fresh:
                    session.execute(insert(PositionEvent.__table__), fresh)
                return Recorded(imported, found, marked, removed)
        except SQLAlchemyError as exc:
            detail = getattr(exc, "orig", None) or exc
            raise StorageError(f"cannot store Sierra Chart's trades: {exc.__class__.__name__}: {detail}") from exc

    def stored_differences(self, mode: str, account: str) -> list[SierraDifference]:
        """Every difference stored for (mode, account) (the resolved ones are removed: a few rows at most)."""
        try:
            with Session(self._engine) as session:
                rows = session.exec(
                    select(SierraDifference).where(
                        col(SierraDifference.mode) == mode, col(SierraDifference.account) == account
                    )
                ).all()
                return list(rows)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the differences with Sierra Chart: {exc}") from exc

    def differences(self, limit: int = 1000) -> list[SierraDifference]:
        """The newest ``limit`` differences of every account, newest exit first."""
        try:
            with Session(self._engine) as session:
                rows = session.exec(
                    select(SierraDifference)
                    .order_by(col(SierraDifference.exit_time).desc(), col(SierraDifference.id).desc())
                    .limit(limit)
                ).all()
                return list(rows)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the differences with Sierra Chart: {exc}") from exc

    def imported_count(self, mode: str, account: str, since: datetime | None) -> int:
        """How many imported trades of (mode, account) exited at or after ``since`` (all if ``None``). Walks only
        the imported rows (the ``sierra_key`` index: ``+exit_time`` keeps SQLite off the exit-time index, which
        would visit every trade of the period), so it costs the same with ten trades or a hundred thousand."""
        sql = "SELECT count(*) FROM traderecord WHERE mode = ? AND account = ? AND sierra_key IS NOT NULL"
        params: tuple[str, ...] = (mode, account)
        if since is not None:
            sql += " AND +exit_time >= ?"
            params += (stored_time(since),)
        try:
            with self._engine.connect() as conn:
                return int(conn.exec_driver_sql(sql, params).scalar() or 0)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot count imported trades: {exc}") from exc

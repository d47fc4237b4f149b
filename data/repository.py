"""``PositionStore``: the only code that reads and writes the trading tables.

A group of fills is stored in one transaction (``commit_batch``) — the ``FillRecord`` rows, the final
``OpenPosition`` state of each touched position, the ``TradeRecord`` rows of closed trades and the
``PositionEvent`` audit rows — so a crash leaves the state before or after the group, never between.
It stores plain column values: the mapping from the accounting types lives in ``core/records.py``, and
nothing here imports ``core/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, or_, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col, select

from data.models import (
    AccountBalance,
    FillRecord,
    HeldTrade,
    OpenPosition,
    PositionEvent,
    TradeAccount,
    TradeRecord,
)


def _unindexed(column: Any) -> Any:
    """``column || ''``: the same value, but SQLite then cannot use an index on it — so a query for the rows
    stored after an id walks the primary key from that id (the rows since) instead of the scope's whole index
    (every stored row of the account: 56 ms for 100,000 trades, on every trade closed)."""
    return col(column) + ""


class StorageError(RuntimeError):
    """The database refused a write or read (locked, read-only, disk full, corrupt). Retry later."""


class DuplicateFill(Exception):
    """The fill's execution id is already stored for (mode, account): applying it again is a no-op."""


@dataclass(frozen=True)
class PositionWrite:
    """The final state of one (mode, account, symbol) after a batch: ``values`` are the ``OpenPosition``
    columns (``None``: the position is flat, the row goes); ``recreate`` replaces the row (a trade closed
    in the batch, so the open position is a new one)."""

    mode: str
    account: str
    symbol: str
    values: dict[str, Any] | None
    recreate: bool = False


@dataclass(frozen=True)
class StoredFill:
    """What a stored fill carries for matching a fill that comes back under another execution id:
    quantity signed contracts, price points, time UTC."""

    execution_id: str
    source: str
    symbol: str
    server_order_id: str
    quantity: Decimal
    price: Decimal
    time: datetime


@dataclass(frozen=True)
class FillRename:
    """Give the stored fill ``old_id`` of (mode, account) its real execution id ``new_id`` and ``source``."""

    mode: str
    account: str
    old_id: str
    new_id: str
    source: str


# Statements of the fill path, built once: building one costs more than running it (~0.3 ms of SQLAlchemy
# expression work per statement, per fill); SQLAlchemy caches their compiled form. The key's parameters are
# named k_* because the column names are taken by the VALUES / SET parameters.
_POSITIONS: Any = OpenPosition.__table__
_POSITION_KEY = and_(
    _POSITIONS.c.mode == bindparam("k_mode"),
    _POSITIONS.c.account == bindparam("k_account"),
    _POSITIONS.c.symbol == bindparam("k_symbol"),
)
_POSITION_QTY = select(_POSITIONS.c.qty).where(_POSITION_KEY)
_UPDATE_POSITION = update(_POSITIONS).where(_POSITION_KEY)
_DELETE_POSITION = delete(_POSITIONS).where(_POSITION_KEY)
_INSERT_POSITION = insert(_POSITIONS)
_INSERT_FILLS = insert(FillRecord.__table__)
_INSERT_TRADES = insert(TradeRecord.__table__)
_INSERT_HELD = insert(HeldTrade.__table__)
_INSERT_EVENTS = insert(PositionEvent.__table__)
_INSERT_BALANCES = insert(AccountBalance.__table__)
_FILLS: Any = FillRecord.__table__
_RENAME_FILL = update(_FILLS).where(
    _FILLS.c.mode == bindparam("k_mode"),
    _FILLS.c.account == bindparam("k_account"),
    _FILLS.c.execution_id == bindparam("k_old_id"),
)
_STORED_FILLS = select(_FILLS.c.execution_id, _FILLS.c.quantity, _FILLS.c.price).where(
    _FILLS.c.mode == bindparam("k_mode"),
    _FILLS.c.account == bindparam("k_account"),
    _FILLS.c.execution_id.in_(bindparam("ids", expanding=True)),
)
_TRADES_AFTER = (
    select(TradeRecord)
    .where(
        col(TradeRecord.id) > bindparam("after_id"),
        _unindexed(TradeRecord.mode) == bindparam("k_mode"),
        _unindexed(TradeRecord.account) == bindparam("k_account"),
    )
    .order_by(col(TradeRecord.id))
)


def _position_key(mode: str, account: str, symbol: str) -> dict[str, str]:
    """The parameters of ``_POSITION_KEY``."""
    return {"k_mode": mode, "k_account": account, "k_symbol": symbol}


def _write_position(conn: Connection, write: PositionWrite, now: datetime) -> None:
    """Apply one ``PositionWrite`` in ``conn``'s transaction: the row goes (flat), is replaced (``recreate``),
    or is updated in place, or inserted if there was none."""
    key = _position_key(write.mode, write.account, write.symbol)
    if write.values is None or write.recreate:
        conn.execute(_DELETE_POSITION, key)
    if write.values is None:
        return
    values = {**write.values, "updated_at": now}
    if not write.recreate and conn.execute(_UPDATE_POSITION, {**values, **key}).rowcount:
        return
    conn.execute(_INSERT_POSITION, {**values, "mode": write.mode, "account": write.account, "symbol": write.symbol})


class PositionStore:
    """Repository over the SQLite engine. Methods raise ``StorageError`` when the database fails."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def open_position_rows(self) -> list[OpenPosition]:
        """Every ``OpenPosition`` row, for recovery on startup. Raises ``StorageError``."""
        try:
            with Session(self._engine, expire_on_commit=False) as session:
                rows = list(session.exec(select(OpenPosition)).all())
                session.expunge_all()
                return rows
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read open positions: {exc.__class__.__name__}: {exc}") from exc

    def existing_execution_ids(self, mode: str, account: str, execution_ids: Iterable[str]) -> set[str]:
        """Which of ``execution_ids`` are already stored for (mode, account). Raises ``StorageError``."""
        return set(self.stored_fills(mode, account, execution_ids))

    def stored_fills(self, mode: str, account: str, execution_ids: Iterable[str]) -> dict[str, tuple[Decimal, Decimal]]:
        """The stored fills of (mode, account) among ``execution_ids``: execution id → (signed quantity in
        contracts, price in points). One indexed query per 500 ids. Raises ``StorageError``."""
        wanted = list(dict.fromkeys(execution_ids))
        found: dict[str, tuple[Decimal, Decimal]] = {}
        try:
            with self._engine.connect() as conn:
                for i in range(0, len(wanted), 500):
                    params = {"k_mode": mode, "k_account": account, "ids": wanted[i : i + 500]}
                    found.update((e, (q, p)) for e, q, p in conn.execute(_STORED_FILLS, params))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read fills: {exc.__class__.__name__}: {exc}") from exc
        return found

    def order_fills(self, mode: str, account: str, server_order_ids: Iterable[str]) -> list[StoredFill]:
        """Every stored fill of (mode, account) of the orders ``server_order_ids`` (index on the order id; an
        order has a handful of fills). Raises ``StorageError``."""
        wanted = [o for o in dict.fromkeys(server_order_ids) if o]
        out: list[StoredFill] = []
        try:
            with self._engine.connect() as conn:
                for i in range(0, len(wanted), 500):
                    stmt = select(
                        FillRecord.execution_id,
                        FillRecord.source,
                        FillRecord.symbol,
                        FillRecord.server_order_id,
                        FillRecord.quantity,
                        FillRecord.price,
                        FillRecord.time,
                    ).where(
                        FillRecord.mode == mode,
                        FillRecord.account == account,
                        col(FillRecord.server_order_id).in_(wanted[i : i + 500]),
                    )
                    out.extend(StoredFill(*row) for row in conn.execute(stmt))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read fills: {exc.__class__.__name__}: {exc}") from exc
        return out

    def commit_batch(
        self,
        fills: Sequence[dict[str, Any]],
        trades: Sequence[dict[str, Any]],
        events: Sequence[dict[str, Any]],
        positions: Sequence[PositionWrite],
        now: datetime,
        balances: Sequence[dict[str, Any]] = (),
        renames: Sequence[FillRename] = (),
        held_trades: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Store a group of fills and what they did in ONE transaction (group commit, one fsync): the
        ``FillRecord`` rows, the ``TradeRecord`` rows of trades they closed, the ``PositionEvent`` audit rows
        and the final ``OpenPosition`` state of every (mode, account, symbol) they touched, plus the
        ``AccountBalance`` history rows that arrived with them, and the ``renames`` of stored fills whose
        real execution id became known (a live fill stored under a derived id, found again in history), and the
        ``HeldTrade`` rows of trades closed while their position is disputed (``data.held_trades``). Rows are
        plain column dicts. A crash leaves all of it or none of it.

        Raises ``DuplicateFill`` if an execution id is already stored (nothing is written; the caller
        checks ``existing_execution_ids`` first, so this means a race) and ``StorageError`` for any database
        failure (nothing is written).
        """
        try:
            with self._engine.begin() as conn:
                for r in renames:
                    conn.execute(
                        _RENAME_FILL,
                        {"k_mode": r.mode, "k_account": r.account, "k_old_id": r.old_id, "execution_id": r.new_id,
                         "source": r.source},
                    )  # fmt: skip
                for statement, rows in ((_INSERT_FILLS, fills), (_INSERT_TRADES, trades), (_INSERT_HELD, held_trades)):
                    if rows:
                        conn.execute(statement, list(rows))
                for write in positions:
                    _write_position(conn, write, now)
                for statement, rows in ((_INSERT_EVENTS, events), (_INSERT_BALANCES, balances)):
                    if rows:
                        conn.execute(statement, list(rows))
        except IntegrityError as exc:
            if "uq_fillrecord_execution" in str(exc) or "fillrecord.execution_id" in str(exc):
                raise DuplicateFill(str(exc.orig)) from exc
            raise StorageError(f"integrity error storing fills: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            detail = getattr(exc, "orig", None) or exc
            raise StorageError(f"cannot store fills: {exc.__class__.__name__}: {detail}") from exc

    def first_seen(self, accounts: list[tuple[str, str]], now: datetime) -> dict[str, datetime]:
        """When each (account, mode) was first seen. An unseen one is recorded as seen at its earliest stored
        fill, or at ``now`` if it has none."""
        try:
            with Session(self._engine) as session, session.begin():
                out: dict[str, datetime] = {}
                for account, mode in accounts:
                    row = session.get(TradeAccount, account)
                    if row is None:
                        # an account first met through its fills was "seen" at its earliest stored fill
                        earliest = session.exec(
                            select(FillRecord.time)
                            .where(FillRecord.mode == mode, FillRecord.account == account)
                            .order_by(col(FillRecord.time))
                            .limit(1)
                        ).first()
                        seen = min(now, earliest) if earliest is not None else now
                        row = TradeAccount(account=account, mode=mode, first_seen=seen)
                        session.add(row)
                    out[account] = row.first_seen
                return out
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot record trade accounts: {exc.__class__.__name__}: {exc}") from exc

    def history_until(self, account: str) -> datetime | None:
        """Until when every fill of ``account`` is stored (``TradeAccount.history_until``). Raises
        ``StorageError``."""
        try:
            with Session(self._engine) as session:
                row = session.get(TradeAccount, account)
                return row.history_until if row is not None else None
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read trade accounts: {exc.__class__.__name__}: {exc}") from exc

    def set_history_until(self, account: str, until: datetime) -> None:
        """Record that every fill of ``account`` up to ``until`` is stored (it never moves back). Raises
        ``StorageError``."""
        try:
            with Session(self._engine) as session, session.begin():
                row = session.get(TradeAccount, account)
                if row is not None and (row.history_until is None or row.history_until < until):
                    row.history_until = until
                    session.add(row)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot record trade accounts: {exc.__class__.__name__}: {exc}") from exc

    def last_fill_time(self, mode: str, account: str) -> datetime | None:
        """Time of the newest stored fill of (mode, account), to ask the server for fills since then."""
        try:
            with Session(self._engine) as session:
                stmt = (
                    select(FillRecord.time)
                    .where(FillRecord.mode == mode, FillRecord.account == account)
                    .order_by(col(FillRecord.time).desc())
                    .limit(1)
                )
                return session.exec(stmt).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read fills: {exc.__class__.__name__}: {exc}") from exc

    def replace_position_row(
        self, mode: str, account: str, symbol: str, values: dict[str, Any] | None, event: dict[str, Any]
    ) -> None:
        """Set (``values``) or remove (``None``) the open position of (mode, account, symbol) without a fill,
        with its audit ``event`` (its ``quantity_before`` is taken from the stored row), in one transaction
        (reconciliation decisions, legacy import). Raises ``StorageError``."""
        try:
            with self._engine.begin() as conn:
                key = _position_key(mode, account, symbol)
                before = conn.execute(_POSITION_QTY, key).scalar()
                _write_position(conn, PositionWrite(mode, account, symbol, values), event["at"])
                quantity_before = before if before is not None else Decimal(0)
                conn.execute(_INSERT_EVENTS, [{**event, "quantity_before": quantity_before}])
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot store the decision: {exc.__class__.__name__}: {exc}") from exc

    def fills_for(
        self,
        mode: str,
        account: str,
        symbol: str,
        received_after: datetime | None = None,
        after_execution_id: str | None = None,
    ) -> list[FillRecord]:
        """Stored fills of (mode, account, symbol) in the order they were applied — optionally only those
        received after ``received_after``, or applied after the fill ``after_execution_id`` (fills of one
        group commit share their ``received_at``, so order within a group is the row order)."""
        try:
            with Session(self._engine) as session:
                stmt = select(FillRecord).where(
                    FillRecord.mode == mode, FillRecord.account == account, FillRecord.symbol == symbol
                )
                if received_after is not None:
                    stmt = stmt.where(col(FillRecord.received_at) > received_after)
                if after_execution_id is not None:
                    after = select(FillRecord.id).where(
                        FillRecord.mode == mode,
                        FillRecord.account == account,
                        FillRecord.execution_id == after_execution_id,
                    )
                    stmt = stmt.where(col(FillRecord.id) > after.scalar_subquery())
                return list(session.exec(stmt.order_by(col(FillRecord.id))).all())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read fills: {exc.__class__.__name__}: {exc}") from exc

    def _add(self, row: SQLModel, what: str) -> None:
        """Insert one row in its own transaction. Raises ``StorageError``."""
        try:
            with Session(self._engine) as session, session.begin():
                session.add(row)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot store {what}: {exc.__class__.__name__}: {exc}") from exc

    def add_event(self, event: PositionEvent) -> None:
        self._add(event, "event")

    def last_baseline_event(self, mode: str, account: str, symbol: str) -> PositionEvent | None:
        """The newest event from which the fills of (mode, account, symbol) fold to its open position: the
        last close to flat (``closed``) or the trader's last reconciliation decision; ``None`` if neither.
        Walks the (mode, account, symbol, at) index backwards, so it costs the same for any history length."""
        try:
            with Session(self._engine) as session:
                stmt = (
                    select(PositionEvent)
                    .where(
                        PositionEvent.mode == mode,
                        PositionEvent.account == account,
                        PositionEvent.symbol == symbol,
                        or_(
                            PositionEvent.kind == "closed",
                            and_(PositionEvent.kind == "reconciled", PositionEvent.source == "trader"),
                        ),
                    )
                    .order_by(col(PositionEvent.at).desc(), col(PositionEvent.id).desc())
                    .limit(1)
                )
                return session.exec(stmt).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read events: {exc.__class__.__name__}: {exc}") from exc

    def recent_events(self, limit: int) -> list[PositionEvent]:
        """The newest ``limit`` audit events of every position, oldest first (the notification feed of a
        restart). Raises ``StorageError``."""
        try:
            with Session(self._engine) as session:
                stmt = select(PositionEvent).order_by(col(PositionEvent.id).desc()).limit(limit)
                return list(reversed(session.exec(stmt).all()))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read events: {exc.__class__.__name__}: {exc}") from exc

    def events(self, mode: str, account: str, symbol: str) -> list[PositionEvent]:
        """The audit trail of (mode, account, symbol), oldest first."""
        with Session(self._engine) as session:
            stmt = select(PositionEvent).where(
                PositionEvent.mode == mode, PositionEvent.account == account, PositionEvent.symbol == symbol
            )
            return list(session.exec(stmt.order_by(col(PositionEvent.id))).all())

    def update_marks(self, mode: str, account: str, symbol: str, values: dict[str, Any], now: datetime) -> None:
        """Write changed columns (price extremes, MAE/MFE, bracket) of an open position; a flat one is left
        alone. Raises ``StorageError``."""
        try:
            with self._engine.begin() as conn:  # a flat position has no row: nothing is updated
                key = _position_key(mode, account, symbol)
                conn.execute(_UPDATE_POSITION, {**values, "updated_at": now, **key})
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot store excursions: {exc.__class__.__name__}: {exc}") from exc

    def trades_since(self, mode: str, account: str, since: datetime | None) -> list[TradeRecord]:
        """Closed trades of (mode, account) with ``exit_time`` ≥ ``since`` (all if ``None``), oldest first.
        Uses the (mode, account, exit_time) index."""
        try:
            with Session(self._engine) as session:
                stmt = select(TradeRecord).where(TradeRecord.mode == mode, TradeRecord.account == account)
                if since is not None:
                    stmt = stmt.where(col(TradeRecord.exit_time) >= since)
                return list(session.exec(stmt.order_by(col(TradeRecord.exit_time), col(TradeRecord.id))).all())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read trades: {exc.__class__.__name__}: {exc}") from exc

    def trades_after(self, mode: str, account: str, after_id: int) -> list[TradeRecord]:
        """Closed trades of (mode, account) stored after the trade with id ``after_id``, in id order. A range
        of the primary key filtered in SQL: it costs the rows stored since, not the history."""
        try:
            with Session(self._engine) as session:
                params = {"after_id": after_id, "k_mode": mode, "k_account": account}
                return list(session.exec(_TRADES_AFTER, params=params).all())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read trades: {exc.__class__.__name__}: {exc}") from exc

    def balances_after(self, account: str, after_id: int) -> list[AccountBalance]:
        """Balance history of ``account`` stored after the row with id ``after_id``, in id order."""
        try:
            with Session(self._engine) as session:
                stmt = (
                    select(AccountBalance)
                    .where(col(AccountBalance.id) > after_id, _unindexed(AccountBalance.account) == account)
                    .order_by(col(AccountBalance.id))
                )
                return list(session.exec(stmt).all())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read balances: {exc.__class__.__name__}: {exc}") from exc

    def newest_balance_id(self) -> int:
        """The largest ``accountbalance.id`` (0 if none). Raises ``StorageError``."""
        try:
            with Session(self._engine) as session:
                return int(session.exec(select(func.max(AccountBalance.id))).one() or 0)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read balances: {exc.__class__.__name__}: {exc}") from exc

    def balances_since(self, account: str, since: datetime | None) -> list[AccountBalance]:
        """Balance history of ``account`` from ``since`` (all if ``None``), oldest first."""
        try:
            with Session(self._engine) as session:
                stmt = select(AccountBalance).where(AccountBalance.account == account)
                if since is not None:
                    stmt = stmt.where(col(AccountBalance.time) >= since)
                return list(session.exec(stmt.order_by(col(AccountBalance.time), col(AccountBalance.id))).all())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read balances: {exc.__class__.__name__}: {exc}") from exc

    def add_balance(self, row: AccountBalance) -> None:
        self._add(row, "balance")

    def trades(self, mode: str | None = None, account: str | None = None) -> list[TradeRecord]:
        """Closed trades, oldest first, optionally for one scope."""
        with Session(self._engine) as session:
            stmt = select(TradeRecord)
            if mode is not None:
                stmt = stmt.where(TradeRecord.mode == mode)
            if account is not None:
                stmt = stmt.where(TradeRecord.account == account)
            return list(session.exec(stmt.order_by(col(TradeRecord.exit_time), col(TradeRecord.id))).all())

    def trades_exited_since(
        self, since: datetime, mode: str | None = None, account: str | None = None, limit: int = 1000
    ) -> list[TradeRecord]:
        """Closed trades with ``exit_time`` ≥ ``since`` (optionally of one mode / account), oldest exit first,
        at most ``limit`` (the local API's ``GET /trades``). Raises ``StorageError``."""
        try:
            with Session(self._engine) as session:
                stmt = select(TradeRecord).where(col(TradeRecord.exit_time) >= since)
                if mode is not None:
                    stmt = stmt.where(TradeRecord.mode == mode)
                if account is not None:
                    stmt = stmt.where(TradeRecord.account == account)
                stmt = stmt.order_by(col(TradeRecord.exit_time), col(TradeRecord.id)).limit(limit)
                return list(session.exec(stmt).all())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read trades: {exc.__class__.__name__}: {exc}") from exc

"""``PositionStore``: the only code that reads and writes the trading tables.

Each fill is stored in one transaction — the ``FillRecord``, the ``OpenPosition`` upsert or delete, the
``TradeRecord`` when a trade closes, and the ``PositionEvent`` — so a crash leaves the state before or
after the fill, never between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, and_, or_
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col, select

from core.accounting import ClosedTrade, Fill, FillOutcome, Position
from data.models import (
    AccountBalance,
    FillRecord,
    OpenPosition,
    PositionEvent,
    TradeAccount,
    TradeRecord,
    utcnow,
)


class StorageError(RuntimeError):
    """The database refused a write or read (locked, read-only, disk full, corrupt). Retry later."""


class DuplicateFill(Exception):
    """The fill's execution id is already stored for (mode, account): applying it again is a no-op."""


@dataclass(frozen=True)
class StoredPosition:
    """An open position as loaded from ``OpenPosition``, with its scope."""

    mode: str
    position: Position


def _row_to_position(row: OpenPosition) -> Position:
    return Position(
        account=row.account,
        symbol=row.symbol,
        quantity=row.qty,
        cost_basis=row.cost_basis,
        entry_time=row.entry_time,
        opened_quantity=row.opened_quantity,
        opened_value=row.opened_value,
        closed_quantity=row.closed_quantity,
        closed_value=row.closed_value,
        realized_gross=row.realized_gross,
        commissions=row.commissions,
        max_quantity=row.max_quantity,
        trade_min_price=row.trade_min_price,
        trade_max_price=row.trade_max_price,
        last_fill_time=row.last_fill_time,
        mae=row.mae or Decimal(0),
        mfe=row.mfe or Decimal(0),
        stop_price=row.stop_price,
        target_price=row.target_price,
        entry_vwap=row.entry_vwap,
        entry_cum_delta=row.entry_cum_delta,
        entry_poc=row.entry_poc,
        initial_quantity=row.initial_quantity or row.opened_quantity,
        initial_entry=row.initial_entry if row.initial_entry is not None else row.entry_price,
    )


def _new_position_row(mode: str, pos: Position) -> OpenPosition:
    """A new ``OpenPosition`` row for ``pos``; ``_fill_position_row`` sets every other column before it is
    flushed (table models are not validated on construction)."""
    return OpenPosition(mode=mode, account=pos.account, symbol=pos.symbol)


def _fill_position_row(row: OpenPosition, pos: Position) -> None:
    row.qty = pos.quantity
    row.side = pos.side
    row.entry_price = pos.avg_entry
    row.cost_basis = pos.cost_basis
    row.entry_time = pos.entry_time
    row.opened_quantity = pos.opened_quantity
    row.opened_value = pos.opened_value
    row.closed_quantity = pos.closed_quantity
    row.closed_value = pos.closed_value
    row.realized_gross = pos.realized_gross
    row.commissions = pos.commissions
    row.max_quantity = pos.max_quantity
    row.trade_min_price = pos.trade_min_price
    row.trade_max_price = pos.trade_max_price
    row.last_fill_time = pos.last_fill_time
    row.mae = pos.mae
    row.mfe = pos.mfe
    row.stop_price = pos.stop_price
    row.target_price = pos.target_price
    row.entry_vwap = pos.entry_vwap
    row.entry_cum_delta = pos.entry_cum_delta
    row.entry_poc = pos.entry_poc
    row.initial_quantity = pos.initial_quantity
    row.initial_entry = pos.initial_entry
    row.updated_at = utcnow()


def _trade_row(mode: str, trade: ClosedTrade) -> TradeRecord:
    eff = trade.efficiency
    return TradeRecord(
        mode=mode,
        account=trade.account,
        symbol=trade.symbol,
        side=trade.side,
        qty=trade.quantity,
        max_qty=trade.max_quantity,
        entry_price=trade.entry_price,
        exit_price=trade.exit_price,
        entry_time=trade.entry_time,
        exit_time=trade.exit_time,
        gross_pnl=trade.gross_pnl,
        commissions=trade.commissions,
        realized_pnl=trade.net_pnl,
        point_value=trade.point_value,
        trade_min_price=trade.trade_min_price,
        trade_max_price=trade.trade_max_price,
        mae=trade.mae,
        mfe=trade.mfe,
        stop_price=trade.stop_price,
        target_price=trade.target_price,
        initial_risk=trade.initial_risk,
        r_multiple=trade.r_multiple,
        entry_efficiency=eff.entry if eff else None,
        exit_efficiency=eff.exit if eff else None,
        total_efficiency=eff.total if eff else None,
        entry_vwap=trade.entry_vwap,
        entry_cum_delta=trade.entry_cum_delta,
        entry_poc=trade.entry_poc,
    )


class PositionStore:
    """Repository over the SQLite engine. Methods raise ``StorageError`` when the database fails."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def load_open_positions(self) -> list[StoredPosition]:
        """Every ``OpenPosition`` row, for recovery on startup."""
        try:
            with Session(self._engine) as session:
                rows = session.exec(select(OpenPosition)).all()
                return [StoredPosition(row.mode, _row_to_position(row)) for row in rows]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read open positions: {exc.__class__.__name__}: {exc}") from exc

    def has_fill(self, mode: str, account: str, execution_id: str) -> bool:
        try:
            with Session(self._engine) as session:
                stmt = select(FillRecord.id).where(
                    FillRecord.mode == mode,
                    FillRecord.account == account,
                    FillRecord.execution_id == execution_id,
                )
                return session.exec(stmt).first() is not None
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read fills: {exc.__class__.__name__}: {exc}") from exc

    def commit_fill(
        self, mode: str, fill: Fill, before: Position | None, outcome: FillOutcome, reason: str = "fill"
    ) -> None:
        """Store ``fill`` and its ``outcome`` atomically. ``reason`` goes to the audit event and, when the
        fill closes a trade, to ``TradeRecord.exit_reason``.

        Raises ``DuplicateFill`` if the execution id is already stored (nothing is written) and
        ``StorageError`` for any database failure (nothing is written).
        """
        try:
            with Session(self._engine) as session, session.begin():
                session.add(
                    FillRecord(
                        mode=mode,
                        account=fill.account,
                        symbol=fill.symbol,
                        execution_id=fill.execution_id,
                        server_order_id=fill.server_order_id,
                        quantity=fill.quantity,
                        price=fill.price,
                        commission=fill.commission,
                        time=fill.time,
                        source=fill.source,
                    )
                )
                session.flush()  # the UNIQUE execution id is checked here, before anything else
                row = session.exec(
                    select(OpenPosition).where(
                        OpenPosition.mode == mode,
                        OpenPosition.account == fill.account,
                        OpenPosition.symbol == fill.symbol,
                    )
                ).first()
                if outcome.closed_trade is not None:
                    trade_row = _trade_row(mode, outcome.closed_trade)
                    trade_row.exit_reason = reason
                    session.add(trade_row)
                after = outcome.position
                if after is None:
                    if row is not None:
                        session.delete(row)
                else:
                    if row is None or outcome.closed_trade is not None:
                        if row is not None:
                            session.delete(row)
                            session.flush()
                        row = _new_position_row(mode, after)
                    _fill_position_row(row, after)
                    session.add(row)
                session.add(
                    PositionEvent(
                        mode=mode,
                        account=fill.account,
                        symbol=fill.symbol,
                        kind=outcome.event.value,
                        quantity_before=before.quantity if before else Decimal(0),
                        quantity_after=after.quantity if after else Decimal(0),
                        avg_entry_after=after.avg_entry if after else None,
                        realized=outcome.realized_gross,
                        reason=reason,
                        source=f"{fill.source}:{fill.execution_id}",
                    )
                )
        except IntegrityError as exc:
            if "uq_fillrecord_execution" in str(exc) or "fillrecord.execution_id" in str(exc):
                raise DuplicateFill(fill.execution_id) from exc
            raise StorageError(f"integrity error storing fill: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            detail = getattr(exc, "orig", None) or exc
            raise StorageError(f"cannot store fill: {exc.__class__.__name__}: {detail}") from exc

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

    def replace_position(
        self,
        mode: str,
        account: str,
        symbol: str,
        position: Position | None,
        kind: str,
        reason: str,
        source: str = "trader",
    ) -> None:
        """Set (or, with ``None``, remove) the open position of (mode, account, symbol) without a fill, with
        its audit event, in one transaction (reconciliation decisions). Raises ``StorageError``."""
        try:
            with Session(self._engine) as session, session.begin():
                row = session.exec(
                    select(OpenPosition).where(
                        OpenPosition.mode == mode, OpenPosition.account == account, OpenPosition.symbol == symbol
                    )
                ).first()
                before = row.qty if row is not None else Decimal(0)
                if position is None:
                    if row is not None:
                        session.delete(row)
                else:
                    if row is None:
                        row = _new_position_row(mode, position)
                    _fill_position_row(row, position)
                    session.add(row)
                session.add(
                    PositionEvent(
                        mode=mode,
                        account=account,
                        symbol=symbol,
                        kind=kind,
                        quantity_before=before,
                        quantity_after=position.quantity if position else Decimal(0),
                        avg_entry_after=position.avg_entry if position else None,
                        reason=reason,
                        source=source,
                    )
                )
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot store the decision: {exc.__class__.__name__}: {exc}") from exc

    def fills_for(
        self, mode: str, account: str, symbol: str, received_after: datetime | None = None
    ) -> list[FillRecord]:
        """Stored fills of (mode, account, symbol) in the order they were applied (optionally only those
        received after ``received_after``)."""
        try:
            with Session(self._engine) as session:
                stmt = select(FillRecord).where(
                    FillRecord.mode == mode, FillRecord.account == account, FillRecord.symbol == symbol
                )
                if received_after is not None:
                    stmt = stmt.where(col(FillRecord.received_at) > received_after)
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

    def events(self, mode: str, account: str, symbol: str) -> list[PositionEvent]:
        """The audit trail of (mode, account, symbol), oldest first."""
        with Session(self._engine) as session:
            stmt = select(PositionEvent).where(
                PositionEvent.mode == mode, PositionEvent.account == account, PositionEvent.symbol == symbol
            )
            return list(session.exec(stmt.order_by(col(PositionEvent.id))).all())

    def update_marks(self, mode: str, position: Position) -> None:
        """Write a position's price extremes, MAE/MFE and bracket (coalesced by the caller)."""
        try:
            with Session(self._engine) as session, session.begin():
                row = session.exec(
                    select(OpenPosition).where(
                        OpenPosition.mode == mode,
                        OpenPosition.account == position.account,
                        OpenPosition.symbol == position.symbol,
                    )
                ).first()
                if row is None:
                    return
                row.trade_min_price, row.trade_max_price = position.trade_min_price, position.trade_max_price
                row.mae, row.mfe = position.mae, position.mfe
                row.stop_price, row.target_price = position.stop_price, position.target_price
                row.updated_at = utcnow()
                session.add(row)
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
        """Closed trades of (mode, account) stored after the trade with id ``after_id``, in id order. Reads by
        primary key, so it costs the same whatever the history's length."""
        try:
            with Session(self._engine) as session:
                stmt = select(TradeRecord).where(col(TradeRecord.id) > after_id).order_by(col(TradeRecord.id))
                return [r for r in session.exec(stmt).all() if r.mode == mode and r.account == account]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read trades: {exc.__class__.__name__}: {exc}") from exc

    def balances_after(self, account: str, after_id: int) -> list[AccountBalance]:
        """Balance history of ``account`` stored after the row with id ``after_id``, in id order."""
        try:
            with Session(self._engine) as session:
                stmt = select(AccountBalance).where(col(AccountBalance.id) > after_id).order_by(col(AccountBalance.id))
                return [b for b in session.exec(stmt).all() if b.account == account]
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

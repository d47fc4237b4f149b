"""Mapping between the accounting types (``Position``, ``Fill``, ``ClosedTrade``) and the stored rows.

``data/`` stores plain column values and knows nothing of accounting; this module is the one place that
says which ``Position`` field goes to which ``OpenPosition`` column, and back. Every mapping is pure.

Units: quantities in contracts (signed on positions and fills), prices in points, money in account
currency, times timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.accounting import ClosedTrade, Fill, FillOutcome, Position
from data.models import OpenPosition
from data.repository import PositionStore

Row = dict[str, Any]


@dataclass(frozen=True)
class StoredPosition:
    """An open position as loaded from ``OpenPosition``, with its scope (``SIM``/``LIVE``)."""

    mode: str
    position: Position


def position_from_row(row: OpenPosition) -> Position:
    """The ``Position`` an ``OpenPosition`` row holds."""
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
        mae_points=row.mae_points if row.mae_points is not None else _legacy_points(row, worst=True),
        mfe_points=row.mfe_points if row.mfe_points is not None else _legacy_points(row, worst=False),
        opening_order_id=row.opening_order_id or "",
    )


def _legacy_points(row: OpenPosition, *, worst: bool) -> Decimal:
    """MAE/MFE points of a row stored before they were kept: the trade's price extremes against today's
    average entry (the best estimate left; exact when the size never changed)."""
    extreme = (
        (row.trade_min_price if row.qty > 0 else row.trade_max_price)
        if worst
        else (row.trade_max_price if row.qty > 0 else row.trade_min_price)
    )
    if extreme is None:
        return Decimal(0)
    points = (extreme - row.entry_price) if row.qty > 0 else (row.entry_price - extreme)
    return min(points, Decimal(0)) if worst else max(points, Decimal(0))


def position_values(pos: Position) -> Row:
    """Every ``OpenPosition`` column (but the key and ``updated_at``) for ``pos``."""
    return {
        "qty": pos.quantity,
        "side": pos.side,
        "entry_price": pos.avg_entry,
        "cost_basis": pos.cost_basis,
        "entry_time": pos.entry_time,
        "opened_quantity": pos.opened_quantity,
        "opened_value": pos.opened_value,
        "closed_quantity": pos.closed_quantity,
        "closed_value": pos.closed_value,
        "realized_gross": pos.realized_gross,
        "commissions": pos.commissions,
        "max_quantity": pos.max_quantity,
        "trade_min_price": pos.trade_min_price,
        "trade_max_price": pos.trade_max_price,
        "last_fill_time": pos.last_fill_time,
        "mae": pos.mae,
        "mfe": pos.mfe,
        "stop_price": pos.stop_price,
        "target_price": pos.target_price,
        "entry_vwap": pos.entry_vwap,
        "entry_cum_delta": pos.entry_cum_delta,
        "entry_poc": pos.entry_poc,
        "initial_quantity": pos.initial_quantity,
        "initial_entry": pos.initial_entry,
        "mae_points": pos.mae_points,
        "mfe_points": pos.mfe_points,
        "opening_order_id": pos.opening_order_id[:64],
    }


def mark_values(pos: Position) -> Row:
    """The ``OpenPosition`` columns that prices and working orders change: extremes, MAE/MFE, bracket."""
    return {
        "trade_min_price": pos.trade_min_price,
        "trade_max_price": pos.trade_max_price,
        "mae": pos.mae,
        "mfe": pos.mfe,
        "mae_points": pos.mae_points,
        "mfe_points": pos.mfe_points,
        "stop_price": pos.stop_price,
        "target_price": pos.target_price,
    }


def fill_values(
    mode: str, fill: Fill, received_at: datetime, realized_gross: Decimal | None = None, pnl_unit: str = ""
) -> Row:
    """A ``FillRecord`` row for ``fill``; ``realized_gross``: the gross P&L it realized, in ``pnl_unit`` (""
    the account currency, "pt" points × contracts, else a currency code)."""
    return {
        "mode": mode,
        "account": fill.account,
        "symbol": fill.symbol,
        "execution_id": fill.execution_id,
        "server_order_id": fill.server_order_id,
        "quantity": fill.quantity,
        "price": fill.price,
        "commission": fill.commission,
        "time": fill.time,
        "source": fill.source,
        "realized_gross": realized_gross,
        "pnl_unit": pnl_unit,
        "received_at": received_at,
    }


def trade_values(
    mode: str,
    trade: ClosedTrade,
    reason: str,
    created_at: datetime,
    tick_size: Decimal | None = None,
    pnl_unit: str = "",
) -> Row:
    """A ``TradeRecord`` row for a closed trade; ``reason`` is its exit reason (``fill``, ``closed by trader``);
    ``tick_size`` the instrument's tick (points); ``pnl_unit`` what its money is in (see ``fill_values``)."""
    eff = trade.efficiency
    return {
        "mode": mode,
        "account": trade.account,
        "symbol": trade.symbol,
        "side": trade.side,
        "qty": trade.quantity,
        "max_qty": trade.max_quantity,
        "entry_price": trade.entry_price,
        "exit_price": trade.exit_price,
        "entry_time": trade.entry_time,
        "exit_time": trade.exit_time,
        "gross_pnl": trade.gross_pnl,
        "commissions": trade.commissions,
        "realized_pnl": trade.net_pnl,
        "point_value": trade.point_value,
        "trade_min_price": trade.trade_min_price,
        "trade_max_price": trade.trade_max_price,
        "mae": trade.mae,
        "mfe": trade.mfe,
        "exit_reason": reason[:32],
        "stop_price": trade.stop_price,
        "target_price": trade.target_price,
        "initial_risk": trade.initial_risk,
        "r_multiple": trade.r_multiple,
        "entry_efficiency": eff.entry if eff else None,
        "exit_efficiency": eff.exit if eff else None,
        "total_efficiency": eff.total if eff else None,
        "entry_vwap": trade.entry_vwap,
        "entry_cum_delta": trade.entry_cum_delta,
        "entry_poc": trade.entry_poc,
        "mae_points": trade.mae_points,
        "mfe_points": trade.mfe_points,
        "tick_size": tick_size if tick_size is not None and tick_size > 0 else None,
        "pnl_unit": pnl_unit,
        "created_at": created_at,
    }


def event_values(
    mode: str,
    key_account: str,
    symbol: str,
    kind: str,
    before: Position | None,
    after: Position | None,
    *,
    realized: Decimal = Decimal(0),
    reason: str,
    source: str,
    at: datetime,
) -> Row:
    """A ``PositionEvent`` (audit) row: what changed a position from ``before`` to ``after`` and why."""
    return {
        "at": at,
        "mode": mode,
        "account": key_account,
        "symbol": symbol,
        "kind": kind,
        "quantity_before": before.quantity if before else Decimal(0),
        "quantity_after": after.quantity if after else Decimal(0),
        "avg_entry_after": after.avg_entry if after else None,
        "realized": realized,
        "reason": reason[:32],
        "source": source[:128],
    }


def fill_event_values(
    mode: str, fill: Fill, before: Position | None, outcome: FillOutcome, reason: str, at: datetime
) -> Row:
    """The audit row of one applied fill."""
    return event_values(
        mode,
        fill.account,
        fill.symbol,
        outcome.event.value,
        before,
        outcome.position,
        realized=outcome.realized_gross,
        reason=reason,
        source=f"{fill.source}:{fill.execution_id}",
        at=at,
    )


def stored_positions(store: PositionStore) -> list[StoredPosition]:
    """Every stored open position (recovery on startup). Raises ``StorageError`` if unreadable."""
    return [StoredPosition(row.mode, position_from_row(row)) for row in store.open_position_rows()]


def replace_position(
    store: PositionStore,
    mode: str,
    account: str,
    symbol: str,
    position: Position | None,
    kind: str,
    reason: str,
    source: str = "trader",
    *,
    at: datetime,
) -> None:
    """Set (``None``: remove) the stored position of (mode, account, symbol) without a fill, with its audit
    event (the quantity before is the stored row's), in one transaction. Raises ``StorageError``."""
    event = event_values(mode, account, symbol, kind, None, position, reason=reason, source=source, at=at)
    store.replace_position_row(
        mode, account, symbol, position_values(position) if position is not None else None, event
    )

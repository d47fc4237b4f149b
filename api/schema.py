"""The JSON shapes of the local API (``docs/API.md``): plain dicts built from the core's immutable views.

Decimals are sent as strings of their exact digits (``"6000.25"``, never a float or an exponent); times as
ISO 8601 in UTC with a ``Z`` (``"2026-11-30T20:41:07.123456Z"``); ages and durations as seconds (numbers).
Money is in the account currency unless ``pnl_unit`` says otherwise ("pt": points × contracts because the
point value is unknown; else the symbol's own currency code); prices and points in the instrument's points.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.reconcile import Discrepancy
from core.snapshots import ConnectionInfo, PositionView
from core.units import ticks

Json = dict[str, Any]


def dec(value: Decimal | None) -> str | None:
    """``Decimal`` → its digits without an exponent (``Decimal("1E+1")`` → ``"10"``); ``None`` stays ``None``."""
    if value is None:
        return None
    return format(value.copy_abs() if value.is_zero() else value, "f")  # never "-0.00"


def iso(value: datetime | None) -> str | None:
    """A time as ISO 8601 UTC with ``Z``; a naive time is taken as UTC (how the store keeps them)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seconds_between(earlier: datetime | None, now: datetime) -> float | None:
    if earlier is None:
        return None
    if earlier.tzinfo is None:
        earlier = earlier.replace(tzinfo=UTC)
    return round((now - earlier).total_seconds(), 3)


def position(view: PositionView, now: datetime) -> Json:
    """One open position (``GET /positions`` and the stream's position events).

    ``quantity`` is contracts (positive) on ``side``; ``signed_quantity`` + long / − short. ``open_pnl`` is
    money at ``last_price``, ``open_points``/``open_ticks`` the price's move in the position's favour per
    contract; ``mae``/``mfe`` money (the trade's worst/best P&L, realized so far + open), ``*_points`` and
    ``*_ticks`` the worst/best price distance from the average entry. ``confirmed`` is False until Sierra
    Chart's position report agrees. Ages are seconds at ``now``.
    """
    tick = view.tick_size
    return {
        "mode": view.mode,
        "account": view.account,
        "symbol": view.symbol,
        "side": view.side,
        "quantity": dec(abs(view.quantity)),
        "signed_quantity": dec(view.quantity),
        "average_entry": dec(view.avg_entry),
        "entry_time": iso(view.entry_time),
        "time_in_trade_seconds": seconds_between(view.entry_time, now),
        "last_price": dec(view.last_price),
        "last_price_time": iso(view.last_price_time),
        "last_price_age_seconds": seconds_between(view.last_price_time, now),
        "last_price_source": view.last_price_source,
        "last_price_stale": view.last_price_stale,
        "open_pnl": dec(view.open_pnl),
        "open_points": dec(view.open_points),
        "open_ticks": dec(view.open_ticks),
        "realized_in_trade": dec(view.realized_in_trade),
        "commissions": dec(view.commissions),
        "pnl_unit": view.pnl_unit,
        "mae": dec(view.mae),
        "mfe": dec(view.mfe),
        "mae_points": dec(view.mae_points),
        "mfe_points": dec(view.mfe_points),
        "mae_ticks": dec(view.mae_ticks),
        "mfe_ticks": dec(view.mfe_ticks),
        "stop_price": dec(view.stop_price),
        "target_price": dec(view.target_price),
        "live_r": dec(view.live_r),
        "point_value": dec(view.point_value),
        "point_value_known": view.point_value_known,
        "tick_size": dec(tick),
        "confirmed": view.confirmed,
        "broker_quantity": dec(view.broker_quantity),
    }


def mark(view: PositionView, now: datetime) -> Json:
    """The price-driven part of a position (the stream's ``mark_updated``)."""
    return {
        "mode": view.mode,
        "account": view.account,
        "symbol": view.symbol,
        "last_price": dec(view.last_price),
        "last_price_time": iso(view.last_price_time),
        "last_price_stale": view.last_price_stale,
        "open_pnl": dec(view.open_pnl),
        "open_points": dec(view.open_points),
        "open_ticks": dec(view.open_ticks),
        "mae": dec(view.mae),
        "mfe": dec(view.mfe),
        "mae_points": dec(view.mae_points),
        "mfe_points": dec(view.mfe_points),
        "mae_ticks": dec(view.mae_ticks),
        "mfe_ticks": dec(view.mfe_ticks),
        "live_r": dec(view.live_r),
        "pnl_unit": view.pnl_unit,
    }


def connection(info: ConnectionInfo) -> Json:
    return {
        "state": info.state.value,
        "detail": info.detail,
        "server": info.server,
        "last_message_age_seconds": None if info.data_age_seconds is None else round(info.data_age_seconds, 3),
    }


def discrepancy(d: Discrepancy) -> Json:
    return {
        "mode": d.mode,
        "account": d.account,
        "symbol": d.symbol,
        "kind": d.kind.value,
        "stored_quantity": dec(d.stored_quantity),
        "stored_average": dec(d.stored_average),
        "broker_quantity": dec(d.broker_quantity),
        "broker_average": dec(d.broker_average),
    }


def trade(row: Any) -> Json:
    """One closed trade (a ``data.models.TradeRecord``): money in the account currency unless ``pnl_unit``."""
    tick = row.tick_size
    return {
        "id": row.id,
        "mode": row.mode,
        "account": row.account,
        "symbol": row.symbol,
        "side": row.side,
        "quantity": dec(row.qty),
        "entry_time": iso(row.entry_time),
        "exit_time": iso(row.exit_time),
        "entry_price": dec(row.entry_price),
        "exit_price": dec(row.exit_price),
        "net_pnl": dec(row.realized_pnl),
        "commissions": dec(row.commissions),
        "pnl_unit": row.pnl_unit or "",
        "mae": dec(row.mae),
        "mfe": dec(row.mfe),
        "mae_points": dec(row.mae_points),
        "mfe_points": dec(row.mfe_points),
        "mae_ticks": dec(ticks(row.mae_points, tick)),
        "mfe_ticks": dec(ticks(row.mfe_points, tick)),
        "total_efficiency": dec(row.total_efficiency),
        "r_multiple": dec(row.r_multiple),
        "exit_reason": row.exit_reason or "",
    }


def _stored_decimal(text: str | None) -> str | None:
    """A stored decimal's text as the API sends decimals (``dec``): the stored text itself when it is plain."""
    if text is None:
        return None
    return text if "E" not in text and "e" not in text and not text.startswith("-0") else dec(Decimal(text))


def _stored_time(text: str | None) -> str | None:
    """A stored UTC time (``YYYY-MM-DD HH:MM:SS.ffffff``) as ISO 8601 with ``Z``."""
    return None if text is None else iso(datetime.fromisoformat(text))


def stored_trade(row: dict[str, Any]) -> Json:
    """One closed trade from its stored values (``data.trade_queries.trades_after_as_stored``): the same JSON
    as ``trade``, without building ORM objects (the stream's ``trade_closed`` during a burst of fills)."""
    tick = row["tick_size"]
    tick_size = Decimal(tick) if tick is not None else None

    def in_ticks(points: str | None) -> str | None:
        return dec(ticks(Decimal(points), tick_size)) if points is not None else None

    return {
        "id": row["id"],
        "mode": row["mode"],
        "account": row["account"],
        "symbol": row["symbol"],
        "side": row["side"],
        "quantity": _stored_decimal(row["qty"]),
        "entry_time": _stored_time(row["entry_time"]),
        "exit_time": _stored_time(row["exit_time"]),
        "entry_price": _stored_decimal(row["entry_price"]),
        "exit_price": _stored_decimal(row["exit_price"]),
        "net_pnl": _stored_decimal(row["realized_pnl"]),
        "commissions": _stored_decimal(row["commissions"]),
        "pnl_unit": row["pnl_unit"] or "",
        "mae": _stored_decimal(row["mae"]),
        "mfe": _stored_decimal(row["mfe"]),
        "mae_points": _stored_decimal(row["mae_points"]),
        "mfe_points": _stored_decimal(row["mfe_points"]),
        "mae_ticks": in_ticks(row["mae_points"]),
        "mfe_ticks": in_ticks(row["mfe_points"]),
        "total_efficiency": _stored_decimal(row["total_efficiency"]),
        "r_multiple": _stored_decimal(row["r_multiple"]),
        "exit_reason": row["exit_reason"] or "",
    }

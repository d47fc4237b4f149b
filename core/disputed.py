"""The view of a disputed position: while a discrepancy is open, Sierra Chart's reported position is what the
window presents (it is the authority), with the panel's own figure beside it (``PositionView.panel_quantity``
and ``panel_avg_entry``, shown as "panel: LONG 1 @ 6,850.00").

Figures that belong to the panel's trade (MAE/MFE, heat, planned risk, live R, realized in trade) are left
out: they describe a position Sierra Chart contradicts. Open P&L is Sierra Chart's position marked at the last
price: (last − average) × quantity × point value, account currency (``None`` when flat or without a price).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from core.accounting import Position
from core.instruments import Instrument
from core.prices import Quote
from core.reconcile import Discrepancy
from core.snapshots import PositionView
from core.views import instrument_and_price, position_view

Key = tuple[str, str, str]


def broker_open_pnl(found: Discrepancy, price: Decimal, point_value: Decimal) -> Decimal:
    """Sierra Chart's reported position marked at ``price`` (points), account currency."""
    return (price - found.broker_average) * found.broker_quantity * point_value


def disputed_view(
    key: Key,
    position: Position | None,
    found: Discrepancy,
    instrument: Instrument,
    quote: tuple[Quote, bool] | None,
    *,
    broker_entry: datetime | None = None,
    pnl_unit: str = "",
) -> PositionView:
    """Sierra Chart's position of ``key`` (``found.broker_quantity`` @ ``found.broker_average``, 0 = flat) as
    a ``PositionView`` with ``disputed`` set and the panel's ``position`` (``None``: flat) beside it.
    ``quote`` is (best quote, stale?) from the ``PriceBook``; ``broker_entry`` Sierra Chart's entry time."""
    qty, avg = found.broker_quantity, found.broker_average
    last = quote[0] if quote else None
    same_side = position is not None and qty != 0 and (position.quantity > 0) == (qty > 0)
    entry = position.entry_time if same_side and position is not None else None
    entry = entry or broker_entry or found.since or datetime.now(UTC)
    if position is not None:
        base = position_view(key, position, instrument, quote, confirmed=False, broker_quantity=qty, pnl_unit=pnl_unit)
    else:
        base = PositionView(
            mode=key[0],
            account=key[1],
            symbol=key[2],
            quantity=qty,
            avg_entry=avg,
            entry_time=entry,
            realized_in_trade=Decimal(0),
            commissions=Decimal(0),
            **instrument_and_price(instrument, quote),
            pnl_unit=pnl_unit,
        )
    sign = 1 if qty > 0 else -1
    priced = last is not None and qty != 0
    return replace(
        base,
        quantity=qty,
        avg_entry=avg,
        entry_time=entry,
        open_pnl=broker_open_pnl(found, last.price, instrument.point_value) if priced and last else None,
        open_points=(last.price - avg) * sign if priced and last else None,
        confirmed=False,
        broker_quantity=qty,
        realized_in_trade=Decimal(0),
        commissions=Decimal(0),
        mae=Decimal(0),
        mfe=Decimal(0),
        mae_points=None,
        mfe_points=None,
        initial_risk=None,
        live_r=None,
        heat_since=None,
        stop_price=base.stop_price if same_side else None,
        target_price=base.target_price if same_side else None,
        stop_distance=base.stop_distance if same_side else None,
        target_distance=base.target_distance if same_side else None,
        entry_vwap=None,
        entry_cum_delta=None,
        entry_poc=None,
        disputed=True,
        panel_quantity=position.quantity if position is not None else Decimal(0),
        panel_avg_entry=position.avg_entry if position is not None else None,
    )

"""Building ``PositionView``s: the open position joined with its instrument, last price and bracket."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from core.accounting import Position
from core.instruments import Instrument
from core.prices import Quote
from core.snapshots import PositionView
from core.trade_metrics import initial_risk, r_multiple


def position_view(
    key: tuple[str, str, str],
    position: Position,
    instrument: Instrument,
    quote: tuple[Quote, bool] | None,
    *,
    confirmed: bool,
    broker_quantity: Decimal | None,
    heat_since: datetime | None = None,
    pnl_unit: str = "",
) -> PositionView:
    """The view of one position. ``quote`` is (best quote, stale?) from the ``PriceBook``.

    MAE/MFE in points are the worst/best price distance from the average entry of each moment
    (``Position.mae_points``/``mfe_points``), not currency divided by the current size.
    Live R = (trade P&L so far − commissions) / initial risk. ``pnl_unit``: what the money is in
    (``Instrument.pnl_unit``).
    """
    pv = instrument.point_value
    sign = 1 if position.quantity > 0 else -1
    last = quote[0] if quote else None
    open_pnl = position.open_pnl(last.price, pv) if last else None
    risk = initial_risk(position.initial_entry, position.stop_price, position.initial_quantity, pv)
    live_r = None
    if open_pnl is not None:
        live_r = r_multiple(position.realized_gross + open_pnl - position.commissions, risk)
    return PositionView(
        mode=key[0],
        account=key[1],
        symbol=key[2],
        quantity=position.quantity,
        avg_entry=position.avg_entry,
        entry_time=position.entry_time,
        realized_in_trade=position.realized_gross,
        commissions=position.commissions,
        **instrument_and_price(instrument, quote),
        open_pnl=open_pnl,
        open_points=(last.price - position.avg_entry) * sign if last else None,
        confirmed=confirmed,
        broker_quantity=broker_quantity,
        mae=position.mae,
        mfe=position.mfe,
        mae_points=position.mae_points,
        mfe_points=position.mfe_points,
        stop_price=position.stop_price,
        target_price=position.target_price,
        stop_distance=(last.price - position.stop_price) * sign if last and position.stop_price is not None else None,
        target_distance=(position.target_price - last.price) * sign
        if last and position.target_price is not None
        else None,
        initial_risk=risk,
        live_r=live_r,
        entry_vwap=position.entry_vwap,
        entry_cum_delta=position.entry_cum_delta,
        entry_poc=position.entry_poc,
        live_vwap=last.vwap if last else None,
        live_cum_delta=last.cum_delta if last else None,
        live_poc=last.poc if last else None,
        heat_since=heat_since,
        pnl_unit=pnl_unit,
    )


def instrument_and_price(instrument: Instrument, quote: tuple[Quote, bool] | None) -> dict[str, Any]:
    """The ``PositionView`` fields of the instrument (point value, tick) and its last price (price, time, source,
    stale?) from ``quote`` = (best quote, stale?), as keyword arguments."""
    last = quote[0] if quote else None
    return {
        "point_value": instrument.point_value,
        "point_value_known": instrument.known,
        "tick_size": instrument.tick_size,
        "last_price": last.price if last else None,
        "last_price_time": last.time if last else None,
        "last_price_source": last.source if last else "",
        "last_price_stale": quote[1] if quote else False,
    }

"""Prices, points and ticks as a futures trader reads them — one formatting for the whole product (issue 11).

Every price shown (position card, notifications, reconcile dialog, CSV) goes through ``format_price``: on the
instrument's tick and with as many decimals as the tick has (MES 0.25 → ``6,852.25``; ZN 0.015625 →
``112.515625``; a 0.125 tick → ``6,852.125``), with thousands separators. An average price may lie between
ticks; ``format_avg_price`` shows it exactly (up to two decimals more than the tick), never rounded onto a
tick. A distance in points is a price difference; in ticks it is points ÷ tick size.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.instruments import snap_to_tick

DASH = "—"
MIN_DECIMALS = 2
"""Prices of an instrument whose tick is unknown (or whole) still show two decimals."""


def tick_decimals(tick: Decimal | None) -> int:
    """Decimals a price needs for ``tick`` (points): 0.25 → 2, 0.125 → 3, 0.015625 → 6; at least 2."""
    if tick is None or tick <= 0:
        return MIN_DECIMALS
    exponent = tick.normalize().as_tuple().exponent
    return max(MIN_DECIMALS, -exponent) if isinstance(exponent, int) else MIN_DECIMALS


def format_price(value: Decimal | None, tick: Decimal | None = None) -> str:
    """A price on its tick with the tick's decimals and separators: ``6,852.125``; ``—`` when unknown."""
    if value is None:
        return DASH
    on_tick = snap_to_tick(value, tick) if tick is not None else value
    return f"{on_tick:,.{tick_decimals(tick)}f}"


def format_avg_price(value: Decimal | None, tick: Decimal | None = None) -> str:
    """An average price, never rounded onto a tick: the tick's decimals, or up to two more when it lies
    between ticks (``6,850.375``, ``6,000.0833``)."""
    if value is None:
        return DASH
    places = tick_decimals(tick)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        places = min(-exponent, places + 2)
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def ticks(points: Decimal | None, tick: Decimal | None) -> Decimal | None:
    """``points`` in ticks (points ÷ tick size); ``None`` when either is unknown."""
    if points is None or tick is None or tick <= 0:
        return None
    return points / tick


def format_points(value: Decimal | None, tick: Decimal | None = None) -> str:
    """Signed points with the tick's decimals: ``+1.25 pt``, ``-0.125 pt``; ``0 pt`` shows as ``0.00 pt``."""
    if value is None:
        return DASH
    places = tick_decimals(tick)
    shown = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{0:.{places}f} pt" if shown == 0 else f"{shown:+,.{places}f} pt"


def format_ticks(value: Decimal | None) -> str:
    """Signed ticks, whole when whole (``+12 t``), else one decimal (``-2.5 t``); ``—`` when unknown."""
    if value is None:
        return DASH
    shown = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if shown == 0:
        return "0 t"
    if shown == shown.to_integral_value():
        return f"{shown:+,.0f} t"
    return f"{shown:+,.1f} t"

"""Text formatting for the panels: money, prices, quantities and ages as a trader reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

DASH = "—"


def money(value: Decimal | None, currency: str = "$") -> str:
    """``+$1,234.50`` / ``-$12.00`` / ``$0.00``; ``—`` when unknown. Rounded half-up to the cent."""
    if value is None:
        return DASH
    cents = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if cents == 0:
        return f"{currency}0.00"
    sign = "+" if cents > 0 else "-"
    return f"{sign}{currency}{abs(cents):,.2f}"


def price(value: Decimal | None, tick: Decimal | None = None) -> str:
    """A price with as many decimals as the tick size needs (at least 2); ``—`` when unknown."""
    if value is None:
        return DASH
    places = 2
    if tick is not None and tick > 0:
        exponent = tick.normalize().as_tuple().exponent
        if isinstance(exponent, int):
            places = max(2, -exponent)
    return f"{value:,.{places}f}"


def quantity(value: Decimal) -> str:
    """Contracts without a trailing ``.0`` (``2``, ``1.5``)."""
    value = abs(value)
    return str(int(value)) if value == value.to_integral_value() else f"{value.normalize()}"


def points(value: Decimal | None) -> str:
    if value is None:
        return DASH
    return f"{value:+,.2f} pt"


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """``12 s`` / ``4 min`` / ``2 h 05 min`` since ``moment``."""
    if moment is None:
        return DASH
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"

"""Text formatting for the panels: money, prices, quantities, ratios and ages as a trader reads them.

Every function takes ``None`` for "not available" and returns ``—`` for it (never 0 or 0 %).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from core import units
from core.instruments import POINTS
from core.tradingday import PERIOD_LABELS, Period

DASH = "—"


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to the cent, as ``money`` shows it."""
    return _cents(value)


def money(value: Decimal | None, currency: str = "$") -> str:
    """``+$1,234.50`` / ``-$12.00`` / ``$0.00``; ``—`` when unknown. Rounded half-up to the cent."""
    if value is None:
        return DASH
    cents = _cents(value)
    if cents == 0:
        return f"{currency}0.00"
    sign = "+" if cents > 0 else "-"
    return f"{sign}{currency}{abs(cents):,.2f}"


def pnl(value: Decimal | None, unit: str = "") -> str:
    """P&L in its unit: "" the account currency (``+$1,234.50``); ``pt`` points × contracts, when the point value
    is unknown (``+20.00 pt·ct``); else a currency code (``+12.50 EUR``). ``—`` when unknown."""
    if not unit or value is None:
        return money(value)
    cents = _cents(value)
    suffix = "pt·ct" if unit == POINTS else unit
    if cents == 0:
        return f"0.00 {suffix}"
    return f"{cents:+,.2f} {suffix}"


def amount(value: Decimal | None, currency: str = "$") -> str:
    """An amount without a sign (balances, commissions, drawdown): ``$50,053.75``; ``-$5.00`` if negative."""
    if value is None:
        return DASH
    cents = _cents(value)
    return f"-{currency}{abs(cents):,.2f}" if cents < 0 else f"{currency}{cents:,.2f}"


def price(value: Decimal | None, tick: Decimal | None = None) -> str:
    """A price on its tick with the tick's decimals (at least 2) and separators; ``—`` when unknown."""
    return units.format_price(value, tick)


def avg_price(value: Decimal | None, tick: Decimal | None = None) -> str:
    """An average price: like ``price`` but never rounded onto a tick (up to 2 extra decimals): ``6,850.375``."""
    return units.format_avg_price(value, tick)


def quantity(value: Decimal) -> str:
    """Contracts without a trailing ``.0`` (``2``, ``1.5``), unsigned."""
    value = abs(value)
    return str(int(value)) if value == value.to_integral_value() else f"{value.normalize()}"


def points(value: Decimal | None, tick: Decimal | None = None) -> str:
    """Signed points with the tick's decimals (at least 2), up to two more when the distance lies between ticks
    (from an average entry between ticks): ``+1.25 pt``, ``-0.125 pt`` on a 0.25 tick — never rounded to a
    figure finer than the tick shows (``-0.12``) or to zero."""
    if value is None:
        return DASH
    places = units.tick_decimals(tick)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        places = min(-exponent, places + 2)
    shown = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{0:.{places}f} pt" if shown == 0 else f"{shown:+,.{places}f} pt"


def ticks(value: Decimal | None) -> str:
    """Signed ticks: ``+12 t`` / ``-2.5 t``."""
    return units.format_ticks(value)


def signed_number(value: Decimal | None) -> str:
    """A signed whole number with thousands separators (cumulative delta): ``+1,250``."""
    if value is None:
        return DASH
    return f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP):+,}"


def percent(fraction: Decimal | None) -> str:
    """A fraction as a percentage with one decimal: ``0.4375`` → ``43.8%``."""
    if fraction is None:
        return DASH
    return f"{(fraction * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def ratio(value: Decimal | None) -> str:
    """A plain ratio with two decimals (profit factor): ``1.50``."""
    if value is None:
        return DASH
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def r_multiple(value: Decimal | None) -> str:
    """An R-multiple: ``+1.67 R``."""
    if value is None:
        return DASH
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):+} R"


def duration(seconds: float | Decimal | None) -> str:
    """A length of time: ``42 s`` / ``4 min 12 s`` / ``2 h 05 min`` / ``3 d 04 h``; seconds rounded down."""
    if seconds is None:
        return DASH
    total = max(0, int(seconds))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60} s"
    if total < 86400:
        return f"{total // 3600} h {total % 3600 // 60:02d} min"
    return f"{total // 86400} d {total % 86400 // 3600:02d} h"


def seconds_since(moment: datetime | None, now: datetime | None = None) -> float | None:
    """Seconds from ``moment`` to ``now`` (default: the current UTC time), never negative."""
    if moment is None:
        return None
    return max(0.0, ((now or datetime.now(UTC)) - moment).total_seconds())


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """``12 s`` / ``4 min 12 s`` / ``2 h 05 min`` since ``moment``."""
    return duration(seconds_since(moment, now))


def timestamp(moment: datetime, tz: tzinfo | None = None, with_date: bool = True) -> str:
    """``2025-11-20 09:30:05`` in ``tz`` (default: this computer's local time zone)."""
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def short_timestamp(moment: datetime, tz: tzinfo | None = None, now: datetime | None = None) -> str:
    """``09:30:05`` for a moment on today's date in ``tz``, else ``2025-11-20 09:30:05``."""
    local = moment.astimezone(tz)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    return local.strftime("%H:%M:%S" if local.date() == today else "%Y-%m-%d %H:%M:%S")


def period_label(value: str) -> str:
    """The trader's name of a ``Period`` value (``"3m"`` → ``3 months``); unknown values as they are."""
    try:
        return PERIOD_LABELS[Period(value)]
    except ValueError:
        return value


UNITS = ("$", "pt", "t")
"""What a trader can choose to read first: money, points or ticks (the other two follow it)."""
UNIT_NAMES = {"$": "$ first", "pt": "points first", "t": "ticks first"}


def in_units(
    money_value: Decimal | None,
    points_value: Decimal | None,
    ticks_value: Decimal | None,
    primary: str = "$",
    *,
    unit: str = "",
    tick: Decimal | None = None,
) -> list[str]:
    """The same figure in money (in its P&L ``unit``), points and ticks, the ``primary`` one first; a part that
    is not known is left out (all unknown: ``["—"]``)."""
    parts = {
        "$": pnl(money_value, unit) if money_value is not None else None,
        "pt": points(points_value, tick) if points_value is not None else None,
        "t": ticks(ticks_value) if ticks_value is not None else None,
    }
    order = [primary, *(u for u in UNITS if u != primary)]
    return [text for text in (parts[u] for u in order) if text is not None] or [DASH]

"""Normalising DTC date-time fields to UTC.

DTC sends times as Unix-epoch numbers whose unit depends on the field and on the header generation
(``ORDER_UPDATE.LastFillDateTime`` went from seconds to milliseconds). ``to_utc`` decides by magnitude:
about 1e9 is seconds, 1e12 milliseconds, 1e15 microseconds.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime


def epoch_seconds(value: float | int | None) -> float | None:
    """Seconds since the Unix epoch for a DTC time in s, ms or µs; ``None`` for 0, unset or absurd values."""
    if value is None:
        return None
    try:
        v = float(value)
    except OverflowError:  # an integer beyond the float range: no time at all
        return None
    if not math.isfinite(v) or v <= 0:
        return None
    if v >= 1e14:
        v /= 1e6
    elif v >= 1e11:
        v /= 1e3
    if v > 4.2e9:  # beyond 2103: a sentinel, not a time
        return None
    return v


def to_utc(value: float | int | None) -> datetime | None:
    """A timezone-aware UTC ``datetime`` for a DTC time field, or ``None`` when unset."""
    seconds = epoch_seconds(value)
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def to_epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as ``ORDER_UPDATE.LastFillDateTime`` carries them in protocol v8."""
    return round(moment.timestamp() * 1000)

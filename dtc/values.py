"""Numbers as they arrive on the wire, made safe: DTC uses DBL_MAX / INT_MAX-style sentinels for "unset"
(dtc-protocol §9), and JSON can carry values beyond a float's range."""

from __future__ import annotations

import math
from decimal import Decimal

UNSET_ABOVE = 1e12
"""A price or quantity at or beyond this magnitude is a sentinel ("unset"), not a value."""


def wire_decimal(value: object, limit: float = UNSET_ABOVE) -> Decimal | None:
    """The exact decimal of a numeric wire value (``6000.25`` → ``Decimal('6000.25')``), or ``None`` when it
    is absent, not a number, NaN/infinite, beyond the float range, or ``abs(value) >= limit``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    if not math.isfinite(number) or abs(number) >= limit:
        return None
    return Decimal(repr(number))

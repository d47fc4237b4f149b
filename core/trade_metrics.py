"""Per-trade figures (ARCHITECTURE §4): efficiencies (Sierra Chart's P&L-based definition) and R-multiple.

All inputs in account currency. Results are fractions (0.75 = 75 %) or ``None`` when not available —
never 0 or 100 % by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Efficiency:
    """entry = MFE / range; exit = (closed P&L − MAE) / range; total = closed P&L / range;
    range = MFE − MAE."""

    entry: Decimal
    exit: Decimal
    total: Decimal


def efficiency(mae: Decimal | None, mfe: Decimal | None, closed_pnl: Decimal) -> Efficiency | None:
    """Sierra Chart's trade efficiencies; ``None`` when MAE/MFE are unknown or their range is zero."""
    if mae is None or mfe is None:
        return None
    span = mfe - mae
    if span <= 0:
        return None
    return Efficiency(entry=mfe / span, exit=(closed_pnl - mae) / span, total=closed_pnl / span)


def initial_risk(entry: Decimal, stop: Decimal | None, quantity: Decimal, point_value: Decimal) -> Decimal | None:
    """|entry − stop| × |quantity| × point value (account currency); ``None`` without a stop or when zero."""
    if stop is None:
        return None
    risk = abs(entry - stop) * abs(quantity) * point_value
    return risk if risk > 0 else None


def r_multiple(net_pnl: Decimal, risk: Decimal | None) -> Decimal | None:
    """Net P&L in units of the initial risk; ``None`` without an initial risk."""
    if risk is None or risk <= 0:
        return None
    return net_pnl / risk

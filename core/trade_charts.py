"""What the trade charts show, computed from a period's closed trades (no Qt; the panel only draws it).

- **MAE vs. final P&L**, one point per trade: how far each trade went against the trader (MAE, the trade's
  lowest P&L while open, ≤ 0) against how it ended (net P&L). Winners and losers apart, the classic picture for
  placing stops: losers far left that a tighter stop would have cut, winners that first went deep.
- **R-multiple histogram**: trades per bin of ``R_BIN`` R (net P&L ÷ initial risk); trades without a stop at
  entry have no R and are counted apart. Values beyond ``R_RANGE`` fall into the outer bins.
- **P&L by hour of day**: net P&L and trade count by the hour (0–23, in the given zone) the trade was entered.

Money in account currency; trades in points or another currency (``pnl_unit`` not "") are left out and
counted in ``excluded``, as in the statistics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from core.snapshots import TradeRow

R_BIN = 0.5
R_RANGE = (-4.0, 8.0)
"""R-multiples below / above are counted in the first / last bin."""

Fact = tuple[datetime, datetime, Decimal, Decimal | None, Decimal | None, str]
"""(entry_time, exit_time, net P&L, MAE, R-multiple, pnl_unit) of one closed trade."""


@dataclass(frozen=True)
class ChartData:
    """Everything the three charts draw. ``mae``/``pnl``: per trade with a stored MAE (account currency);
    ``r_edges``: the left edge of each R bin (``R_BIN`` wide), ``r_counts`` trades per bin; ``hour_pnl`` net P&L
    and ``hour_trades`` trades by entry hour 0–23."""

    trades: int = 0
    mae: tuple[float, ...] = ()
    pnl: tuple[float, ...] = ()
    r_edges: tuple[float, ...] = ()
    r_counts: tuple[int, ...] = ()
    without_r: int = 0
    hour_pnl: tuple[float, ...] = (0.0,) * 24
    hour_trades: tuple[int, ...] = (0,) * 24
    excluded: int = 0

    @property
    def winners(self) -> int:
        return sum(1 for p in self.pnl if p > 0)

    @property
    def losers(self) -> int:
        return sum(1 for p in self.pnl if p < 0)


def facts_of(trades: Sequence[TradeRow]) -> Iterable[Fact]:
    """The chart facts of ``trades``: read off the loaded columns of a ``TradeRows`` (nothing is built or read),
    else from each row."""
    facts = getattr(trades, "facts", None)
    if callable(facts):
        return facts()  # type: ignore[no-any-return]
    return ((t.entry_time, t.exit_time, t.net_pnl, t.mae, t.r_multiple, t.pnl_unit) for t in trades)


def chart_data(facts: Iterable[Fact], tz: tzinfo | None = None) -> ChartData:
    """The charts of these trades, hours in ``tz`` (``None``: this computer's zone). O(trades)."""
    low, high = R_RANGE
    bins = round((high - low) / R_BIN)
    r_counts = [0] * bins
    hour_pnl = [0.0] * 24
    hour_trades = [0] * 24
    mae: list[float] = []
    pnl: list[float] = []
    trades = excluded = without_r = 0
    for entry_time, _exit_time, net, adverse, r, unit in facts:
        if unit:
            excluded += 1
            continue
        trades += 1
        value = float(net)
        if adverse is not None:
            mae.append(float(adverse))
            pnl.append(value)
        if r is None:
            without_r += 1
        else:
            index = math.floor((float(r) - low) / R_BIN)
            r_counts[min(bins - 1, max(0, index))] += 1
        hour = entry_time.astimezone(tz).hour
        hour_pnl[hour] += value
        hour_trades[hour] += 1
    return ChartData(
        trades=trades,
        mae=tuple(mae),
        pnl=tuple(pnl),
        r_edges=tuple(low + i * R_BIN for i in range(bins)),
        r_counts=tuple(r_counts),
        without_r=without_r,
        hour_pnl=tuple(hour_pnl),
        hour_trades=tuple(hour_trades),
        excluded=excluded,
    )

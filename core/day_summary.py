"""Per-day summaries of closed trades: the statistics fold of one UTC day's trades, kept so a long period is
folded day by day instead of trade by trade (issue 10).

A ``DaySummary`` holds what ``RunningStatistics`` needs to continue over a day's trades without seeing them:
sums and counts, the day's cumulative net P&L with its peak, trough, drawdown and run-up from the day's start,
its leading, trailing and longest win/loss runs, the best and worst trade, and up to four points of its
equity curve (first, lowest, highest, last). ``add_summary`` continues a fold with it: the result equals
folding the day's trades one by one (``tests/test_day_summary.py`` checks every figure on random days).

Units: money in account currency (only the day's trades whose ``pnl_unit`` is "" are folded; the others are
counted in ``excluded``), hold time in seconds, times UTC. ``to_json``/``from_json`` keep Decimals as exact text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.history_load import in_account_currency, thinned
from core.stats import RunningStatistics
from data.trade_queries import TradeColumns

_MEANS = ("mae", "mfe", "efficiency", "r")


@dataclass(frozen=True)
class DaySummary:
    """The fold of one day's closed trades (oldest exit first); see the module's docstring."""

    trades: int
    """Trades in the account currency (folded)."""
    excluded: int
    """Trades in points or another currency (listed, never summed)."""
    wins: int
    losses: int
    gross_profit: Decimal
    gross_loss: Decimal
    commissions: Decimal
    net: Decimal
    """Σ net P&L of the folded trades."""
    peak: Decimal
    """max(0, highest cumulative net P&L within the day, from the day's start)."""
    trough: Decimal
    """min(0, lowest cumulative net P&L within the day)."""
    drawdown: Decimal
    runup: Decimal
    lead_wins: int
    lead_losses: int
    tail_wins: int
    tail_losses: int
    most_wins: int
    most_losses: int
    best: Decimal | None
    worst: Decimal | None
    hold_total: Decimal
    """Σ hold seconds (the Decimal of each trade's float seconds, as ``RunningStatistics`` adds them)."""
    means: tuple[tuple[Decimal, int], ...]
    """(total, count) of MAE, MFE, efficiency and R, over the trades that have them."""
    first_entry: datetime | None
    """Entry time of the day's first folded trade (the equity curve starts there at 0)."""
    curve: tuple[tuple[datetime, Decimal], ...]
    """Up to four (exit time, cumulative net P&L from the day's start): the first, lowest, highest, last."""
    last_id: int
    """The largest trade id of the day (all units)."""
    last_exit: datetime | None
    """The newest exit time of the day (all units)."""

    @property
    def count(self) -> int:
        """Every closed trade of the day, folded or excluded."""
        return self.trades + self.excluded


def _leading(flags: bytes) -> int:
    """How many 1s ``flags`` starts with."""
    zero = flags.find(b"\0")
    return len(flags) if zero < 0 else zero


def summarize(c: TradeColumns) -> DaySummary:
    """The summary of the trades ``c`` (one day's, ordered by exit time and id; at least the statistics
    columns of ``data.trade_queries.STATISTICS_COLUMNS``)."""
    s = in_account_currency(c)
    running = RunningStatistics()
    curve: tuple[tuple[datetime, Decimal], ...] = ()
    lead_w = lead_l = 0
    if len(s):
        cumulative = running.add_columns(
            s.entry_time, s.exit_time, s.realized_pnl, s.commissions, s.mae, s.mfe, s.total_efficiency, s.r_multiple
        )
        curve = tuple((s.exit_time[i], cumulative[i]) for i in thinned(cumulative, 4))
        lead_w = _leading(bytes(p > 0 for p in s.realized_pnl))
        lead_l = _leading(bytes(p < 0 for p in s.realized_pnl))
    return DaySummary(
        trades=running.trades,
        excluded=len(c) - len(s),
        wins=running.wins,
        losses=running.losses,
        gross_profit=running.gross_profit,
        gross_loss=running.gross_loss,
        commissions=running.commissions,
        net=running.cumulative,
        peak=running.peak,
        trough=running.trough,
        drawdown=running.drawdown,
        runup=running.runup,
        lead_wins=lead_w,
        lead_losses=lead_l,
        tail_wins=running.streak_w,
        tail_losses=running.streak_l,
        most_wins=running.best_w,
        most_losses=running.best_l,
        best=running.best,
        worst=running.worst,
        hold_total=running.hold.total,
        means=tuple((m.total, m.count) for m in (running.mae, running.mfe, running.efficiency, running.r)),
        first_entry=s.entry_time[0] if len(s) else None,
        curve=curve,
        last_id=max(c.id) if len(c) else 0,
        last_exit=c.exit_time[-1] if len(c) else None,
    )


def add_summary(r: RunningStatistics, s: DaySummary) -> list[tuple[datetime, Decimal]]:
    """Continue the fold ``r`` with a day summarized as ``s`` (days in order, after every trade ``r`` holds):
    ``r`` then equals folding the day's trades one by one. Returns the day's curve points as cumulative net
    P&L of the whole fold. Excluded trades are added to ``r.excluded``."""
    r.excluded += s.excluded
    if not s.trades:
        return []
    c, p, t = r.cumulative, r.peak, r.trough
    # A drawdown ends at some trade of the day: from a peak before the day (p) or within it (s.drawdown).
    r.drawdown = max(r.drawdown, p - c - s.trough, s.drawdown)
    r.runup = max(r.runup, c + s.peak - t, s.runup)
    r.peak, r.trough, r.cumulative = max(p, c + s.peak), min(t, c + s.trough), c + s.net
    r.trades += s.trades
    r.wins += s.wins
    r.losses += s.losses
    r.gross_profit += s.gross_profit
    r.gross_loss += s.gross_loss
    r.commissions += s.commissions
    r.best_w = max(r.best_w, s.most_wins, r.streak_w + s.lead_wins)
    r.best_l = max(r.best_l, s.most_losses, r.streak_l + s.lead_losses)
    r.streak_w = r.streak_w + s.trades if s.lead_wins == s.trades else s.tail_wins
    r.streak_l = r.streak_l + s.trades if s.lead_losses == s.trades else s.tail_losses
    if s.best is not None and (r.best is None or s.best > r.best):
        r.best = s.best
    if s.worst is not None and (r.worst is None or s.worst < r.worst):
        r.worst = s.worst
    r.hold.total += s.hold_total
    r.hold.count += s.trades
    for name, (total, count) in zip(_MEANS, s.means, strict=True):
        mean = getattr(r, name)
        mean.total += total
        mean.count += count
    return [(when, c + value) for when, value in s.curve]


# --- JSON -----------------------------------------------------------------------------------------------

FORMAT = 1
"""The layout ``to_json`` writes: [FORMAT, then every field in declaration order]; another layout is refolded."""


def _undec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _untime(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def to_json(s: DaySummary) -> str:
    """``s`` as JSON text: a list of its fields in order (Decimals as exact text, times ISO 8601 with offset)."""
    values: list[Any] = [FORMAT]
    for f in fields(s):
        value = getattr(s, f.name)
        if f.name == "means":
            value = [[str(total), count] for total, count in value]
        elif f.name == "curve":
            value = [[when.isoformat(), str(v)] for when, v in value]
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        values.append(value)
    return json.dumps(values, separators=(",", ":"))


def _decoders() -> list[Any]:
    decoders: list[Any] = []
    for f in fields(DaySummary):
        kind = str(f.type)
        if f.name == "means":
            decoders.append(lambda v: tuple((Decimal(total), int(count)) for total, count in v))
        elif f.name == "curve":
            decoders.append(lambda v: tuple((datetime.fromisoformat(when), Decimal(x)) for when, x in v))
        elif kind.startswith("Decimal"):
            decoders.append(_undec)
        elif kind.startswith("datetime"):
            decoders.append(_untime)
        else:
            decoders.append(int)
    return decoders


_DECODERS = _decoders()


def from_json(text: str) -> DaySummary:
    """The ``DaySummary`` ``to_json`` wrote. Raises ``ValueError`` (or ``TypeError``/``ArithmeticError``) for text
    it did not write — the caller then folds that day again."""
    values = json.loads(text)
    if not isinstance(values, list) or len(values) != len(_DECODERS) + 1 or values[0] != FORMAT:
        raise ValueError("day summary: not written by this version")
    summary = DaySummary(*(decode(v) for decode, v in zip(_DECODERS, values[1:], strict=True)))
    if summary.trades and summary.net != summary.gross_profit + summary.gross_loss:
        raise ValueError("day summary: net P&L is not gross profit + gross loss")
    return summary

"""Statistics of long periods from per-day summaries (issue 10): a cold "All" over 100,000 trades folds a few
hundred ``DaySummary`` rows, not every trade.

``load_period`` brings the scope's stored summaries up to date first — only the days of trades stored since
they were written are folded again (one query per such day), or, the first time, the whole history once —
and writes them back (best effort: a failed write is logged and the summaries are still used). Then:

* a period with at most ``SUMMARIZE_ABOVE`` trades is loaded trade by trade (``load_history``: its equity curve
  has a point per trade);
* a longer one is folded day by day: whole UTC days from the summaries, the part of the first day after the
  period's start from its trades. Statistics equal the trade-by-trade fold exactly — money, counts, extremes,
  streaks, drawdown — except the averages of fractions (efficiency, R: Decimals of 28 significant digits,
  summed in another order), which may differ in the 28th digit; the equity curve has the
  first, lowest, highest and last point of each day (every peak and trough); the trade rows are read when
  looked at (the newest ``LISTED`` now, the rest by id when a CSV export asks).

Runs on the statistics loader thread (its own connections); raises ``StorageError`` like ``load_history``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine

from core.day_summary import DaySummary, add_summary, from_json, summarize, to_json
from core.history_load import LoadedHistory, load_history
from core.snapshots import EquityPoint
from core.stats import RunningStatistics
from core.trade_rows import LISTED, TradeRows
from data.repository import StorageError
from data.summary_store import changed_days, day_bounds, read_summaries, utc_day, write_summaries
from data.trade_queries import (
    STATISTICS_COLUMNS,
    TradeColumns,
    newest_trade_id,
    trade_columns,
    trade_columns_by_id,
    trade_ids,
)

log = logging.getLogger(__name__)

SUMMARIZE_ABOVE = 4000
"""A period with more closed trades than this is folded from day summaries (its curve thinned to days)."""


def _by_day(c: TradeColumns) -> dict[str, TradeColumns]:
    """``c`` split by the UTC day of each exit (each part ordered as ``c``)."""
    positions: dict[str, list[int]] = defaultdict(list)
    for i, moment in enumerate(c.exit_time):
        positions[utc_day(moment)].append(i)
    return {day: c.take(keep) for day, keep in positions.items()}


def up_to_date_summaries(engine: Engine, mode: str, account: str, from_day: str | None = None) -> dict[str, DaySummary]:
    """Every day of (mode, account) with closed trades from ``from_day`` (``YYYY-MM-DD``; all if ``None``) → its
    summary, brought up to date and stored. Days before ``from_day`` are read only if trades were stored on them
    since (they are folded again and stored, and may be in the answer)."""
    covered, stored = read_summaries(engine, mode, account, from_day)
    summaries: dict[str, DaySummary] = {}
    refold: set[str] = set()
    for day, text in stored.items():
        try:
            summaries[day] = from_json(text)
        except (ValueError, KeyError, TypeError, ArithmeticError):
            refold.add(day)  # written by another version, or damaged: fold the day again
    changes: dict[str, str | None] = {}
    if covered == 0 and not stored:  # the first time: the whole history in one read
        newest = newest_trade_id(engine)  # read first: every trade of the scope up to it is in the read below
        if newest_trade_id(engine, mode, account):
            for day, part in _by_day(trade_columns(engine, mode, account, None, STATISTICS_COLUMNS)).items():
                summaries[day] = summarize(part)
                changes[day] = to_json(summaries[day])
    else:
        days, newest = changed_days(engine, mode, account, covered)
        for day in sorted(days | refold):
            since, until = day_bounds(day)
            part = trade_columns(engine, mode, account, since, STATISTICS_COLUMNS, until)
            if len(part):
                summaries[day] = summarize(part)
                changes[day] = to_json(summaries[day])
            else:
                summaries.pop(day, None)
                changes[day] = None
    if changes or newest != covered:
        try:
            write_summaries(engine, mode, account, changes, newest)
        except StorageError as exc:  # the figures are right anyway; the next load folds these days again
            log.warning("trade summaries not stored (%s); they are computed again next time", exc)
    return summaries


def load_period(
    engine: Engine, mode: str, account: str, since: datetime | None, summarize_above: int = SUMMARIZE_ABOVE
) -> LoadedHistory:
    """The closed trades of (``mode``, ``account``) with exit ≥ ``since`` (all if ``None``), folded — like
    ``load_history``, from day summaries when the period has more than ``summarize_above`` trades. Raises
    ``StorageError``; ``ValueError`` if ``since`` is naive."""
    first_day = None if since is None else utc_day(since)
    summaries = up_to_date_summaries(engine, mode, account, first_day)  # a short period reads a few rows
    whole = [(day, s) for day, s in sorted(summaries.items()) if first_day is None or day > first_day]
    partial: DaySummary | None = None
    if first_day is not None and first_day in summaries:
        _, until = day_bounds(first_day)
        part = trade_columns(engine, mode, account, since, STATISTICS_COLUMNS, until)
        partial = summarize(part) if len(part) else None
    days = ([partial] if partial is not None else []) + [s for _, s in whole]
    count = sum(s.count for s in days)
    if count <= summarize_above:
        return load_history(engine, mode, account, since)
    running = RunningStatistics()
    curve: list[EquityPoint] = []
    for s in days:
        if not curve and s.first_entry is not None:
            curve.append(EquityPoint(s.first_entry, Decimal(0)))
        curve.extend(EquityPoint(when, value) for when, value in add_summary(running, s))
    rows = TradeRows.by_ids(
        count,
        ids=lambda: trade_ids(engine, mode, account, since)[:count],
        newest=lambda n: trade_ids(engine, mode, account, since, newest=n),
        fetch=lambda ids: trade_columns_by_id(engine, ids),
        columns=lambda: trade_columns(engine, mode, account, since, STATISTICS_COLUMNS),
    )
    rows.prefetch(LISTED)
    last_exit = max((s.last_exit for s in days if s.last_exit is not None), default=None)
    return LoadedHistory(running, rows, curve, max(s.last_id for s in days), last_exit)

"""Loading the closed-trade history of one scope and period for Panel3 quickly (issue 10).

``load_history`` reads the trades with a column query (``data.trade_queries``) and folds them column by
column (``RunningStatistics.add_columns``): the statistics, the trade rows and the equity curve equal what
folding ``TradeRecord`` objects one by one gives (the same Decimals, the same UTC datetimes), about ten times
faster. The rows are built only when looked at (``core.trade_rows``): the window lists the newest few hundred.

It opens its own connection from the engine's pool and shares no state, so it may run on a background thread.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from itertools import repeat
from typing import Any, TypeVar

from sqlalchemy import Engine

from core.snapshots import EquityPoint
from core.stats import RunningStatistics
from core.trade_rows import TradeRows
from data.trade_queries import STATISTICS_COLUMNS, TradeColumns, trade_columns, trade_columns_by_id

_T = TypeVar("_T")
CURVE_POINTS = 4000
"""A loaded equity curve longer than this is thinned to about this many points for drawing: per bucket of
consecutive points its first, lowest, highest and last — so every peak and trough a chart a few hundred pixels
wide can show is kept (and the statistics, computed from every trade, are unchanged)."""


def thinned(values: list[Decimal], limit: int) -> list[int]:
    """Indices of ``values`` to draw: all when there are at most ``limit``; else, per bucket of consecutive
    values, the first, the lowest, the highest and the last (in order, each once). Always keeps the first and
    the last value."""
    n = len(values)
    if n <= limit:
        return list(range(n))
    buckets = max(1, limit // 4)
    size = -(-n // buckets)  # ceiling division
    keep: list[int] = []
    for start in range(0, n, size):
        stop = min(start + size, n)
        chunk = values[start:stop]
        low = start + min(range(len(chunk)), key=chunk.__getitem__)
        high = start + max(range(len(chunk)), key=chunk.__getitem__)
        keep.extend(sorted({start, low, high, stop - 1}))
    return keep


@dataclass
class LoadedHistory:
    """The folded trades of one (mode, account, since), oldest exit first.

    ``running``: the statistics fold over every trade (keep adding to it); ``rows``: one ``TradeRow`` per
    trade, built when looked at (``TradeRows``); ``trade_curve``: (entry time of the first trade, 0), then
    (exit time, cumulative net P&L) per trade, account currency, thinned beyond ``CURVE_POINTS``; ``last_id``:
    the largest trade id read (0 if none); ``last_exit``: the newest exit time (``None`` if no trade)."""

    running: RunningStatistics
    rows: TradeRows
    trade_curve: list[EquityPoint]
    last_id: int
    last_exit: datetime | None


def _build(cls: type[_T], by_field: dict[str, list[Any]]) -> list[_T]:
    """``[cls(**{field: column[i] ...}) for i ...]`` for a frozen dataclass, built column by column.

    A frozen dataclass's ``__init__`` does ``object.__setattr__(self, field, value)`` for each field in order;
    doing that in C over whole columns (``map``) gives the same objects (same attributes, set in the same
    order) in half the time. Used only when ``__init__`` does nothing else (no ``__post_init__``, every field
    an init field, no own ``__new__``); otherwise the class is called."""
    cls_fields = fields(cls)  # type: ignore[arg-type]
    names = [f.name for f in cls_fields]
    columns = [by_field[name] for name in names]
    plain = not hasattr(cls, "__post_init__") and cls.__new__ is object.__new__ and all(f.init for f in cls_fields)
    if not plain:
        return list(map(cls, *columns))
    objects = list(map(object.__new__, repeat(cls, len(columns[0]))))
    for name, column in zip(names, columns, strict=True):
        deque(map(object.__setattr__, objects, repeat(name), column), 0)
    return objects


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the load builds its objects, and restore it after.

    A load creates hundreds of thousands of tracked objects (rows, points), none of them garbage; with the
    collector on, its young-generation passes keep traversing them (a fifth of the load's time or more). The pause is
    process-wide but short; the collector is re-enabled only if it was enabled."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_history(engine: Engine, mode: str, account: str, since: datetime | None) -> LoadedHistory:
    """The closed trades of (``mode``, ``account``) with exit ≥ ``since`` (all if ``None``), folded.

    Raises ``StorageError`` (``data.repository``) if the trades cannot be read; ``ValueError`` if ``since`` is
    naive."""
    with _gc_paused():
        c = trade_columns(engine, mode, account, since, STATISTICS_COLUMNS)
        running = RunningStatistics()
        if not len(c):
            return LoadedHistory(running, TradeRows(), [], 0, None)
        s = in_account_currency(c)
        curve: list[EquityPoint] = []
        if len(s):
            cumulative = running.add_columns(
                s.entry_time, s.exit_time, s.realized_pnl, s.commissions, s.mae, s.mfe, s.total_efficiency, s.r_multiple
            )
            times, values = [s.entry_time[0], *s.exit_time], [Decimal(0), *cumulative]
            if len(values) > CURVE_POINTS:
                keep = thinned(values, CURVE_POINTS)
                times, values = [times[i] for i in keep], [values[i] for i in keep]
            curve = _build(EquityPoint, {"time": times, "value": values})
        running.excluded = len(c) - len(s)
        rows = TradeRows(c, fetch=lambda ids: trade_columns_by_id(engine, ids))
        rows.prefetch()  # the rows the window lists: read here, off the GUI thread
        return LoadedHistory(running, rows, curve, max(c.id), c.exit_time[-1])


def in_account_currency(c: TradeColumns) -> TradeColumns:
    """The trades whose money is in the account currency (``pnl_unit`` ""): the ones statistics add up. Trades
    in points (point value unknown) or another currency are listed, never summed with them."""
    if not any(c.pnl_unit):
        return c
    return c.take([i for i, unit in enumerate(c.pnl_unit) if not unit])

"""``TradeRows``: a period's closed trades as an immutable sequence of ``TradeRow`` built on demand (issue 10).

A cold load of "All" reads a hundred thousand trades as columns (``data.trade_queries``) — only the columns
the statistics need; building a ``TradeRow`` for each trade, and reading the columns only a row shows (symbol,
side, prices…), cost more than the statistics themselves. The window lists only the newest few hundred, so a
row is built when it is looked at — the table's rows, a CSV export — from the loaded columns, or from its other
columns read by id (``fetch``) and kept. The loaded columns are never changed. Trades closed since the load are
kept as ready rows after them.

A ``TradeRows`` is a snapshot: rows appended to the fold later (``plus``) are not in the sequences handed out
before, so it may cross from the DTC thread to the GUI thread like the other snapshot values.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import overload

from core.snapshots import TradeRow
from data.repository import StorageError
from data.trade_queries import TradeColumns, has_all_columns

log = logging.getLogger(__name__)

LISTED = 500
"""At most this many trades (the newest) are rows of the window's table; statistics and the CSV cover all of
them. A load reads their rows ahead (``prefetch``), off the GUI thread."""

Fetch = Callable[[Sequence[int]], TradeColumns]
"""Every column of the trades with these ids, in that order (``data.trade_queries.trade_columns_by_id``)."""

_FIELDS = (  # TradeRow field ← TradeColumns column
    ("symbol", "symbol"),
    ("side", "side"),
    ("quantity", "qty"),
    ("entry_time", "entry_time"),
    ("exit_time", "exit_time"),
    ("entry_price", "entry_price"),
    ("exit_price", "exit_price"),
    ("net_pnl", "realized_pnl"),
    ("mae", "mae"),
    ("mfe", "mfe"),
    ("total_efficiency", "total_efficiency"),
    ("r_multiple", "r_multiple"),
    ("mae_points", "mae_points"),
    ("mfe_points", "mfe_points"),
    ("tick_size", "tick_size"),
    ("pnl_unit", "pnl_unit"),
    ("sierra", "sierra"),
    ("commissions", "commissions"),
)


class _Ids:
    """The ids of ``count`` trades in order, read when needed: the newest few first, all on demand."""

    def __init__(
        self,
        count: int,
        read_all: Callable[[], list[int]],
        read_newest: Callable[[int], list[int]],
        read_columns: Callable[[], TradeColumns] | None = None,
    ) -> None:
        self.count = count
        self._read_all, self._read_newest, self._read_columns = read_all, read_newest, read_columns
        self._columns: TradeColumns | None = None
        self._all: list[int] | None = None
        self._newest: list[int] = []
        self._lock = threading.Lock()
        self._columns_lock = threading.Lock()

    def read_newest(self, n: int) -> None:
        newest = self._read_newest(min(n, self.count))
        with self._lock:
            self._newest = newest[-self.count :] if self.count else []

    def columns(self) -> TradeColumns | None:
        """The statistics columns of the trades (read once, when first asked; ``None`` without a reader).
        Raises ``StorageError`` if they cannot be read."""
        if self._read_columns is None:
            return None
        with self._columns_lock:  # not the ids' lock: rows are still read by id (the GUI) during this long read
            if self._columns is None:
                self._columns = self._read_columns()
            return self._columns

    def slice(self, start: int, stop: int) -> list[int]:
        """Ids of positions ``start``…``stop − 1``. Raises ``StorageError`` if they cannot be read."""
        with self._lock:
            first_newest = self.count - len(self._newest)
            if start >= first_newest:
                return self._newest[start - first_newest : stop - first_newest]
            if self._all is None:
                self._all = self._read_all()
            return self._all[start:stop]


def trade_row(record: object) -> TradeRow:
    """The ``TradeRow`` of a stored trade (a ``TradeRecord``, or anything with its column names)."""
    return TradeRow(*(getattr(record, column) for _, column in _FIELDS))


class TradeRows(Sequence[TradeRow]):
    """The first ``loaded`` trades of ``columns`` (oldest exit first), then the first ``added_count`` rows of
    ``added`` (trades stored since the load). Indexing builds a ``TradeRow`` from the columns; slicing gives a
    list. Two ``TradeRows`` are equal when they hold equal rows in the same order."""

    __slots__ = (
        "_added",
        "_added_count",
        "_built",
        "_columns",
        "_fetch",
        "_ids",
        "_lists",
        "_loaded",
        "_lock",
    )

    def __init__(
        self,
        columns: TradeColumns | None = None,
        added: list[TradeRow] | None = None,
        *,
        fetch: Fetch | None = None,
        loaded: int | None = None,
        added_count: int | None = None,
        built: dict[int, TradeRow] | None = None,
    ) -> None:
        """``columns``: the loaded trades (all columns, or only the statistics' ones with ``fetch`` to read the
        rest by id). Raises ``ValueError`` for columns without a way to build their rows."""
        self._columns = columns
        self._loaded = len(columns) if columns is not None and loaded is None else (loaded or 0)
        full = columns is not None and has_all_columns(columns)
        if columns is not None and self._loaded and not full and fetch is None:
            raise ValueError("TradeRows: columns without the row columns need a fetch")
        self._lists = [getattr(columns, name) for _, name in _FIELDS] if full and columns is not None else []
        self._fetch = None if full else fetch
        self._built: dict[int, TradeRow] = built if built is not None else {}  # trade id → row read by id
        self._lock = threading.Lock()
        self._added = added if added is not None else []
        self._added_count = len(self._added) if added_count is None else added_count
        self._ids: _Ids | None = None

    @classmethod
    def by_ids(
        cls,
        count: int,
        ids: Callable[[], list[int]],
        newest: Callable[[int], list[int]],
        fetch: Fetch,
        columns: Callable[[], TradeColumns] | None = None,
    ) -> TradeRows:
        """``count`` trades known by position only: ``ids()`` gives all their ids in order (read when a row
        other than the newest is looked at, e.g. by a CSV export), ``newest(n)`` the last ``n`` of them (read
        by ``prefetch``), ``fetch`` their columns by id, ``columns()`` their statistics columns (read when the
        charts ask for ``facts``)."""
        rows = cls(loaded=count, fetch=fetch)
        rows._ids = _Ids(count, ids, newest, columns)
        return rows

    def plus(self, rows: Sequence[TradeRow]) -> TradeRows:
        """These trades and ``rows`` after them: a new snapshot sharing this one's storage (O(len(rows)))."""
        self._added.extend(rows)  # beyond _added_count: invisible to this and earlier snapshots
        rows = TradeRows(
            self._columns,
            self._added,
            fetch=self._fetch,
            loaded=self._loaded,
            added_count=len(self._added),
            built=self._built,
        )
        rows._ids = self._ids
        return rows

    def __len__(self) -> int:
        return self._loaded + self._added_count

    def prefetch(self, newest: int = LISTED) -> None:
        """Read the rows of the ``newest`` loaded trades now (on the calling thread — the statistics loader),
        so showing them later reads nothing."""
        if self._fetch is not None and self._loaded:
            if self._ids is not None:
                self._ids.read_newest(newest)
            self._rows(max(0, self._loaded - newest), self._loaded)

    def exit_time(self, i: int) -> datetime:
        """The exit time (UTC) of trade ``i`` without building its row."""
        if i >= self._loaded:
            return self._added[i - self._loaded].exit_time
        if self._columns is None or not self._columns.exit_time:  # known by id: its row (read 500 at a time)
            assert self._ids is not None
            (trade_id,) = self._ids.slice(i, i + 1)
            row = self._built.get(trade_id)
            return (row or self._rows(max(0, i - 499), i + 1)[-1]).exit_time
        return self._columns.exit_time[i]

    def facts(self) -> Iterator[tuple[datetime, datetime, Decimal, Decimal | None, Decimal | None, str]]:
        """(entry_time, exit_time, net P&L, MAE, R-multiple, pnl_unit) of every trade, oldest exit first, from the
        loaded statistics columns and the added rows: no row is built (the charts use it). A long period's columns
        are read here, the first time (off the GUI thread: the charts' worker calls it)."""
        c = self._columns
        if c is None and self._ids is not None:  # a long period folded from day summaries: read them now
            try:
                c = self._ids.columns()
            except StorageError as exc:
                log.error("cannot read the trades for the charts: %s", exc)
        if c is not None:
            columns = (c.entry_time, c.exit_time, c.realized_pnl, c.mae, c.r_multiple, c.pnl_unit)
            for i in range(self._loaded):
                yield tuple(column[i] for column in columns)  # type: ignore[misc]
        for t in self._added[: self._added_count]:
            yield (t.entry_time, t.exit_time, t.net_pnl, t.mae, t.r_multiple, t.pnl_unit)

    def _row(self, i: int) -> TradeRow:
        if i >= self._loaded:
            return self._added[i - self._loaded]
        if self._lists:
            return TradeRow(*(column[i] for column in self._lists))
        return self._rows(i, i + 1)[0]

    def _rows(self, start: int, stop: int) -> list[TradeRow]:
        """Rows ``start``…``stop − 1`` of the loaded trades read by id (one query per 500 missing)."""
        assert self._fetch is not None
        if self._ids is not None:
            ids = self._ids.slice(start, stop)
        else:
            assert self._columns is not None
            ids = self._columns.id[start:stop]
        with self._lock:
            missing = [i for i in ids if i not in self._built]
        if missing:
            try:
                c = self._fetch(missing)
            except StorageError as exc:
                log.error("cannot read %d trade row(s): %s", len(missing), exc)
                c = TradeColumns(*([] for _ in fields(TradeColumns)))
            lists = [getattr(c, name) for _, name in _FIELDS]
            fetched = {trade_id: TradeRow(*(column[k] for column in lists)) for k, trade_id in enumerate(c.id)}
            with self._lock:
                self._built.update(fetched)
        return [self._built.get(trade_id) or self._unreadable(start + k) for k, trade_id in enumerate(ids)]

    def _unreadable(self, i: int) -> TradeRow:
        """Trade ``i`` when its row cannot be read (the database refused, or it is no longer stored): what the
        statistics columns know, the rest marked unreadable (not kept: the next look reads it again)."""
        c = self._columns
        if c is None or not c.exit_time:
            never = datetime.fromtimestamp(0, UTC)
            return TradeRow("(unreadable)", "", Decimal(0), never, never, Decimal(0), Decimal(0), Decimal(0))
        return TradeRow(
            symbol="(unreadable)",
            side="",
            quantity=Decimal(0),
            entry_time=c.entry_time[i],
            exit_time=c.exit_time[i],
            entry_price=Decimal(0),
            exit_price=Decimal(0),
            net_pnl=c.realized_pnl[i],
            mae=c.mae[i],
            mfe=c.mfe[i],
            total_efficiency=c.total_efficiency[i],
            r_multiple=c.r_multiple[i],
            pnl_unit=c.pnl_unit[i],
            commissions=c.commissions[i],
        )

    @overload
    def __getitem__(self, index: int) -> TradeRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[TradeRow]: ...

    def __getitem__(self, index: int | slice) -> TradeRow | list[TradeRow]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1 and self._fetch is not None and start < min(stop, self._loaded):
                head = self._rows(start, min(stop, self._loaded))
                return head + [self._row(i) for i in range(max(start, self._loaded), stop)]
            return [self._row(i) for i in range(start, stop, step)]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("trade row index out of range")
        return self._row(index)

    def __iter__(self) -> Iterator[TradeRow]:
        batch = 2000
        for start in range(0, len(self), batch):
            yield from self[start : start + batch]

    def __reversed__(self) -> Iterator[TradeRow]:
        for i in range(len(self) - 1, -1, -1):
            yield self._row(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TradeRows | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"TradeRows({len(self)} trades)"

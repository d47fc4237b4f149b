"""``TradeRows``: a period's closed trades as an immutable sequence of ``TradeRow`` built on demand (issue 10).

A cold load of "All" reads a hundred thousand trades as columns (``data.trade_queries``); building a
``TradeRow`` object for each of them cost more than reading them. The window lists only the newest few hundred,
so rows are built when they are looked at — the table's, today's count, a CSV export — from the columns, which
are never changed after the load. Trades closed since the load are kept as ready rows after them.

A ``TradeRows`` is a snapshot: rows appended to the fold later (``plus``) are not in the sequences handed out
before, so it may cross from the DTC thread to the GUI thread like the other snapshot values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from core.snapshots import TradeRow
from data.trade_queries import TradeColumns

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
)


class TradeRows(Sequence[TradeRow]):
    """The first ``loaded`` trades of ``columns`` (oldest exit first), then the first ``added_count`` rows of
    ``added`` (trades stored since the load). Indexing builds a ``TradeRow`` from the columns; slicing gives a
    list. Two ``TradeRows`` are equal when they hold equal rows in the same order."""

    __slots__ = ("_added", "_added_count", "_columns", "_lists", "_loaded")

    def __init__(
        self,
        columns: TradeColumns | None = None,
        added: list[TradeRow] | None = None,
        *,
        loaded: int | None = None,
        added_count: int | None = None,
    ) -> None:
        self._columns = columns
        self._loaded = len(columns) if columns is not None and loaded is None else (loaded or 0)
        self._lists = [getattr(columns, name) for _, name in _FIELDS] if columns is not None else []
        self._added = added if added is not None else []
        self._added_count = len(self._added) if added_count is None else added_count

    def plus(self, rows: Sequence[TradeRow]) -> TradeRows:
        """These trades and ``rows`` after them: a new snapshot sharing this one's storage (O(len(rows)))."""
        self._added.extend(rows)  # beyond _added_count: invisible to this and earlier snapshots
        return TradeRows(self._columns, self._added, loaded=self._loaded, added_count=len(self._added))

    def __len__(self) -> int:
        return self._loaded + self._added_count

    def _row(self, i: int) -> TradeRow:
        if i >= self._loaded:
            return self._added[i - self._loaded]
        return TradeRow(*(column[i] for column in self._lists))

    @overload
    def __getitem__(self, index: int) -> TradeRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[TradeRow]: ...

    def __getitem__(self, index: int | slice) -> TradeRow | list[TradeRow]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("trade row index out of range")
        return self._row(index)

    def __iter__(self) -> Iterator[TradeRow]:
        for i in range(len(self)):
            yield self._row(i)

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

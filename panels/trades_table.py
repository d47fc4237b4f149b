"""The period's closed trades as a table model (sorted by value, not by text) and their CSV export.

``write_trades_csv`` is a pure function (no Qt): raw values, times in ISO 8601 UTC, money in account
currency, efficiency as a fraction, so a spreadsheet can compute with them."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from core.snapshots import TradeRow
from panels import format as fmt
from panels.theme import LOSS, PROFIT

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""The role a ``QSortFilterProxyModel`` sorts by: epoch seconds, floats or plain strings."""

CSV_HEADER = (
    "entry_time_utc",
    "exit_time_utc",
    "symbol",
    "side",
    "quantity",
    "entry_price",
    "exit_price",
    "net_pnl",
    "mae",
    "mfe",
    "total_efficiency",
    "r_multiple",
)


def _raw(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def write_trades_csv(path: Path, trades: Sequence[TradeRow]) -> int:
    """Write ``trades`` to ``path`` (UTF-8, header + one row per trade); returns the number of rows.

    Empty cells mean "not available". Raises ``OSError`` if the file cannot be written.
    """
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for t in trades:
            writer.writerow(
                [
                    t.entry_time.isoformat(),
                    t.exit_time.isoformat(),
                    t.symbol,
                    t.side,
                    _raw(t.quantity),
                    _raw(t.entry_price),
                    _raw(t.exit_price),
                    _raw(t.net_pnl),
                    _raw(t.mae),
                    _raw(t.mfe),
                    _raw(t.total_efficiency),
                    _raw(t.r_multiple),
                ]
            )
    return len(trades)


def _num(value: Decimal | None) -> float:
    return float("-inf") if value is None else float(value)


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[TradeRow, tzinfo | None], str]
    key: Callable[[TradeRow], Any]
    numeric: bool = True
    colored: Callable[[TradeRow], Decimal | None] | None = None


COLUMNS: tuple[Column, ...] = (
    Column("Entry time", lambda t, tz: fmt.short_timestamp(t.entry_time, tz), lambda t: t.entry_time.timestamp()),
    Column("Exit time", lambda t, tz: fmt.short_timestamp(t.exit_time, tz), lambda t: t.exit_time.timestamp()),
    Column("Symbol", lambda t, tz: t.symbol, lambda t: t.symbol, numeric=False),
    Column("Side", lambda t, tz: t.side, lambda t: t.side, numeric=False),
    Column("Qty", lambda t, tz: fmt.quantity(t.quantity), lambda t: float(t.quantity)),
    Column("Entry", lambda t, tz: fmt.avg_price(t.entry_price), lambda t: float(t.entry_price)),
    Column("Exit", lambda t, tz: fmt.avg_price(t.exit_price), lambda t: float(t.exit_price)),
    Column("P&L", lambda t, tz: fmt.money(t.net_pnl), lambda t: float(t.net_pnl), colored=lambda t: t.net_pnl),
    Column("MAE", lambda t, tz: fmt.money(t.mae), lambda t: _num(t.mae)),
    Column("MFE", lambda t, tz: fmt.money(t.mfe), lambda t: _num(t.mfe)),
    Column("Eff.", lambda t, tz: fmt.percent(t.total_efficiency), lambda t: _num(t.total_efficiency)),
    Column(
        "R", lambda t, tz: fmt.r_multiple(t.r_multiple), lambda t: _num(t.r_multiple), colored=lambda t: t.r_multiple
    ),
)


_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        SORT_ROLE,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
    }
)


class TradesModel(QAbstractTableModel):
    """Read-only model over closed trades (``TradeRow``, oldest exit first). ``set_trades`` replaces them
    (a scope or period change) and resets only when they differ; ``append`` inserts new rows at the end,
    costing the number of new rows, not the number shown.

    ``tz`` is the zone times are shown in (``None``: this computer's local time)."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        super().__init__()
        self._tz = tz
        self._source: tuple[TradeRow, ...] = ()
        self._trades: list[TradeRow] = []
        self._texts: dict[tuple[int, int], str] = {}
        """Display text by (row, column), formatted once (rows never change, they are only added)."""
        self.resets = 0

    @property
    def trades(self) -> tuple[TradeRow, ...]:
        return tuple(self._trades)

    def set_trades(self, trades: tuple[TradeRow, ...]) -> bool:
        """Show ``trades``; returns True if the model was reset (the rows differed)."""
        if trades is self._source or (len(trades) == len(self._trades) and list(trades) == self._trades):
            self._source = trades
            return False
        self.beginResetModel()
        self._source = trades
        self._trades = list(trades)
        self._texts.clear()
        self.endResetModel()
        self.resets += 1
        return True

    def append(self, rows: list[TradeRow]) -> None:
        """Add newly closed trades after the others."""
        if not rows:
            return
        first = len(self._trades)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._trades.extend(rows)
        self.endInsertRows()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._trades)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():
            return None  # a painted cell asks for a dozen roles: answer the unused ones at once
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            text = self._texts.get((row, col))
            if text is None:
                text = self._texts[(row, col)] = COLUMNS[col].text(self._trades[row], self._tz)
            return text
        trade, column = self._trades[row], COLUMNS[col]
        if role == SORT_ROLE:
            return column.key(trade)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column.colored is not None:
            value = column.colored(trade)
            if value is not None and value != 0:
                return QColor(PROFIT if value > 0 else LOSS)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section].title
        return None

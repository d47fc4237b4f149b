"""The period's closed trades as a table model (sorted by value, not by text); the CSV export is in
``panels.trades_csv``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel

from core.snapshots import TradeRow
from core.trade_rows import LISTED
from panels import format as fmt
from panels.theme import LOSS, PROFIT

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""The role a ``QSortFilterProxyModel`` sorts by: epoch seconds, floats or plain strings."""

def _num(value: Decimal | None) -> float:
    return float("-inf") if value is None else float(value)


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[TradeRow, tzinfo | None, str], str]
    """``text(trade, tz, primary_unit)``: the cell's text (``primary_unit`` ``$``/``pt``/``t`` comes first)."""
    key: Callable[[TradeRow], Any]
    numeric: bool = True
    colored: Callable[[TradeRow], Decimal | None] | None = None
    tip: str = ""
    """The header's tooltip: what the column means."""


MAE_TIP = (
    "MAE — maximum adverse excursion: the trade's lowest P&L while open (realized so far by partial exits +"
    " open P&L, gross). In points: the worst price distance from the average entry at that moment."
)
MFE_TIP = (
    "MFE — maximum favourable excursion: the trade's highest P&L while open (realized so far by partial exits +"
    " open P&L, gross). In points: the best price distance from the average entry at that moment."
)


def _mae(t: TradeRow, primary: str) -> str:
    """``-$20.00 · -2.00 pt · -8 t`` in the ``primary`` unit first (points and ticks only when stored); the
    cell shows the first part, its tooltip all of them."""
    return " · ".join(fmt.in_units(t.mae, t.mae_points, t.mae_ticks, primary, unit=t.pnl_unit, tick=t.tick_size))


def _mfe(t: TradeRow, primary: str) -> str:
    return " · ".join(fmt.in_units(t.mfe, t.mfe_points, t.mfe_ticks, primary, unit=t.pnl_unit, tick=t.tick_size))


COLUMNS: tuple[Column, ...] = (
    Column("Entry time", lambda t, tz, u: fmt.short_timestamp(t.entry_time, tz), lambda t: t.entry_time.timestamp()),
    Column("Exit time", lambda t, tz, u: fmt.short_timestamp(t.exit_time, tz), lambda t: t.exit_time.timestamp()),
    Column("Symbol", lambda t, tz, u: t.symbol, lambda t: t.symbol, numeric=False),
    Column("Side", lambda t, tz, u: t.side, lambda t: t.side, numeric=False),
    Column("Qty", lambda t, tz, u: fmt.quantity(t.quantity), lambda t: float(t.quantity)),
    Column("Entry", lambda t, tz, u: fmt.avg_price(t.entry_price), lambda t: float(t.entry_price)),
    Column("Exit", lambda t, tz, u: fmt.avg_price(t.exit_price), lambda t: float(t.exit_price)),
    Column(
        "P&L", lambda t, tz, u: fmt.pnl(t.net_pnl, t.pnl_unit), lambda t: float(t.net_pnl), colored=lambda t: t.net_pnl
    ),
    Column("MAE", lambda t, tz, u: _mae(t, u), lambda t: _num(t.mae), tip=MAE_TIP),
    Column("MFE", lambda t, tz, u: _mfe(t, u), lambda t: _num(t.mfe), tip=MFE_TIP),
    Column("Eff.", lambda t, tz, u: fmt.percent(t.total_efficiency), lambda t: _num(t.total_efficiency)),
    Column(
        "R", lambda t, tz, u: fmt.r_multiple(t.r_multiple), lambda t: _num(t.r_multiple), colored=lambda t: t.r_multiple
    ),
)


_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class TradesModel(QStandardItemModel):
    """The period's closed trades (``TradeRow``, oldest exit first) as table rows: the newest ``LISTED`` of
    them, as Qt items, so painting the table runs no Python. ``set_trades`` replaces them (a scope or period
    change) and resets only when they differ; ``append`` adds newly closed trades, costing the number of new
    rows. ``trades`` is every trade of the period (for the CSV), listed or not.

    ``tz`` is the zone times are shown in (``None``: this computer's local time)."""

    def __init__(self, tz: tzinfo | None = None, listed: int = LISTED) -> None:
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels([c.title for c in COLUMNS])
        for i, column in enumerate(COLUMNS):
            if column.tip:
                self.setHeaderData(i, Qt.Orientation.Horizontal, column.tip, Qt.ItemDataRole.ToolTipRole)
        self._tz = tz
        self._listed = listed
        self.primary_unit = "$"
        self._source: Sequence[TradeRow] = ()
        self._appended: list[TradeRow] = []
        self.resets = 0

    @property
    def trades(self) -> tuple[TradeRow, ...]:
        """Every trade of the period, listed or not (builds them all: for the CSV export)."""
        return (*self._source, *self._appended)

    @property
    def total(self) -> int:
        """How many trades the period has (rows beyond ``LISTED`` are not in the table)."""
        return len(self._source) + len(self._appended)

    def _items(self, trade: TradeRow) -> list[QStandardItem]:
        items = []
        for column in COLUMNS:
            text = column.text(trade, self._tz, self.primary_unit)
            if column.tip:  # an excursion: the primary unit in the cell (narrow), every unit in its tooltip
                item = QStandardItem(text.split(" · ")[0])  # read-only: the view has no edit triggers
                item.setToolTip(text)
            else:
                item = QStandardItem(text)
            item.setData(column.key(trade), SORT_ROLE)
            item.setTextAlignment(_RIGHT if column.numeric else _LEFT)
            value = column.colored(trade) if column.colored is not None else None
            if value is not None and value != 0:
                item.setForeground(QBrush(QColor(PROFIT if value > 0 else LOSS)))
            items.append(item)
        return items

    def set_trades(self, trades: Sequence[TradeRow]) -> bool:
        """Show ``trades`` (oldest exit first); returns True if the model was reset. Only the newest
        ``LISTED`` rows are looked at, so a lazily built sequence of any length costs the same."""
        if trades is self._source and not self._appended:
            return False
        self._source, self._appended = trades, []
        self.beginResetModel()
        blocked = self.blockSignals(True)  # one reset for the views, not a signal per row
        try:
            self.setRowCount(0)
            for trade in trades[max(0, len(trades) - self._listed) :]:
                self.appendRow(self._items(trade))
        finally:
            self.blockSignals(blocked)
        self.endResetModel()
        self.resets += 1
        return True

    def set_primary_unit(self, unit: str) -> None:
        """Show MAE/MFE in ``unit`` first (``$``, ``pt``, ``t``): the listed rows are built again."""
        if unit == self.primary_unit:
            return
        self.primary_unit = unit
        source, appended = self._source, self._appended
        self._source = ()
        self.set_trades(source)
        if appended:
            self.append(appended)

    def append(self, rows: list[TradeRow]) -> None:
        """Add newly closed trades after the others (the oldest listed rows go beyond ``LISTED``)."""
        self._appended.extend(rows)
        for trade in rows[-self._listed :]:
            self.appendRow(self._items(trade))
        excess = self.rowCount() - self._listed
        if excess > 0:
            self.removeRows(0, excess)

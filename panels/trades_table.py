"""The period's closed trades as a table model (sorted by value, not by text); the CSV export is in
``panels.trades_csv``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPainter, QPalette, QStaticText
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from core.snapshots import TradeRow
from core.trade_rows import LISTED
from panels import format as fmt
from panels.theme import active_look

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""The value a column sorts by: epoch seconds, floats or plain strings."""
_ROOT = QModelIndex()


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


SIERRA_MARKS = {"imported": "SC", "agrees": "✓", "differs": "≠"}
SIERRA_TIP = (
    "Sierra Chart's own trade list: SC — imported from it (closed before DTC Panel first saw the account; no fills"
    " behind it); ✓ — agrees with it; ≠ — differs (see Differences with Sierra Chart); empty — not compared"
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
    Column("SC", lambda t, tz, u: SIERRA_MARKS.get(t.sierra, ""), lambda t: t.sierra, numeric=False, tip=SIERRA_TIP),
)


_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_DISPLAY, _TIP, _SORT, _ALIGN, _BRUSH = range(5)
_ROLES = {
    Qt.ItemDataRole.DisplayRole: _DISPLAY,
    Qt.ItemDataRole.ToolTipRole: _TIP,
    SORT_ROLE: _SORT,
    Qt.ItemDataRole.TextAlignmentRole: _ALIGN,
    Qt.ItemDataRole.ForegroundRole: _BRUSH,
}
_ALIGNMENTS = tuple(_RIGHT if column.numeric else _LEFT for column in COLUMNS)
_Cells = tuple[tuple[Any, ...], ...]
"""One row's (texts, tooltips, sort keys, alignments, brushes), each a tuple over ``COLUMNS``."""


class CellDelegate(QStyledItemDelegate):
    """Paints a ``TradesModel`` cell from its formatted cells in one Python call per cell, with ``QPainter``
    directly: the selection's background and the text in its colour, elided on the right (the view paints the
    row's alternating background first). Each cell's laid-out text is kept (``QStaticText``).

    The default delegate asked the model for seven roles per cell, each a call into Python, and then drew the
    cell through the window's style sheet and laid its text out again: a repaint of the visible rows, which comes
    with every closed trade, took 5.9 ms of the GUI thread, now 4.4 ms (9 rows × 12 columns, a busy machine)."""

    CACHED_TEXTS = 4000
    """Laid-out cell texts kept (``QStaticText``: shaping a text is most of a cell's paint); cleared when full."""

    def __init__(self, model: TradesModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._texts: dict[tuple[str, int, int, Any], tuple[QStaticText, float, float]] = {}
        self._margin = -1  # pixels between a cell's edge and its text: the style's, as its own delegate has

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        column = index.column()
        texts, _, _, alignments, brushes = self._model.cells(index.row())
        option.text = texts[column]
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        option.displayAlignment = alignments[column]
        brush = brushes[column]
        if brush is not None:
            palette = option.palette
            palette.setBrush(QPalette.ColorRole.Text, brush)
            option.palette = palette

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        column = index.column()
        texts, _, _, alignments, brushes = self._model.cells(index.row())
        rect, palette, state = option.rect, option.palette, option.state
        if state & _SELECTED:
            group = _ACTIVE if state & QStyle.StateFlag.State_Active else _INACTIVE
            painter.fillRect(rect, palette.brush(group, QPalette.ColorRole.Highlight))
            painter.setPen(palette.color(group, QPalette.ColorRole.HighlightedText))
        else:  # the view has drawn the row's background (alternate or not) already
            brush = brushes[column]
            painter.setPen(brush.color() if brush is not None else palette.color(QPalette.ColorRole.Text))
        width, height = rect.width(), rect.height()
        key = (texts[column], width, height, alignments[column])
        laid = self._texts.get(key)
        if laid is None:
            if self._margin < 0:
                widget = option.widget
                style = widget.style() if widget is not None else QApplication.style()
                self._margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
            laid = self._texts[key] = self._lay_out(key, option.fontMetrics)
        static, dx, dy = laid
        painter.drawStaticText(QPointF(rect.x() + dx, rect.y() + dy), static)

    def _lay_out(self, key: tuple[str, int, int, Any], metrics: QFontMetrics) -> tuple[QStaticText, float, float]:
        """A cell's text elided to its width, and where it goes in the cell (x, y from its top left)."""
        if len(self._texts) >= self.CACHED_TEXTS:
            self._texts.clear()
        text, width, height, align = key
        margin = self._margin
        room = width - 2 * margin
        static = QStaticText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, room))
        static.setTextFormat(Qt.TextFormat.PlainText)
        size = static.size()
        if align & Qt.AlignmentFlag.AlignRight:
            dx = margin + room - size.width()
        elif align & Qt.AlignmentFlag.AlignHCenter:
            dx = margin + (room - size.width()) / 2
        else:
            dx = margin
        return static, dx, (height - size.height()) / 2


_SELECTED = QStyle.StateFlag.State_Selected
_ACTIVE, _INACTIVE = QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive


class TradesModel(QAbstractTableModel):
    """The period's closed trades (``TradeRow``, oldest exit first) as table rows: the newest ``LISTED`` of
    them, in the order the view sorts by (``sort``; by value, not by text). A row's cells are formatted when it
    is first shown and kept, so the cost of ``set_trades`` does not depend on how many rows are listed and a
    repaint only looks them up. ``set_trades`` replaces the trades (a scope or period change) and resets only
    when they differ; ``append`` adds newly closed trades, costing the number of listed rows at most.
    ``trades`` is every trade of the period (for the CSV), listed or not.

    ``tz`` is the zone times are shown in (``None``: this computer's local time)."""

    def __init__(self, tz: tzinfo | None = None, listed: int = LISTED) -> None:
        super().__init__()
        self._tz = tz
        self._listed = listed
        self.primary_unit = "$"
        self._source: Sequence[TradeRow] = ()
        self._appended: list[TradeRow] = []
        self._rows: list[TradeRow] = []  # the listed trades, in display order
        self._by_exit: list[TradeRow] = []  # the same trades, oldest exit first
        self._cells: dict[int, _Cells] = {}  # id(row) → formatted cells (rows are kept alive by _rows)
        self._sort_column, self._sort_order = 1, Qt.SortOrder.DescendingOrder
        self.resets = 0

    @property
    def trades(self) -> tuple[TradeRow, ...]:
        """Every trade of the period, listed or not (builds them all: for the CSV export)."""
        return (*self._source, *self._appended)

    @property
    def total(self) -> int:
        """How many trades the period has (rows beyond ``LISTED`` are not in the table)."""
        return len(self._source) + len(self._appended)

    # --- Qt's model interface --------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        part = _ROLES.get(role)
        if part is None:
            return None
        return self.cells(index.row())[part][index.column()]

    def cells(self, row: int) -> _Cells:
        """Row ``row``'s formatted cells (formatted now if it was not shown before)."""
        trade = self._rows[row]
        return self._cells.get(id(trade)) or self._format(trade)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section].tip or None
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the listed rows by ``column``'s value (the view calls this when a header is clicked)."""
        if not 0 <= column < len(COLUMNS):
            return
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        before = self._rows
        self._rows = self._sorted(self._by_exit)  # from the closing order: equal keys always tie the same way
        where = {id(row): i for i, row in enumerate(self._rows)}
        old = self.persistentIndexList()
        self.changePersistentIndexList(old, [self.index(where[id(before[i.row()])], i.column()) for i in old])
        self.layoutChanged.emit()

    # --- the trades --------------------------------------------------------------------------------------

    def _format(self, trade: TradeRow) -> _Cells:
        look = active_look()
        profit, loss = QBrush(QColor(look.profit)), QBrush(QColor(look.loss))
        texts, tips, brushes = [], [], []
        for column in COLUMNS:
            text = column.text(trade, self._tz, self.primary_unit)
            if column.tip:  # an excursion: the primary unit in the cell (narrow), every unit in its tooltip
                texts.append(text.split(" · ")[0])
                tips.append(text)
            else:
                texts.append(text)
                tips.append(None)
            value = column.colored(trade) if column.colored is not None else None
            brushes.append(None if value is None or value == 0 else profit if value > 0 else loss)
        cells = (tuple(texts), tuple(tips), tuple(c.key(trade) for c in COLUMNS), _ALIGNMENTS, tuple(brushes))
        self._cells[id(trade)] = cells
        return cells

    def _key(self, trade: TradeRow) -> Any:
        return COLUMNS[self._sort_column].key(trade)

    def _sorted(self, rows: list[TradeRow]) -> list[TradeRow]:
        """``rows`` (oldest exit first) in display order; among equal keys the newer trade comes first when
        descending, the older when ascending (Python's sort is stable, also with ``reverse``)."""
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            return sorted(reversed(rows), key=self._key, reverse=True)
        return sorted(rows, key=self._key)

    def set_trades(self, trades: Sequence[TradeRow]) -> bool:
        """Show ``trades`` (oldest exit first); returns True if the model was reset. Only the newest
        ``LISTED`` rows are looked at, so a lazily built sequence of any length costs the same."""
        if trades is self._source and not self._appended:
            return False
        self.beginResetModel()
        self._source, self._appended = trades, []
        self._cells = {}
        self._by_exit = list(trades[max(0, len(trades) - self._listed) :])
        self._rows = self._sorted(self._by_exit)
        self.endResetModel()
        self.resets += 1
        return True

    def restyle(self) -> None:
        """The look changed (light / dark): the rows are coloured again in its profit and loss shades."""
        self._cells = {}
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))

    def set_primary_unit(self, unit: str) -> None:
        """Show MAE/MFE in ``unit`` first (``$``, ``pt``, ``t``): the listed rows are formatted again."""
        if unit == self.primary_unit:
            return
        self.primary_unit = unit
        self._cells = {}
        if self._rows:
            last = self.index(len(self._rows) - 1, len(COLUMNS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def append(self, rows: list[TradeRow]) -> None:
        """Add newly closed trades (the oldest listed rows go beyond ``LISTED``), each at its sorted place."""
        self._appended.extend(rows)
        self._by_exit.extend(rows)
        excess = len(self._by_exit) - self._listed
        leaving = {id(row) for row in self._by_exit[:excess]} if excess > 0 else set()
        if excess > 0:
            del self._by_exit[:excess]
        for i in range(len(self._rows) - 1, -1, -1):
            if id(self._rows[i]) in leaving:
                self.beginRemoveRows(_ROOT, i, i)
                self._cells.pop(id(self._rows[i]), None)
                del self._rows[i]
                self.endRemoveRows()
        keys = [self._key(row) for row in self._rows]  # once per batch, not per trade
        for trade in rows:
            if id(trade) in leaving:
                continue
            key = self._key(trade)
            at = self._place(keys, key)
            self.beginInsertRows(_ROOT, at, at)
            self._rows.insert(at, trade)
            keys.insert(at, key)
            self.endInsertRows()

    def _place(self, keys: list[Any], key: Any) -> int:
        """Where a trade with sort key ``key`` goes among rows with ``keys``: after the rows whose key sorts
        before or equal to it (a newer trade with an equal key comes first when descending, as a fresh sort
        would place it)."""
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            return next((i for i, k in enumerate(keys) if k <= key), len(keys))
        return next((i for i, k in enumerate(keys) if k > key), len(keys))

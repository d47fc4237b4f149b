"""The trades table's model (issue 10): the newest LISTED trades, sorted by value by the model itself, kept
in order as trades close — what the trader sees equals a fresh sort of the same trades, whatever was clicked
and appended. Real Qt model and view, offscreen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableView

from core.snapshots import TradeRow
from panels.trades_table import COLUMNS, TradesModel

T0 = datetime(2025, 11, 3, 14, 30, tzinfo=UTC)


def _trade(n: int, pnl: int, minutes: int) -> TradeRow:
    return TradeRow(
        symbol=f"S{n % 3}",
        side="LONG" if n % 2 else "SHORT",
        quantity=D(1 + n % 4),
        entry_time=T0 + timedelta(minutes=minutes),
        exit_time=T0 + timedelta(minutes=minutes, seconds=30),
        entry_price=D("6000.25") + n,
        exit_price=D("6001.50") + n,
        net_pnl=D(pnl),
        mae=D(-abs(pnl)),
        mfe=D(abs(pnl)),
        total_efficiency=None,
        r_multiple=None,
    )


def _shown(model: TradesModel) -> list[list[str]]:
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


steps = st.lists(
    st.one_of(
        st.tuples(st.just("close"), st.lists(st.integers(-30, 30), min_size=1, max_size=4)),
        st.tuples(st.just("sort"), st.integers(0, len(COLUMNS) - 1), st.booleans()),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(first=st.lists(st.integers(-30, 30), max_size=8), steps=steps)
def test_appended_trades_land_where_a_fresh_sort_puts_them(qapp, first: list[int], steps) -> None:  # type: ignore[no-untyped-def]
    """Trades closing (several minutes may share an exit second) while the trader sorts by any column: the
    rows shown are always the newest 5, in the order a model loaded with the same trades shows them."""
    model = TradesModel(tz=UTC, listed=5)
    view = QTableView()
    view.setModel(model)
    view.setSortingEnabled(True)
    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    trades = [_trade(i, pnl, i // 2) for i, pnl in enumerate(first)]
    model.set_trades(list(trades))
    column, order = 1, Qt.SortOrder.DescendingOrder
    for step in steps:
        if step[0] == "close":
            new = [_trade(len(trades) + k, pnl, (len(trades) + k) // 2) for k, pnl in enumerate(step[1])]
            trades += new
            model.append(new)
        else:
            column = step[1]
            order = Qt.SortOrder.AscendingOrder if step[2] else Qt.SortOrder.DescendingOrder
            view.sortByColumn(column, order)
        fresh = TradesModel(tz=UTC, listed=5)
        fresh.sort(column, order)
        fresh.set_trades(list(trades))
        assert _shown(model) == _shown(fresh)
        assert model.total == len(trades)
        assert model.rowCount() == min(5, len(trades))


def test_profit_and_loss_follow_the_dark_look(qapp) -> None:  # type: ignore[no-untyped-def]
    """In the dark look the table's P&L is coloured in the dark look's shades (not the light ones)."""
    from panels.theme import DARK, LIGHT, set_active_look

    model = TradesModel(tz=UTC)
    model.set_trades([_trade(1, 5, 0), _trade(2, -5, 1)])
    column = [c.title for c in COLUMNS].index("P&L")

    def colours() -> list[str]:
        return [model.index(r, column).data(Qt.ItemDataRole.ForegroundRole).color().name() for r in range(2)]

    try:
        set_active_look(LIGHT)
        model.restyle()
        assert colours() == [QColor(LIGHT.loss).name(), QColor(LIGHT.profit).name()]  # newest (the loss) first
        set_active_look(DARK)
        model.restyle()
        assert colours() == [QColor(DARK.loss).name(), QColor(DARK.profit).name()]
        assert QColor(DARK.profit).name() != QColor(LIGHT.profit).name()
    finally:
        set_active_look(LIGHT)


def test_the_table_paints_each_cell_whole_in_its_colour_and_the_selection(qapp) -> None:  # type: ignore[no-untyped-def]
    """What the trader sees in the table's pixels (its own cell painter): a loss's P&L in the model's red, a
    win's in its green, a selected row in the selection colour and the others not."""
    from PySide6.QtGui import QPalette

    from panels.trades_table import CellDelegate

    model = TradesModel(tz=UTC)
    model.set_trades((_trade(1, -12, 0), _trade(2, 30, 1)))
    view = QTableView()
    view.setModel(model)
    view.setItemDelegate(CellDelegate(model, view))
    view.resize(1100, 200)
    view.resizeColumnsToContents()
    view.show()
    qapp.processEvents()
    pnl = [c.title for c in COLUMNS].index("P&L")

    def colours(row: int, column: int) -> set[str]:
        image = view.viewport().grab().toImage()
        rect = view.visualRect(model.index(row, column))
        xs, ys = range(rect.left(), rect.right()), range(rect.top(), rect.bottom())
        return {image.pixelColor(x, y).name() for x in xs for y in ys}

    for row in range(2):
        want = model.data(model.index(row, pnl), Qt.ItemDataRole.ForegroundRole).color().name()
        assert want in colours(row, pnl)  # glyph pixels drawn in the P&L's own colour
    assert len({model.data(model.index(r, pnl), Qt.ItemDataRole.ForegroundRole).color().name() for r in range(2)}) == 2
    view.selectRow(0)
    qapp.processEvents()
    highlight = view.palette().color(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight).name()
    active = view.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight).name()
    assert colours(0, 0) & {highlight, active}
    assert not colours(1, 0) & {highlight, active}

"""The board: every open position of every account at a glance, one row each, SIM or ● LIVE marked per row.

A row shows the mode chip, account and symbol, side and size, average entry, open P&L in currency and in
ticks and the time in trade. The rows of the focused (mode, account) are highlighted; clicking a row asks to
focus its account (``on_focus(mode, account)``). Rows are widgets kept by (mode, account, symbol) and reused;
only a row whose position changed is re-rendered, and a fill in one account never re-styles another's row.

Below the rows, the compact strip's footer (``today``, ``connection``) — shown by the window when narrow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.snapshots import PositionView
from panels import format as fmt
from panels.theme import mode_chip_style, pnl_color, side_color, theme_for
from panels.widgets import ElidingLabel, ValueLabel

Key = tuple[str, str, str]


def _now() -> datetime:
    return datetime.now(UTC)


def board_views(positions: tuple[PositionView, ...], other_open: tuple[PositionView, ...]) -> list[PositionView]:
    """Every open position, LIVE accounts first, then by account and symbol."""
    return sorted((*positions, *other_open), key=lambda v: (v.mode != "LIVE", v.account, v.symbol))


class BoardRow(QFrame):
    """One open position. ``mode`` (SIM/LIVE) and ``focused`` are style-sheet properties (``theme.window_style``)."""

    def __init__(self, mode: str, on_click: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("boardRow")
        self.setProperty("mode", mode)
        self.setProperty("focused", False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._on_click = on_click
        self.mode = mode
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 2, 6, 2)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)
        self.chip = QLabel(theme_for(mode).badge_text, objectName="rowMode")
        self.chip.setStyleSheet(mode_chip_style(mode))
        self.chip.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.title = ValueLabel("rowTitle", "font-weight:700;")
        self.side = ValueLabel("rowSide", "font-weight:700;")
        self.pnl = ValueLabel("rowPnl", "font-weight:800; font-size:12pt;")
        self.entry = ValueLabel("rowEntry")
        self.age = ValueLabel("rowAge")
        self.ticks = ValueLabel("rowTicks", "font-weight:600;")
        for label in (self.side, self.pnl):  # side, size and open P&L are never cut: the title gives way
            label.set_min_chars(None)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for label in (self.pnl, self.ticks, self.age):
            label.setAlignment(right)
        grid.addWidget(self.chip, 0, 0)
        grid.addWidget(self.title, 0, 1)
        grid.addWidget(self.side, 0, 2)
        grid.addWidget(self.pnl, 0, 3)
        grid.addWidget(self.entry, 1, 1)
        grid.addWidget(self.age, 1, 2)
        grid.addWidget(self.ticks, 1, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 1)
        grid.setColumnStretch(3, 2)
        self.age.setToolTip("Time in trade")
        self.view: PositionView | None = None

    def set_on_click(self, on_click: Callable[[], None]) -> None:
        self._on_click = on_click

    def set_focused(self, focused: bool) -> None:
        if self.property("focused") == focused:
            return
        self.setProperty("focused", focused)
        self.style().unpolish(self)  # a property selector applies after a re-polish (this row only)
        self.style().polish(self)

    def render(self, view: PositionView, now: datetime) -> None:
        self.view = view
        tick = view.tick_size
        self.title.show_value(f"{view.account} · {view.symbol}")
        self.side.show_value(f"{view.side} {fmt.quantity(view.quantity)}", side_color(view.quantity))
        self.entry.show_value(f"@ {fmt.avg_price(view.avg_entry, tick)}")
        if view.last_price is None:
            money, in_ticks, color = fmt.DASH, fmt.DASH, None
        else:
            money = fmt.pnl(view.open_pnl, view.pnl_unit)
            in_ticks = fmt.ticks(view.open_ticks)
            color = pnl_color(view.open_pnl)
        stale = view.last_price is not None and view.last_price_stale
        self.pnl.show_value(money, None if stale else color, "color:#8a8f96;" if stale else "")
        self.ticks.show_value(in_ticks + (" STALE" if stale else ""), None if stale else color)
        self.age.show_value(fmt.age(view.entry_time, now))

    def texts(self) -> str:
        """What the row shows, as one line: ``LIVE 120005 · MNQZ25 LONG 1 +$40.00 @ 21,000.00 +8 t 5 min 0 s``."""
        parts = [self.chip.text(), self.title.text(), self.side.text(), self.pnl.text()]
        parts += [self.entry.text(), self.ticks.text(), self.age.text()]
        return " ".join(parts)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._on_click()
            event.accept()
            return
        super().mousePressEvent(event)


class PositionBoard(QWidget):
    """All open positions (``render(snap)``) and, for the compact strip, today's net and the connection."""

    def __init__(
        self,
        on_focus: Callable[[str, str], None] | None = None,
        clock: Callable[[], datetime] = _now,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("positionBoard")
        self._on_focus = on_focus
        self._clock = clock
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.caption = ElidingLabel("Open positions — all accounts (click a row to focus its account)")
        self.caption.setProperty("muted", True)
        self.empty = QLabel("No open positions", objectName="boardEmpty")
        self.empty.setProperty("muted", True)
        layout.addWidget(self.caption)
        layout.addWidget(self.empty)
        self._rows_box = QVBoxLayout()
        self._rows_box.setSpacing(3)
        layout.addLayout(self._rows_box)
        layout.addStretch(1)  # rows keep their height; the footer sits at the bottom of the strip
        footer = QGridLayout()
        footer.setContentsMargins(2, 2, 2, 0)
        self.today = ValueLabel("stripToday", "font-weight:700;")
        self.today.setToolTip("Today's net P&L of the focused account: realized since the session start + open")
        self.connection = ValueLabel("stripConnection", "font-weight:600;")
        self.connection.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        footer.addWidget(self.today, 0, 0)
        footer.addWidget(self.connection, 0, 1)
        footer.setColumnStretch(0, 1)
        footer.setColumnStretch(1, 1)
        self.footer = QWidget(objectName="stripFooter")
        self.footer.setLayout(footer)
        layout.addWidget(self.footer)
        self.rows: dict[Key, BoardRow] = {}
        self._spare: dict[str, list[BoardRow]] = {}
        self._focus: tuple[str | None, str | None] = (None, None)

    def set_caption_visible(self, visible: bool) -> None:
        self.caption.setVisible(visible)

    def render(
        self,
        positions: tuple[PositionView, ...],
        other_open: tuple[PositionView, ...],
        focus: tuple[str | None, str | None],
    ) -> bool:
        """Show every open position; the rows of ``focus`` (mode, account) highlighted. Returns whether the set
        of rows changed (the board's size may have)."""
        now = self._clock()
        views = board_views(positions, other_open)
        keys = [(v.mode, v.account, v.symbol) for v in views]
        rows_changed = list(self.rows) != keys
        if rows_changed:
            old = self.rows
            self.rows = {}
            for row in (row for key, row in old.items() if key not in keys):
                self._rows_box.removeWidget(row)
                row.hide()
                self._spare.setdefault(row.mode, []).append(row)  # kept: a position opens again in a moment
            for key in keys:
                row = old.pop(key, None) or self._row_for(key)
                self.rows[key] = row
            for index, key in enumerate(keys):  # in board order
                self._rows_box.insertWidget(index, self.rows[key])
                self.rows[key].show()
        for view, key in zip(views, keys, strict=True):
            row = self.rows[key]
            if row.view is not view:
                row.render(view, now)
            elif row.age.text() != fmt.age(view.entry_time, now):
                row.age.show_value(fmt.age(view.entry_time, now))
            row.set_focused(key[:2] == focus)
        self._focus = focus
        self.empty.setVisible(not views)
        return rows_changed

    def _row_for(self, key: Key) -> BoardRow:
        """A row for ``key``: a spare one of its mode (a row built and styled costs a whole frame's time at 50
        fills a second, when positions open and close all the time), else a new one."""
        spare = self._spare.get(key[0])
        if spare:
            row = spare.pop()
            row.view = None
        else:
            row = BoardRow(key[0], lambda: None, self)
        row.set_on_click(lambda k=key: self._clicked(k))
        return row

    def _clicked(self, key: Key) -> None:
        if self._on_focus is not None:
            self._on_focus(key[0], key[1])

    def row_texts(self) -> list[str]:
        """Each row as one line, top to bottom."""
        return [row.texts() for row in self.rows.values()]

"""The window's body and how it follows the width: the board of every open position on top; below it Panel2
(the focused position's card), Panel1 (account and equity curve) and the notifications side by side; at the
bottom the statistics and trades (Panel3) and the trade charts as tabs.

``layout_for(width)`` picks ``NARROW`` (the compact strip: the board fills the window, with today's net and the
connection under it), ``MEDIUM`` (the board, the card and today's statistics) or ``WIDE`` (everything).
``WindowBody.apply(mode, height)`` shows what fits; hidden parts keep their state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QSplitter, QTabWidget, QVBoxLayout, QWidget

from core.tradingday import Period
from panels.notifications import NotificationFeed
from panels.panel1 import Panel1
from panels.panel2 import Panel2
from panels.panel3 import Panel3
from panels.position_board import PositionBoard
from panels.trade_charts import TradeCharts
from panels.widgets import ElidingLabel, StableScrollArea

NARROW, MEDIUM, WIDE = "narrow", "medium", "wide"
MEDIUM_FROM_PX = 640
"""From this width on the focused position's card and today's statistics are shown; below, the compact strip."""
WIDE_FROM_PX = 1180
"""From this width on the full dashboard (account, equity curve, notifications, trades table, charts)."""
DEFAULT_COMPACT_SIZE = (400, 300)
BOARD_MAX_SHARE = 0.3
"""At medium and wide widths the board takes at most this share of the window's height (it scrolls)."""
MAX_HEIGHT = 16777215


def layout_for(width: int) -> str:
    """``narrow`` below ``MEDIUM_FROM_PX``, ``wide`` from ``WIDE_FROM_PX``, else ``medium``."""
    if width < MEDIUM_FROM_PX:
        return NARROW
    return WIDE if width >= WIDE_FROM_PX else MEDIUM


class WindowBody(QWidget):
    """Board, panels, feed, splitters and tabs. ``on_focus(mode, account)``: a board row was clicked;
    ``on_period_chosen(Period)``: a period button."""

    def __init__(
        self,
        on_focus: Callable[[str, str], None],
        on_period_chosen: Callable[[Period], None],
        heat_thresholds: tuple[float, float],
        clock: Callable[[], datetime],
        tz: tzinfo | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("windowBody")
        self.mode = ""
        self.board = PositionBoard(on_focus=on_focus, clock=clock)
        self.board_scroll = StableScrollArea()
        self.board_scroll.setObjectName("boardScroll")
        self.board_scroll.setWidgetResizable(True)
        self.board_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.board_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.board_scroll.setWidget(self.board)
        self.board_scroll.setStyleSheet("QScrollArea, QWidget#positionBoard { background: transparent; }")
        self.board_scroll.viewport().setAutoFillBackground(False)
        self.panel2 = Panel2(heat_thresholds=heat_thresholds, clock=clock)
        self.panel1 = Panel1(on_period_chosen=on_period_chosen, tz=tz)
        self.panel3 = Panel3(tz=tz)
        self.charts = TradeCharts(tz=tz)
        self.tabs = QTabWidget(objectName="bottomTabs")
        self.tabs.addTab(self.panel3, "Statistics && trades")
        self.tabs.addTab(self.charts, "Charts")
        self.tabs.setTabToolTip(1, "MAE vs. final P&L, R-multiples, P&L by hour — of the chosen period (Ctrl+G)")
        self.tabs.setDocumentMode(True)
        self.tabs.currentChanged.connect(lambda _i: self._charts_shown())
        self.feed = NotificationFeed(tz=tz)
        self.feed_box = QWidget(objectName="feedBox")
        feed_layout = QVBoxLayout(self.feed_box)
        feed_layout.setContentsMargins(0, 0, 0, 0)
        feed_layout.setSpacing(2)
        feed_caption = ElidingLabel("Notifications, newest first (double-click: whole lines)")
        feed_caption.setProperty("muted", True)
        feed_layout.addWidget(feed_caption)
        feed_layout.addWidget(self.feed)
        # top row: live position | account and equity | notifications; below: statistics and trades, charts
        self.top_splitter = QSplitter(Qt.Orientation.Horizontal, objectName="topSplitter")
        for widget, stretch in ((self.panel2, 5), (self.panel1, 4), (self.feed_box, 3)):
            self.top_splitter.addWidget(widget)
            self.top_splitter.setStretchFactor(self.top_splitter.count() - 1, stretch)
        self.main_splitter = QSplitter(Qt.Orientation.Vertical, objectName="mainSplitter")
        self.main_splitter.addWidget(self.top_splitter)
        self.main_splitter.addWidget(self.tabs)
        self.main_splitter.setStretchFactor(0, 1)
        self.main_splitter.setStretchFactor(1, 1)
        for splitter in self.splitters():
            splitter.setChildrenCollapsible(False)
        self.top_splitter.setSizes([520, 420, 320])  # initial proportions; the trader may drag them
        self.main_splitter.setSizes([330, 350])
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addWidget(self.board_scroll)
        self._layout.addWidget(self.main_splitter, 1)

    def splitters(self) -> tuple[QSplitter, ...]:
        return (self.main_splitter, self.top_splitter)

    def fit_board(self, window_height: int) -> None:
        """Narrow: the board fills the strip. Wider: as high as its rows, at most ``BOARD_MAX_SHARE`` of the
        window (then it scrolls); never wider than its rows need."""
        self.board_scroll.setMinimumWidth(self.board.minimumSizeHint().width())  # scrolls down, never sideways
        if self.mode == NARROW:
            self.board_scroll.setMinimumHeight(0)
            self.board_scroll.setMaximumHeight(MAX_HEIGHT)
            return
        cap = max(60, int(window_height * BOARD_MAX_SHARE))
        self.board_scroll.setMaximumHeight(cap)
        self.board_scroll.setMinimumHeight(min(cap, self.board.sizeHint().height()))

    def apply(self, mode: str, window_height: int) -> bool:
        """Show what fits ``mode``; returns whether the mode changed."""
        if mode == self.mode:
            self.fit_board(window_height)
            return False
        self.mode = mode
        narrow, wide = mode == NARROW, mode == WIDE
        self.board.footer.setVisible(narrow)
        self.board.set_caption_visible(not narrow)
        self.main_splitter.setVisible(not narrow)
        self.panel1.setVisible(wide)
        self.feed_box.setVisible(wide)
        self.panel3.set_compact(not wide)
        self.tabs.tabBar().setVisible(wide)
        self.tabs.setTabVisible(1, wide)
        if not wide:
            self.tabs.setCurrentIndex(0)
        self._charts_shown()
        self._layout.setStretchFactor(self.board_scroll, 1 if narrow else 0)
        self._layout.setStretchFactor(self.main_splitter, 0 if narrow else 1)
        self.fit_board(window_height)
        return True

    def _charts_shown(self) -> None:
        """The charts compute only while their tab is on screen."""
        self.charts.set_active(self.mode == WIDE and self.tabs.currentWidget() is self.charts)

    def toggle_charts(self) -> None:
        """Bring the charts tab forward (wide layout only), or back to the statistics."""
        if self.mode == WIDE:
            self.tabs.setCurrentIndex(0 if self.tabs.currentIndex() == 1 else 1)

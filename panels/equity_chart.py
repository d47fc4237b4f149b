"""The equity curve: a light pyqtgraph plot (no OpenGL) with a real time axis and a hover read-out.

X is UTC epoch seconds (``DateAxisItem`` shows local time); Y is account currency. The data is replaced only
when the snapshot carries a different curve (the statistics cache hands out the same tuple until it changes).

The plot is made when there is a curve to draw and pyqtgraph is loaded (``panels.plotting``: loaded a moment
after the window is made, so the window shows positions without waiting for it); until then the chart says
"Loading the chart…" and the read-out already gives the latest point.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import tzinfo
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

from core.snapshots import EquityPoint
from panels import format as fmt
from panels import plotting
from panels.after_display import AfterDisplay
from panels.theme import Look, Theme
from panels.widgets import ValueLabel

if TYPE_CHECKING:
    import pyqtgraph as pg

SOURCE_TITLES = {
    "balance": "Account value (from Sierra Chart balance updates)",
    "trades": "Cumulative net P&L of closed trades",
}
NO_DATA = "No data for this period"
LOADING = "Loading the chart…"
MIN_SPAN_S = 600.0
"""The time axis spans at least this (seconds): points within a few seconds otherwise show sub-second ticks."""
MIN_SPAN_MONEY = 20.0
"""The money axis spans at least this (account currency): a flat curve otherwise shows cents as ticks."""
PRELOAD_AFTER_MS = 300
"""How long after the chart is made pyqtgraph starts loading (the window's first paint comes first)."""
LOAD_POLL_MS = 50
"""While numpy loads in the background, how often the chart looks whether pyqtgraph can be imported."""


REDRAW_MS = 2000
"""Appended points are drawn together at most this often, right after the window shows an update
(``panels.after_display``): a redraw of the plot costs ~10 ms of the GUI thread, so a burst of closing trades
redraws every two seconds."""


class EquityChart(QWidget):
    """Shows ``snap.equity_curve``; ``readout_at(x)`` is the text shown when hovering at time ``x``."""

    def __init__(self, parent: QWidget | None = None, tz: tzinfo | None = None) -> None:
        super().__init__(parent)
        self._tz = tz
        self._points: tuple[EquityPoint, ...] = ()
        self._shown: list[EquityPoint] = []
        self.redraw = AfterDisplay.create(self, REDRAW_MS, "equityRedraw", self._draw)
        """Appended points are drawn after a display of the window, at most every ``REDRAW_MS``."""
        self._xs: list[float] = []
        self._ys: list[float] = []
        self._source = ""
        self._accent = ""
        self._background, self._axis = "#ffffff", "#5f6b7a"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.title = QLabel(objectName="equityTitle")
        self.title.setProperty("muted", True)
        self.readout = ValueLabel("equityReadout", "font-weight:600;")
        head = QVBoxLayout()
        head.setSpacing(0)
        head.addWidget(self.title)
        head.addWidget(self.readout)
        layout.addLayout(head)
        self._stack = QStackedLayout()
        self.empty = QLabel(NO_DATA, objectName="equityEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setProperty("muted", True)
        self.plot: pg.PlotWidget | None = None
        self.curve: pg.PlotDataItem | None = None
        self.marker: pg.ScatterPlotItem | None = None
        self.loading = QLabel(LOADING, objectName="equityLoading")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading.setProperty("muted", True)
        self._build_poll = QTimer(self, objectName="equityLoad")
        self._build_poll.timeout.connect(self._build_when_loaded)
        if not plotting.ready():
            self._build_poll.start(PRELOAD_AFTER_MS)
        self._stack.addWidget(self.empty)
        self._stack.addWidget(self.loading)
        layout.addLayout(self._stack, 1)
        self.set_theme_colors("#2f6fb3", "#ffffff", "#5f6b7a")

    def set_look(self, look: Look) -> None:
        """The window's look changed: the plot's background and axes follow it."""
        self._background, self._axis = look.card_bg, look.muted
        accent, self._accent = self._accent, ""
        self.set_theme_colors(accent or "#2f6fb3", look.card_bg, look.muted)

    def set_theme_colors(self, accent: str, background: str, axis: str) -> None:
        """Re-colour the plot (called when the theme or look changes, not on every render)."""
        if (accent, background, axis) == (self._accent, self._background, self._axis) and self._accent:
            return
        self._accent, self._background, self._axis = accent, background, axis
        if self.plot is None or self.curve is None or self.marker is None:
            return  # applied when the plot is made
        pg = plotting.pyqtgraph()
        self.plot.setBackground(background)
        for name in ("left", "bottom"):
            self.plot.getPlotItem().getAxis(name).setTextPen(axis)
            self.plot.getPlotItem().getAxis(name).setPen(axis)
        self.curve.setPen(pg.mkPen(accent, width=2))
        self.curve.setSymbolBrush(accent)
        self.marker.setBrush(pg.mkBrush(accent))

    def set_curve(self, points: tuple[EquityPoint, ...], source: str, theme: Theme) -> bool:
        """Show ``points`` (oldest first); returns True if the data was replaced."""
        self.set_theme_colors(theme.accent, self._background, self._axis)
        if points is self._points and source == self._source:
            return False
        self._points, self._source = points, source
        self.title.setText(SOURCE_TITLES.get(source, "Equity"))
        self._shown = list(points)
        self._xs = [p.time.timestamp() for p in points]
        self._ys = [float(p.value) for p in points]
        self.redraw.cancel()
        self._draw()
        return True

    def append(self, points: list[EquityPoint]) -> None:
        """Points after the last one (a trade closed, a balance arrived); redrawn at most ~4 times a second."""
        self._shown.extend(points)
        self._xs.extend(p.time.timestamp() for p in points)
        self._ys.extend(float(p.value) for p in points)
        self.redraw.request()

    def _build(self) -> tuple[pg.PlotWidget, pg.PlotDataItem, pg.ScatterPlotItem]:
        """The plot, made the first time (pyqtgraph imported then if it is not loaded yet)."""
        if self.plot is not None and self.curve is not None and self.marker is not None:
            return self.plot, self.curve, self.marker
        self._build_poll.stop()
        pg = plotting.pyqtgraph()
        plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        plot.setObjectName("equityPlot")
        plot.setMinimumHeight(120)
        item = plot.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.getAxis("left").enableAutoSIPrefix(False)
        curve = plot.plot([], [])
        curve.setClipToView(True)  # long histories: draw what is in view, thinned to the pixels
        curve.setDownsampling(auto=True, method="peak")
        # an antialiased 2-px path costs Qt's stroker ~15 ms for 200 zig-zag points (115 ms for 2,000): drawn as
        # segments it costs a fifth, and the redraw every two seconds no longer holds up a fill's display
        curve.curve.setSegmentedLineMode("on")
        marker = pg.ScatterPlotItem(size=9)
        plot.addItem(marker)
        plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self._stack.addWidget(plot)
        self.plot, self.curve, self.marker = plot, curve, marker
        accent, self._accent = self._accent, ""
        self.set_theme_colors(accent or "#2f6fb3", self._background, self._axis)
        return plot, curve, marker

    def waiting_for_plot(self) -> bool:
        """Whether pyqtgraph is still to be loaded (a curve, if any, is drawn then)."""
        return self._build_poll.isActive()

    def _build_when_loaded(self) -> None:
        if not plotting.warmed_up():
            plotting.warm_up()  # numpy, on a background thread
            self._build_poll.setInterval(LOAD_POLL_MS)
            return
        self._build_poll.stop()
        plotting.pyqtgraph()  # on the GUI thread: a one-time pause, after the window has shown everything else
        if self._shown:
            self._draw()

    def _draw(self) -> None:
        if not self._shown:
            if self.marker is not None:
                self.marker.setData([], [])
            self._stack.setCurrentWidget(self.empty)
            self.readout.show_value("")
            return
        self.readout.show_value(f"Latest: {self._describe(len(self._shown) - 1)}")
        if self.plot is None and not plotting.ready():
            # made once pyqtgraph is loaded, a moment after the window was made
            self._stack.setCurrentWidget(self.loading)
            if not self._build_poll.isActive():
                self._build_poll.start(PRELOAD_AFTER_MS)
            return
        plot, curve, marker = self._build()
        marker.setData([], [])
        self._stack.setCurrentWidget(plot)
        few = len(self._shown) <= 60
        curve.setData(self._xs, self._ys, symbol="o" if few else None, symbolSize=5, symbolPen=None)
        item = plot.getPlotItem()
        item.enableAutoRange()
        # a few points close together: pyqtgraph would zoom to fractions of a second ("55.750") and cents
        # ("24999.6"); show at least MIN_SPAN_S of time and MIN_SPAN_MONEY of money around them
        xs, ys = self._xs, self._ys
        if xs[-1] - xs[0] < MIN_SPAN_S:
            middle = (xs[0] + xs[-1]) / 2
            item.setXRange(middle - MIN_SPAN_S / 2, middle + MIN_SPAN_S / 2, padding=0)
        low, high = min(ys), max(ys)
        if high - low < MIN_SPAN_MONEY:
            middle = (low + high) / 2
            item.setYRange(middle - MIN_SPAN_MONEY / 2, middle + MIN_SPAN_MONEY / 2, padding=0)

    def _describe(self, index: int) -> str:
        point = self._shown[index]
        value = fmt.amount(point.value) if self._source == "balance" else fmt.money(point.value)
        return f"{fmt.timestamp(point.time, self._tz)} · {value}"

    def nearest_index(self, x: float) -> int | None:
        """Index of the point whose time is nearest to ``x`` (epoch seconds); ``None`` without points."""
        if not self._xs:
            return None
        i = bisect_left(self._xs, x)
        if i == 0:
            return 0
        if i == len(self._xs):
            return i - 1
        return i if self._xs[i] - x < x - self._xs[i - 1] else i - 1

    def readout_at(self, x: float) -> str:
        """``2025-11-20 14:32:05 · +$125.00`` for the point nearest to time ``x``; "" without points."""
        index = self.nearest_index(x)
        return "" if index is None else self._describe(index)

    def _mouse_moved(self, pos: QPointF) -> None:
        if self.plot is None or self.marker is None:
            return
        box = self.plot.getPlotItem().getViewBox()
        if not self._xs or not box.sceneBoundingRect().contains(pos):
            return
        x = box.mapSceneToView(pos).x()
        index = self.nearest_index(x)
        if index is None:
            return
        self.marker.setData([self._xs[index]], [self._ys[index]])
        self.readout.show_value(self._describe(index))

"""The trade charts of the chosen period and account (pyqtgraph): MAE vs. final P&L per trade (winners green,
losers red), the R-multiple histogram and P&L by hour of day — each exportable as PNG.

The figures come from ``core.trade_charts`` (no Qt), computed on a worker thread from the period's trades (a
``TradeRows`` snapshot: its loaded columns are read, no row is built); this widget only draws the result. A
computation is started only while the charts are on screen, and a result for trades no longer shown is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from core.snapshots import TradeRow
from core.trade_charts import R_BIN, ChartData, chart_data, facts_of
from panels.after_display import AfterDisplay
from panels.plotting import pyqtgraph
from panels.theme import Look, active_look
from panels.widgets import ElidingLabel, documents_folder

if TYPE_CHECKING:
    import pyqtgraph as pg

APPEND_REDRAW_MS = 2000
"""Trades closing in a burst redraw the charts together, at most this often."""


class ChartBox(QWidget):
    """A title, one plot and its "Save PNG…" button; ``export_png(path)`` saves what is shown."""

    def __init__(self, name: str, title: str, x_label: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.name = name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        head = QHBoxLayout()
        self.title = ElidingLabel(title)
        self.title.setStyleSheet("font-weight:600;")
        self.save_button = QPushButton("Save PNG…", objectName=f"{name}Save")
        self.save_button.setToolTip("Save this chart as a PNG picture")
        head.addWidget(self.title, 1)
        head.addWidget(self.save_button)
        layout.addLayout(head)
        self._labels = (x_label, y_label)
        self._look: Look | None = None
        self.plot: pg.PlotWidget | None = None
        """Built by ``build()`` when the charts are first shown (pyqtgraph is imported then, not at start)."""
        self.note = ElidingLabel()
        self.note.setProperty("muted", True)
        layout.addWidget(self.note)
        self._dialog: QFileDialog | None = None
        self.save_button.clicked.connect(self._ask_save)
        self.export_folder: str | None = None
        """Where the save dialog starts; ``None``: the user's Documents folder."""

    def build(self) -> pg.PlotWidget:
        """The plot, made the first time (between the title and the note)."""
        if self.plot is not None:
            return self.plot
        pg = pyqtgraph()
        plot = pg.PlotWidget()
        plot.setMinimumSize(160, 140)
        item = plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("bottom", self._labels[0])
        item.setLabel("left", self._labels[1])
        for axis in ("left", "bottom"):
            item.getAxis(axis).enableAutoSIPrefix(False)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, plot, 1)
        self.plot = plot
        if self._look is not None:
            self.set_look(self._look)
        return plot

    def set_look(self, look: Look) -> None:
        self._look = look
        if self.plot is None:
            return
        self.plot.setBackground(look.card_bg)
        for axis in ("left", "bottom"):
            self.plot.getPlotItem().getAxis(axis).setTextPen(look.muted)
            self.plot.getPlotItem().getAxis(axis).setPen(look.muted)

    def export_png(self, path: Path) -> bool:
        """Save the chart (title, plot and note) as it is shown to ``path``; False if it cannot be written."""
        return self.grab().save(str(path), "PNG")

    def _ask_save(self) -> None:
        folder = self.export_folder if self.export_folder is not None else documents_folder()
        name = f"{self.name}.png"
        dialog = QFileDialog(self, "Save chart as PNG", str(Path(folder) / name) if folder else name)
        dialog.setNameFilter("PNG pictures (*.png)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("png")
        dialog.fileSelected.connect(self._save_to)
        self._dialog = dialog
        dialog.open()

    def _save_to(self, name: str) -> None:
        ok = self.export_png(Path(name))
        self.note.setText(f"Saved to {Path(name).name}" if ok else f"Could not save {name}")


class TradeCharts(QWidget):
    """The three charts. ``set_trades`` after a period or account change, ``append`` for trades that just closed;
    ``set_active`` tells whether they are on screen (computations wait until they are)."""

    computed = Signal(int, object)
    """(generation, ``ChartData``) from the worker thread; queued to the GUI thread."""

    def __init__(self, parent: QWidget | None = None, tz: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tradeCharts")
        self._tz = tz
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trade-charts")
        self._trades: Sequence[TradeRow] = ()
        self._added: list[TradeRow] = []
        self._generation = 0
        self._drawn = -1
        self._active = False
        self.data: ChartData | None = None
        """What is drawn now (``None`` before the first computation)."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.caption = ElidingLabel("", self)
        self.caption.setObjectName("chartsCaption")
        self.caption.setProperty("muted", True)
        layout.addWidget(self.caption)
        grid = QGridLayout()
        grid.setSpacing(10)
        self.scatter = ChartBox(
            "maeScatter", "MAE vs. final P&L per trade", "MAE: the trade's worst P&L while open ($)", "Net P&L ($)"
        )
        self.r_hist = ChartBox("rHistogram", "R-multiple histogram", "R (net P&L ÷ initial risk)", "Trades")
        self.hours = ChartBox("pnlByHour", "P&L by hour of entry", "Hour of day", "Net P&L ($)")
        for column, box in enumerate((self.scatter, self.r_hist, self.hours)):
            grid.addWidget(box, 0, column)
            grid.setColumnStretch(column, 1)
        layout.addLayout(grid, 1)
        self._points: tuple[pg.ScatterPlotItem, pg.ScatterPlotItem, pg.ScatterPlotItem] | None = None
        self._r_bars: pg.BarGraphItem | None = None
        self._hour_bars: pg.BarGraphItem | None = None
        self.redraw = AfterDisplay.create(self, APPEND_REDRAW_MS, "tradeChartsRedraw", self._compute)
        """Trades closed in a burst are drawn after a display of the window, at most every ``APPEND_REDRAW_MS``."""
        self.computed.connect(self._draw)
        self.set_look(active_look())

    def boxes(self) -> tuple[ChartBox, ChartBox, ChartBox]:
        return (self.scatter, self.r_hist, self.hours)

    def drawn_points(self) -> tuple[int, int, int]:
        """How many winners, losers and flat trades the scatter shows (0s before it is first drawn)."""
        if self._points is None:
            return (0, 0, 0)
        winners, losers, flat = self._points
        return (len(winners.data), len(losers.data), len(flat.data))

    def _build(self) -> tuple[pg.ScatterPlotItem, pg.ScatterPlotItem, pg.ScatterPlotItem]:
        """The plots and their fixed items, made when the charts are first shown."""
        if self._points is not None:
            return self._points
        pg = pyqtgraph()
        scatter, hours = self.scatter.build(), self.hours.build()
        self.r_hist.build()
        points = (
            pg.ScatterPlotItem(size=8, pen=None),
            pg.ScatterPlotItem(size=8, pen=None),
            pg.ScatterPlotItem(size=8, pen=None),
        )
        for item in points:
            scatter.addItem(item)
        for plot in (scatter, hours):
            plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen("#8a8f96", width=1)))
        scatter.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#8a8f96", width=1)))
        self._points = points
        return points

    def set_look(self, look: Look) -> None:
        for box in self.boxes():
            box.set_look(look)
        self._look = look
        if self.data is not None and self._points is not None:
            self._paint(self.data)

    def set_trades(self, trades: Sequence[TradeRow], caption: str) -> None:
        """The period's closed trades (oldest first) of the focused account; ``caption`` names them."""
        self._trades, self._added = trades, []
        if self.caption.text() != caption:
            self.caption.setText(caption)
        self._generation += 1
        self.redraw.cancel()
        if self._active:
            self._compute()

    def append(self, rows: list[TradeRow]) -> None:
        """Trades that closed since ``set_trades`` (redrawn together, at most every 2 s)."""
        self._added.extend(rows)
        self._generation += 1
        if self._active:
            self.redraw.request()

    def set_active(self, active: bool) -> None:
        """On screen or not; becoming visible computes what changed meanwhile."""
        self._active = active
        if active:
            self._build()
        if active and self._drawn != self._generation:
            self._compute()

    def _compute(self) -> None:
        generation, trades, added, tz = self._generation, self._trades, list(self._added), self._tz

        def work() -> ChartData:
            return chart_data((*facts_of(trades), *facts_of(added)), tz)

        future: Future[ChartData] = self._executor.submit(work)
        future.add_done_callback(lambda done: self.computed.emit(generation, done.result()))

    def _draw(self, generation: int, data: ChartData) -> None:
        if generation != self._generation:
            return  # trades changed while this was computed: the newer result follows
        self._drawn = generation
        self.data = data
        self._paint(data)

    def _paint(self, data: ChartData) -> None:
        pg = pyqtgraph()
        winners, losers, flat_points = self._build()
        look = self._look
        wins = [(m, p) for m, p in zip(data.mae, data.pnl, strict=True) if p > 0]
        losses = [(m, p) for m, p in zip(data.mae, data.pnl, strict=True) if p < 0]
        flat = [(m, p) for m, p in zip(data.mae, data.pnl, strict=True) if p == 0]
        for item, points, color in (
            (winners, wins, look.profit),
            (losers, losses, look.loss),
            (flat_points, flat, look.flat),
        ):
            item.setData([m for m, _ in points], [p for _, p in points], brush=pg.mkBrush(color))
        self.scatter.note.setText(
            f"{len(wins)} winners (green), {len(losses)} losers (red); MAE is the trade's lowest P&L while open"
            + (f"; {data.trades - len(data.mae)} without MAE" if data.trades > len(data.mae) else "")
        )
        self._r_bars = self._bars(
            self.r_hist, self._r_bars, [e + R_BIN / 2 for e in data.r_edges], [float(c) for c in data.r_counts],
            R_BIN * 0.9, [look.profit if e >= 0 else look.loss for e in data.r_edges],
        )  # fmt: skip
        with_r = sum(data.r_counts)
        self.r_hist.note.setText(
            f"{with_r} trades with a stop at entry; {data.without_r} without (no R)"
            + ("; beyond −4 R / +8 R in the outer bars" if with_r else "")
        )
        self._hour_bars = self._bars(
            self.hours, self._hour_bars, [float(h) for h in range(24)], list(data.hour_pnl), 0.8,
            [look.profit if v >= 0 else look.loss for v in data.hour_pnl],
        )  # fmt: skip
        busiest = max(range(24), key=lambda h: data.hour_trades[h]) if data.trades else None
        self.hours.note.setText(
            f"{data.trades} trades by the hour they were entered"
            + (f"; most at {busiest:02d}:00 ({data.hour_trades[busiest]})" if busiest is not None else "")
            + (f"; {data.excluded} not in the account currency left out" if data.excluded else "")
        )
        for box in self.boxes():
            box.build().getPlotItem().enableAutoRange()
        # counts of trades: never below zero, and at least one trade high when there are none (pyqtgraph's
        # automatic range gave an empty histogram a "Trades" axis from −0.4 to 0.4)
        self.r_hist.build().getPlotItem().setYRange(0, max(1.0, float(max(data.r_counts, default=0))), padding=0.05)

    @staticmethod
    def _bars(
        box: ChartBox,
        old: pg.BarGraphItem | None,
        xs: list[float],
        heights: list[float],
        width: float,
        colors: list[str],
    ) -> pg.BarGraphItem:
        pg = pyqtgraph()
        plot = box.build()
        if old is not None:
            plot.removeItem(old)
        bars = pg.BarGraphItem(x=xs, height=heights, width=width, brushes=[pg.mkBrush(c) for c in colors], pen=None)
        plot.addItem(bars)
        return bars

    def shutdown(self) -> None:
        """Stop the worker (the window closes)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def chart_caption(period: str, mode: str | None, account: str | None) -> str:
    """``Closed trades of Week · SIM Sim1``."""
    scope = f" · {mode} {account}" if account else ""
    return f"Closed trades of {period}{scope}"

"""Panel3 — statistics of the displayed (mode, account) over the chosen period, today's P&L (realized + open)
and the period's closed trades in a sortable table with CSV export.

Every figure comes from ``AppSnapshot`` (``today``, ``statistics``, ``trades``); nothing is computed here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.snapshots import AppSnapshot, TradeRow
from core.stats import Statistics
from panels import format as fmt
from panels.after_display import AfterDisplay
from panels.theme import pnl_color
from panels.trades_csv import write_trades_csv
from panels.trades_table import LISTED, CellDelegate, TradesModel
from panels.widgets import ValueLabel, add_pairs, documents_folder

TABLE_FLUSH_MS = 1000
"""Closed trades reach the table together at most this often (the figures above update at once)."""

Formatter = Callable[[Statistics], tuple[str, str | None]]


def _signed(value: Decimal | None) -> tuple[str, str | None]:
    """Signed money, coloured by what is shown: an amount that rounds to $0.00 is not red or green."""
    text = fmt.money(value)
    return text, pnl_color(None if value is None else fmt.cents(value))


STAT_FIELDS: tuple[tuple[str, str, Formatter], ...] = (
    ("net_pnl", "Net P&L", lambda s: _signed(s.net_pnl)),
    ("trades", "Trades", lambda s: (str(s.trades), None)),
    ("gross_profit", "Gross profit", lambda s: _signed(s.gross_profit)),
    ("wins", "Wins", lambda s: (str(s.wins), None)),
    ("gross_loss", "Gross loss", lambda s: _signed(s.gross_loss)),
    ("losses", "Losses", lambda s: (str(s.losses), None)),
    ("commissions", "Commissions", lambda s: (fmt.amount(s.commissions), None)),
    ("breakevens", "Breakevens", lambda s: (str(s.breakevens), None)),
    ("win_rate", "Win rate", lambda s: (fmt.percent(s.win_rate), None)),
    ("profit_factor", "Profit factor", lambda s: (fmt.ratio(s.profit_factor), None)),
    ("avg_win", "Average win", lambda s: _signed(s.avg_win)),
    ("avg_loss", "Average loss", lambda s: _signed(s.avg_loss)),
    ("expectancy", "Expectancy", lambda s: _signed(s.expectancy)),
    ("avg_r", "Average R", lambda s: (fmt.r_multiple(s.avg_r), pnl_color(s.avg_r))),
    ("best", "Best trade", lambda s: _signed(s.best)),
    ("worst", "Worst trade", lambda s: _signed(s.worst)),
    ("max_runup", "Max run-up", lambda s: _signed(s.max_runup)),
    ("max_drawdown", "Max drawdown", lambda s: _signed(None if s.max_drawdown is None else -abs(s.max_drawdown))),
    ("longest_win_streak", "Longest win streak", lambda s: (str(s.longest_win_streak), None)),
    ("longest_loss_streak", "Longest loss streak", lambda s: (str(s.longest_loss_streak), None)),
    ("avg_hold_seconds", "Average hold", lambda s: (fmt.duration(s.avg_hold_seconds), None)),
    ("avg_efficiency", "Average efficiency", lambda s: (fmt.percent(s.avg_efficiency), None)),
    ("avg_mae", "Average MAE", lambda s: _signed(s.avg_mae)),
    ("avg_mfe", "Average MFE", lambda s: _signed(s.avg_mfe)),
)
"""(Statistics field, caption, formatter → (text, colour)) — every field of ``core.stats.Statistics``."""


class Panel3(QGroupBox):
    """Today's figures and the chosen period's statistics and trades for the displayed (mode, account).

    ``tz``: the zone trade times are shown in (``None`` = this computer's local time).
    """

    def __init__(self, parent: QWidget | None = None, tz: tzinfo | None = None) -> None:
        super().__init__("Statistics", parent)
        self.setObjectName("panel3")
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(16)
        left = QVBoxLayout()
        left.setSpacing(4)
        today = QGridLayout()
        today.setHorizontalSpacing(10)
        today.setVerticalSpacing(2)
        self.realized = ValueLabel("todayRealized", "font-size:13pt; font-weight:700;")
        self.open_pnl = ValueLabel("todayOpen", "font-size:13pt; font-weight:700;")
        self.total = ValueLabel("todayTotal", "font-size:13pt; font-weight:700;")
        self.trades = ValueLabel("todayTrades", "font-size:13pt; font-weight:700;")
        today_pairs: list[tuple[str, QWidget]] = [
            ("Realized today", self.realized),
            ("Open now", self.open_pnl),
            ("Total today", self.total),
            ("Trades today", self.trades),
        ]
        add_pairs(today, today_pairs, columns=2)
        today.setColumnMinimumWidth(1, 110)
        left.addLayout(today)
        self.realized.setToolTip(
            "Everything realized since the session start — partial exits of trades still open included — less "
            "the commissions of today's fills"
        )
        self.unit_note = QLabel(objectName="unitNote")
        self.unit_note.setTextFormat(Qt.TextFormat.PlainText)
        self.unit_note.setWordWrap(True)
        self.unit_note.setProperty("muted", True)
        self.unit_note.hide()
        left.addWidget(self.unit_note)
        self.period_caption = QLabel(objectName="periodCaption")
        self.period_caption.setStyleSheet("font-weight:600; padding-top:4px;")
        left.addWidget(self.period_caption)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(1)
        self.stats: dict[str, ValueLabel] = {name: ValueLabel(f"stat_{name}") for name, _, _ in STAT_FIELDS}
        add_pairs(grid, [(caption, self.stats[name]) for name, caption, _ in STAT_FIELDS], columns=2)
        grid.setColumnMinimumWidth(1, 110)  # room for "-$12,345.67": the second pair stays aligned
        left.addLayout(grid)
        left.addStretch(1)
        outer.addLayout(left)
        right = QVBoxLayout()
        bar = QHBoxLayout()
        self.trades_title = QLabel(objectName="tradesTitle")
        self.trades_title.setTextFormat(Qt.TextFormat.PlainText)
        self.trades_title.setStyleSheet("font-weight:600;")
        self.export_button = QPushButton("Export CSV…", objectName="exportCsv")
        self.export_button.clicked.connect(self._ask_export)
        self.export_status = QLabel(objectName="exportStatus")
        self.export_status.setTextFormat(Qt.TextFormat.PlainText)
        self.export_status.setProperty("muted", True)
        bar.addWidget(self.trades_title)
        bar.addStretch(1)
        bar.addWidget(self.export_status)
        bar.addWidget(self.export_button)
        right.addLayout(bar)
        self.model = TradesModel(tz)
        self.table = QTableView(objectName="tradesTable")
        self.table.setModel(self.model)
        self.table.setItemDelegate(CellDelegate(self.model, self.table))
        self.table.setSortingEnabled(True)  # the model sorts its listed rows itself (by value)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # newest exit first
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        # columns are sized to their contents when the trades are replaced, not on every insertion or layout
        # change (ResizeToContents re-measured the visible rows on each: most of the GUI time in a burst)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # at most 30 rows are measured (0, 'the visible ones', measures all of them while the window is hidden)
        self.table.horizontalHeader().setResizeContentsPrecision(30)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setMinimumHeight(110)
        self._base_widths: list[int] = []
        self.table.viewport().installEventFilter(self)  # wider than the columns need: they share the rest
        right.addWidget(self.table, 1)
        outer.addLayout(right, 1)
        self._dialog: QFileDialog | None = None
        self._account = ""
        self.export_folder: str | None = None
        """Where the save dialog starts; ``None``: the user's Documents folder."""
        self._pending: list[TradeRow] = []
        self._sized = False
        self._period, self._loading = "", False
        self.table_flush = AfterDisplay.create(self, TABLE_FLUSH_MS, "tradesFlush", self._flush)
        """Closed trades reach the table after a display of the window, at most every ``TABLE_FLUSH_MS``."""

    def set_compact(self, compact: bool) -> None:
        """Compact (medium widths): today's figures and the period's statistics, without the trades table."""
        for widget in (self.trades_title, self.export_status, self.export_button, self.table):
            widget.setVisible(not compact)

    def _fit_columns(self) -> None:
        """Columns at their contents' width; when the table is wider, the spare width is shared out."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        self._base_widths = [header.sectionSize(i) for i in range(header.count())]
        self._stretch_columns()

    def _stretch_columns(self) -> None:
        header = self.table.horizontalHeader()
        base = self._base_widths
        if len(base) != header.count() or not base:
            return
        spare = self.table.viewport().width() - sum(base)
        extra = max(0, spare) // len(base)
        for i, width in enumerate(base):
            header.resizeSection(i, width + extra)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self._stretch_columns()
        return super().eventFilter(watched, event)

    def render(self, snap: AppSnapshot) -> None:
        today = snap.today
        period = fmt.period_label(snap.period)
        scope = f" · {snap.scope_mode} {snap.scope_account}" if snap.scope_account else ""
        title = f"Statistics — {period}{scope}"
        if self.title() != title:
            self.setTitle(title)
        self.realized.show_value(fmt.money(today.realized_pnl), pnl_color(today.realized_pnl))
        self.open_pnl.show_value(fmt.money(today.open_pnl), pnl_color(today.open_pnl))
        self.total.show_value(fmt.money(today.total_pnl), pnl_color(today.total_pnl))
        self.trades.show_value(str(today.trades))
        notes = []
        if today.excluded:
            notes.append(f"Open now leaves out {', '.join(today.excluded)}: not in the account's currency.")
        excluded = snap.statistics.excluded_trades
        if excluded:
            notes.append(
                f"{excluded:,} closed trade{'s' if excluded != 1 else ''} in points or another currency "
                "listed but not in the statistics."
            )
        imported = snap.statistics.imported_trades
        if imported:
            notes.append(
                f"Includes {imported:,} trade{'s' if imported != 1 else ''} imported from Sierra Chart's trade list "
                "(closed before DTC Panel first saw the account; marked SC in the list)."
            )
        text = " ".join(notes)
        if self.unit_note.text() != text:
            self.unit_note.setText(text)
        self.unit_note.setVisible(bool(notes))
        for name, _, formatter in STAT_FIELDS:
            text, color = formatter(snap.statistics)
            self.stats[name].show_value(text, color)
        self._period, self._loading = period, snap.statistics_loading
        self._account = snap.scope_account or ""
        self._render_count()
        self.period_caption.setText(f"Closed trades, {period.lower() if period != 'All' else 'all time'}:")

    def _render_count(self) -> None:
        count = self.model.total + len(self._pending)
        if self._loading:
            title = f"Loading closed trades — {self._period}…"
        else:
            title = f"{count:,} closed trade{'s' if count != 1 else ''} — {self._period}"
            if count > LISTED:
                title += f" (newest {LISTED:,} listed; statistics and CSV cover all)"
        if self.trades_title.text() != title:
            self.trades_title.setText(title)
        self.export_button.setEnabled(self.model.total > 0)

    def set_trades(self, trades: Sequence[TradeRow]) -> None:
        """The period's closed trades after a scope or period change; columns fit the visible rows."""
        self._pending.clear()
        self.table_flush.cancel()
        if self.model.set_trades(trades) or not self._sized:
            self._sized = bool(trades)
            self._fit_columns()

    def append_trades(self, rows: list[TradeRow]) -> None:
        """Trades that just closed, added to the table (sorting keeps the chosen order) right after a display of
        the window, at most every ``TABLE_FLUSH_MS``, since each insertion repaints the visible rows."""
        self._pending.extend(rows)
        self.table_flush.request()

    def _flush(self) -> None:
        rows, self._pending = self._pending, []
        self.model.append(rows)
        if not self._sized:  # the first trades of an empty period: fit the columns once
            self._sized = True
            self._fit_columns()
        self._render_count()

    def stat_texts(self) -> dict[str, str]:
        """What each statistic shows, by ``Statistics`` field name."""
        return {name: label.text() for name, label in self.stats.items()}

    def table_column(self, column: int) -> list[str]:
        """The texts of one table column, top to bottom as currently sorted."""
        return [str(self.model.index(row, column).data()) for row in range(self.model.rowCount())]

    def export_to(self, path: Path) -> None:
        """Write the shown trades to ``path`` and say so (or why not) beside the button."""
        try:
            rows = write_trades_csv(path, self.model.trades, self._account)
        except OSError as exc:
            self.export_status.setText(f"Export failed: {exc.strerror or exc}")
            return
        self.export_status.setText(f"{rows} trade(s) written to {path.name}")

    def _ask_export(self) -> None:
        folder = self.export_folder if self.export_folder is not None else documents_folder()
        name = f"trades-{self._account}.csv" if self._account else "trades.csv"
        dialog = QFileDialog(self, "Export trades as CSV", str(Path(folder) / name) if folder else name)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(lambda name: self.export_to(Path(name)))
        self._dialog = dialog
        dialog.open()

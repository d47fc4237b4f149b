"""The "Differences with Sierra Chart" view (issue 15): where the comparison with Sierra Chart's own trade list
stands, and every difference with both values side by side.

It shows the ``SierraTradesView`` the core publishes (``core.sierra_trades``) and holds no logic: the
``panels.bridge.QtBridge`` carries each view from the DTC thread to the GUI thread.
"""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QDialog, QLabel, QTableView, QVBoxLayout, QWidget

from core.sierra_trades import SierraTradesView
from panels import format as fmt

HEADERS = ("Account", "Symbol", "Entry time", "Exit time", "What", "DTC Panel", "Sierra Chart", "Found")
INTRO = (
    "DTC Panel computes every trade from fills; Sierra Chart keeps its own trade list. Differences are listed "
    "here and kept in the audit log — DTC Panel never changes its figures to match. Sierra Chart is authoritative."
)


class SierraDifferencesDialog(QDialog):
    """A non-modal window: the status line ("not available from this Sierra Chart", or how many trades were
    checked, agree, were imported) and the table of differences, newest exit first."""

    def __init__(self, parent: QWidget | None = None, tz: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Differences with Sierra Chart")
        self.setObjectName("sierraDifferences")
        self._tz = tz
        self.view = SierraTradesView()
        layout = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setProperty("muted", True)
        layout.addWidget(intro)
        self.status = QLabel(objectName="sierraStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # Sierra Chart's reject text is quoted
        self.status.setWordWrap(True)
        self.status.setStyleSheet("font-weight:600;")
        layout.addWidget(self.status)
        self.model = QStandardItemModel(0, len(HEADERS))
        self.model.setHorizontalHeaderLabels(list(HEADERS))
        self.table = QTableView(objectName="sierraDifferencesTable")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setResizeContentsPrecision(50)  # fitted to the first rows, not all of them
        layout.addWidget(self.table, 1)
        self._dirty = True
        self.resize(900, 360)
        self.show_view(self.view)

    @Slot(object)
    def show_view(self, view: SierraTradesView) -> None:
        """Show ``view``. The rows (at most the newest thousand differences) are rebuilt only while the window is
        open, or when it opens: a hidden window costs the GUI thread nothing."""
        self.view = view
        self.status.setText(self.status_text(view))
        self._dirty = True
        if self.isVisible():
            self._fill()

    def showEvent(self, event: QShowEvent) -> None:
        if self._dirty:
            self._fill()
        super().showEvent(event)

    def _fill(self) -> None:
        self._dirty = False
        view = self.view
        self.model.setRowCount(0)
        for d in view.differences:
            cells = (
                f"{d.mode} {d.account}",
                d.symbol,
                fmt.short_timestamp(d.entry_time, self._tz),
                fmt.short_timestamp(d.exit_time, self._tz),
                d.what,
                d.panel_value,
                d.sierra_value,
                fmt.short_timestamp(d.found_at, self._tz),
            )
            items = [QStandardItem(text) for text in cells]
            for item in items[5:7]:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.model.appendRow(items)
        self.table.resizeColumnsToContents()

    @staticmethod
    def status_text(view: SierraTradesView) -> str:
        """The status: Sierra Chart's answer (a line per account when there are several), then how many
        differences are listed."""
        count = len(view.differences)
        listed = f"{count} difference{'s' if count != 1 else ''} listed." if count else "No differences listed."
        return f"{view.status}\n{listed}" if "\n" in view.status else f"{view.status}. {listed}"

    def button_text(self) -> str:
        """What the window's button says: "Sierra Chart ✓", "≠ N", "n/a" (not available for any account), or
        "≠ N · n/a" when both."""
        view = self.view
        if view.differences:
            return f"Sierra Chart ≠ {len(view.differences)}" + (" · n/a" if view.available is False else "")
        if view.available is False:
            return "Sierra Chart n/a"
        return "Sierra Chart ✓" if view.available else "Sierra Chart …"

"""The reconnect warning dialog: one row per stored position Sierra Chart's report does not explain.

Each row offers: adopt Sierra Chart's position, keep mine, or close mine at a price the trader enters. The
dialog is opened with ``open()`` (never ``exec()``, never from the DTC thread) by ``ReconcileController``,
which watches the snapshots; it only reports decisions through ``on_decision(key, choice, price)`` and never
touches state or the database itself. Rows disappear when the snapshot no longer lists their discrepancy;
the dialog closes when none is left.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.reconcile import Discrepancy, DiscrepancyKind
from core.snapshots import AppSnapshot
from panels import format as fmt

Key = tuple[str, str, str]
Decide = Callable[[Key, str, Decimal | None], None]


class DiscrepancyRow(QFrame):
    """One discrepancy with its three choices."""

    def __init__(self, item: Discrepancy, decide: Decide, suggested_price: Decimal | None, parent: QWidget) -> None:
        super().__init__(parent)
        self.key = item.key
        self._decide = decide
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("discrepancyRow")
        layout = QVBoxLayout(self)
        self.text = QLabel(item.text, objectName="discrepancyText")
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # account and symbol names come from Sierra Chart
        self.text.setStyleSheet("font-weight: 600;")
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        buttons = QHBoxLayout()
        self.adopt = QPushButton("Adopt Sierra Chart's position", objectName="adopt")
        self.keep = QPushButton("Keep mine", objectName="keep")
        self.close_button = QPushButton("Close mine at", objectName="closeMine")
        self.price = QLineEdit(objectName="closePrice")
        self.price.setPlaceholderText("price")
        self.price.setMaximumWidth(110)
        if suggested_price is not None:
            self.price.setText(fmt.avg_price(suggested_price))  # "6,850.875": separators, never rounded
        has_mine = item.kind != DiscrepancyKind.OPENED
        self.close_button.setEnabled(has_mine)
        self.price.setEnabled(has_mine)
        for widget in (self.adopt, self.keep, self.close_button, self.price):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = QLabel(objectName="decisionStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setStyleSheet("color: #8a1c1c;")
        layout.addWidget(self.status)
        self.adopt.clicked.connect(lambda: self._choose("adopt", None))
        self.keep.clicked.connect(lambda: self._choose("keep", None))
        self.close_button.clicked.connect(self._close_clicked)

    def _close_clicked(self) -> None:
        try:
            price = Decimal(self.price.text().strip().replace(",", ""))
        except InvalidOperation:
            price = None
        if price is None or not price.is_finite():
            self.status.setText("Enter the price at which your position was closed.")
            return
        self._choose("close", price)

    def _choose(self, choice: str, price: Decimal | None) -> None:
        for widget in (self.adopt, self.keep, self.close_button, self.price):
            widget.setEnabled(False)
        self.status.setStyleSheet("color: #5f6b7a;")
        self.status.setText("Applying…")
        self._decide(self.key, choice, price)


class ReconcileDialog(QDialog):
    """Lists the discrepancies of the latest snapshot. Non-blocking: shown with ``open()``."""

    def __init__(self, decide: Decide, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reconcileDialog")
        self.setWindowTitle("Positions differ from Sierra Chart")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self._decide = decide
        layout = QVBoxLayout(self)
        intro = QLabel(
            "After reconnecting, these stored positions do not match what Sierra Chart reports and no fill "
            "explains the difference. Until you decide, they are shown as UNCONFIRMED. Every choice is recorded."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self._rows_box = QVBoxLayout()
        layout.addLayout(self._rows_box)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.rows: dict[Key, DiscrepancyRow] = {}

    def update_from(self, snap: AppSnapshot) -> None:
        prices = {
            (v.mode, v.account, v.symbol): v.last_price for v in (*snap.positions, *snap.other_open) if v.last_price
        }
        current = {d.key: d for d in snap.discrepancies}
        for key in list(self.rows):
            if key not in current:
                row = self.rows.pop(key)
                self._rows_box.removeWidget(row)
                row.deleteLater()
        for key, item in current.items():
            if key not in self.rows:
                row = DiscrepancyRow(item, self._decide, prices.get(key), self)
                self.rows[key] = row
                self._rows_box.addWidget(row)
            else:
                self.rows[key].text.setText(item.text)


class ReconcileController(QObject):
    """Opens the dialog when a snapshot carries discrepancies and keeps it in step with later snapshots."""

    def __init__(self, decide: Decide, parent_window: QWidget | None = None) -> None:
        super().__init__(parent_window)
        self._decide = decide
        self._parent = parent_window
        self.dialog: ReconcileDialog | None = None
        self._last_seq = -1
        self._dismissed: set[Key] = set()

    @Slot(object)
    def on_snapshot(self, snap: AppSnapshot) -> None:
        if snap.seq < self._last_seq:
            return
        self._last_seq = snap.seq
        if not snap.discrepancies:
            if self.dialog is not None and self.dialog.isVisible():
                self.dialog.accept()
            return
        if self.dialog is None:
            self.dialog = ReconcileDialog(self._decide, self._parent)
            self.dialog.rejected.connect(self._dismiss)
        self.dialog.update_from(snap)
        keys = {d.key for d in snap.discrepancies}
        if not self.dialog.isVisible() and not keys <= self._dismissed:
            self.dialog.open()

    @Slot()
    def _dismiss(self) -> None:
        """Closed without deciding: do not reopen for these positions (they stay UNCONFIRMED on screen)."""
        if self.dialog is not None:
            self._dismissed |= set(self.dialog.rows)

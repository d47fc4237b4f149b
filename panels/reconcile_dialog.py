"""The reconnect warning dialog: one row per open discrepancy between the stored positions and Sierra Chart's.

Each row offers three choices, each with one line saying what it will do before the trader clicks: adopt
Sierra Chart's position, keep mine, or close mine at a price. The dialog is modeless (``show()``, never
``exec()``/``open()``): the main window stays usable. ``ReconcileController`` keeps it in step with every
snapshot the window shows — new discrepancies appear as rows, resolved ones disappear — and opens it by itself
when a discrepancy is found that was not listed before; closed without a decision, the window's chip reopens it.

A decision goes out through ``decide(key, choice, price, seen=…, ticket=…)`` and its row shows progress until
the snapshot carries the ``DecisionResult`` with that ticket: done, or the reason it was refused (the row is
usable again). No answer within ``GIVE_UP_S`` makes the row usable again too — never a permanent "Applying…"
(a decision that arrives twice is refused by the core: it is only carried out for the difference shown).
It never touches state or the database itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.reconcile import DecisionResult, Discrepancy, DiscrepancyKind
from core.snapshots import AppSnapshot, PositionView
from panels import format as fmt

Key = tuple[str, str, str]
Decide = Callable[..., None]
"""``decide(key, choice, price, *, seen: Discrepancy, ticket: int)`` — ``StateManager.resolve``."""
Send = Callable[[Key, str, Decimal | None, Discrepancy], int]

SLOW_S = 3.0
"""Seconds after which a decision in flight says it is still waiting."""
GIVE_UP_S = 15.0
"""Seconds after which a decision without an answer leaves its row usable again."""
CLOSE_WHEN_DONE_MS = 2500
"""How long the dialog stays up showing the last result once no discrepancy is left."""
MUTED = "color:#5f6b7a;"
ERROR = "color:#8a1c1c; font-weight:600;"
DONE = "color:#1b7f3a; font-weight:600;"


@dataclass(frozen=True)
class PriceInfo:
    """The last price of a discrepancy's symbol as the window shows it, and the figures for a P&L preview."""

    price: Decimal | None
    time: datetime | None
    stale: bool
    point_value: Decimal
    tick: Decimal
    pnl_unit: str


def _prices(snap: AppSnapshot) -> dict[Key, PriceInfo]:
    out = {}
    views: tuple[PositionView, ...] = (*snap.positions, *snap.other_open)
    for v in views:
        out[(v.mode, v.account, v.symbol)] = PriceInfo(
            v.last_price, v.last_price_time, v.last_price_stale, v.point_value, v.tick_size, v.pnl_unit
        )
    return out


def trades_since_text(item: Discrepancy, unit: str = "", counted: bool = False) -> str:
    """What happens to the trades the panel's fills closed while this was open (held apart meanwhile): ``counted``
    (keep, close) `` The 1 trade (+$5.00) … is counted in the statistics.``, else (adopt) discarded; "" if none."""
    if not item.trades_since:
        return ""
    n = item.trades_since
    what = f"{n} trade{'s' if n != 1 else ''} ({fmt.pnl(item.pnl_since, unit)})"
    verb = "is" if n == 1 else "are"
    if counted:
        return f" The {what} the panel's fills closed while this was open, held apart until now, {verb} counted."
    return (
        f" The {what} the panel's fills closed while this was open, held apart, {verb} discarded: "
        f"{'it' if n == 1 else 'they'} closed a position Sierra Chart did not have."
    )


def explain_adopt(item: Discrepancy, unit: str = "") -> str:
    if item.broker_quantity == 0:
        text = (
            f"Removes the panel's {item.panel_text}: stored flat, as Sierra Chart reports. No trade is recorded "
            "(no exit price is invented); statistics unchanged."
        )
    else:
        text = f"Stores Sierra Chart's {item.broker_text} as the position. No trade is recorded; statistics unchanged."
    return text + trades_since_text(item, unit)


def explain_keep(item: Discrepancy, unit: str = "") -> str:
    if item.stored_quantity == 0:
        text = (
            f"Keeps the panel flat; Sierra Chart's {item.broker_text} is not tracked here. No trade is recorded; "
            "statistics unchanged."
        )
    else:
        text = (
            f"Keeps the panel's {item.panel_text} stored (confirmed) though Sierra Chart reports "
            f"{item.broker_text}. No trade is recorded; statistics unchanged."
        )
    return text + trades_since_text(item, unit, counted=True)


def explain_close(item: Discrepancy, price: Decimal | None, info: PriceInfo | None) -> str:
    if item.stored_quantity == 0:
        return "The panel holds no position here: nothing to close."
    text = f"Records a trade closing the panel's {item.panel_text} at the price entered"
    if price is not None and item.stored_average is not None and info is not None:
        pnl = (price - item.stored_average) * item.stored_quantity * info.point_value
        text += f" ({fmt.avg_price(price, info.tick)}: {fmt.pnl(pnl, info.pnl_unit)} before commissions)"
    text += "; the position is then flat and the trade counts in the statistics."
    return text + trades_since_text(item, info.pnl_unit if info is not None else "", counted=True)


def price_age_text(info: PriceInfo | None, now: datetime) -> str:
    """``last price 6,851.00 · 14m ago · STALE`` / ``no price yet — type one``."""
    if info is None or info.price is None:
        return "no price yet — type the price you closed at"
    text = f"last price {fmt.price(info.price, info.tick)}"
    if info.time is not None:
        text += f" · {fmt.age(info.time, now)} ago"
    if info.stale:
        text += " · STALE"
    return text


def _parse(text: str) -> Decimal | None:
    try:
        price = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    return price if price.is_finite() and price > 0 else None


def _explanation(name: str) -> QLabel:
    label = QLabel(objectName=name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # account and symbol names come from Sierra Chart
    label.setWordWrap(True)
    label.setStyleSheet(MUTED)
    return label


class DiscrepancyRow(QFrame):
    """One discrepancy with its three choices, what each does, and the state of a decision in flight."""

    def __init__(self, item: Discrepancy, info: PriceInfo | None, send: Send, parent: QWidget) -> None:
        super().__init__(parent)
        self.key = item.key
        self.item = item
        self.info = info
        self._send = send
        self.ticket: int | None = None
        """The decision in flight (``None``: none)."""
        self._sent_at = 0.0
        self._typed = False
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("discrepancyRow")
        layout = QVBoxLayout(self)
        self.text = QLabel(item.text, objectName="discrepancyText")
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setStyleSheet("font-weight: 600;")
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.adopt = QPushButton("Adopt Sierra Chart's position", objectName="adopt")
        self.keep = QPushButton("Keep mine", objectName="keep")
        self.close_button = QPushButton("Close mine at", objectName="closeMine")
        self.price = QLineEdit(objectName="closePrice")
        self.price.setPlaceholderText("exit price")
        self.price.setMaximumWidth(110)
        self.adopt_help = _explanation("adoptHelp")
        self.keep_help = _explanation("keepHelp")
        self.close_help = _explanation("closeHelp")
        for label in (self.adopt_help, self.keep_help, self.close_help):
            label.setMinimumWidth(380)  # one readable paragraph beside each button
        self.price_age = _explanation("priceAge")
        grid.addWidget(self.adopt, 0, 0, 1, 2)
        grid.addWidget(self.adopt_help, 0, 2)
        grid.addWidget(self.keep, 1, 0, 1, 2)
        grid.addWidget(self.keep_help, 1, 2)
        grid.addWidget(self.close_button, 2, 0)
        grid.addWidget(self.price, 2, 1)
        grid.addWidget(self.close_help, 2, 2)
        grid.addWidget(self.price_age, 3, 1, 1, 2)
        grid.setColumnStretch(2, 1)
        layout.addLayout(grid)
        self.status = QLabel(objectName="decisionStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.adopt.clicked.connect(lambda: self._choose("adopt", None))
        self.keep.clicked.connect(lambda: self._choose("keep", None))
        self.close_button.clicked.connect(self._close_clicked)
        self.price.textEdited.connect(self._price_edited)  # only the trader's typing, not a pre-fill
        self.refresh(item, info)

    # --- showing ---------------------------------------------------------------------------------------

    def refresh(self, item: Discrepancy, info: PriceInfo | None, now: datetime | None = None) -> None:
        """Show ``item`` (Sierra Chart's latest figures) and the symbol's last price as it is now."""
        self.item, self.info = item, info
        if self.text.text() != item.text:
            self.text.setText(item.text)
        self.adopt_help.setText(explain_adopt(item, info.pnl_unit if info is not None else ""))
        self.keep_help.setText(explain_keep(item, info.pnl_unit if info is not None else ""))
        if not self._typed:  # pre-filled with the last price; the trader's own typing is never replaced
            # "6,850.875": separators, never rounded onto a tick (the field reads them back)
            wanted = "" if info is None or info.price is None else fmt.avg_price(info.price, info.tick)
            if self.price.text() != wanted:
                self.price.setText(wanted)
        self.price_age.setText("" if self._typed else price_age_text(info, now or datetime.now(UTC)))
        self.close_help.setText(explain_close(item, _parse(self.price.text()), info))
        self._enable(self.ticket is None)

    def _enable(self, on: bool) -> None:
        has_mine = self.item.stored_quantity != 0 and self.item.kind != DiscrepancyKind.OPENED
        self.adopt.setEnabled(on)
        self.keep.setEnabled(on)
        self.close_button.setEnabled(on and has_mine)
        self.price.setEnabled(on and has_mine)

    def _say(self, text: str, css: str) -> None:
        self.status.setStyleSheet(css)
        self.status.setText(text)

    # --- choosing --------------------------------------------------------------------------------------

    def _price_edited(self, _text: str) -> None:
        self._typed = True
        self.price_age.setText("")
        self.close_help.setText(explain_close(self.item, _parse(self.price.text()), self.info))

    def _close_clicked(self) -> None:
        price = _parse(self.price.text())
        if price is None:
            self._say("Enter the price at which your position was closed.", ERROR)
            return
        info = self.info
        if not self._typed and info is not None and info.stale:
            age = price_age_text(info, datetime.now(UTC))
            self._say(
                f"Not closed: the pre-filled price is stale ({age}). Type the price your position was closed at.",
                ERROR,
            )
            return
        self._choose("close", price)

    def _choose(self, choice: str, price: Decimal | None) -> None:
        if self.ticket is not None:
            return
        self._enable(False)
        self._sent_at = time.monotonic()
        self._say("Applying…", MUTED)
        self.ticket = self._send(self.key, choice, price, self.item)

    def result(self, result: DecisionResult) -> None:
        """The core's answer to this row's decision in flight."""
        if result.ticket != self.ticket:
            return
        self.ticket = None
        if result.ok:
            self._say(f"Done: {result.text}", DONE)
            self._enable(False)  # the row goes as soon as the snapshot no longer lists the difference
        else:
            self._say(result.text, ERROR)
            self._enable(True)

    def tick(self, now: float) -> None:
        """A decision in flight for long says so, and is given up after ``GIVE_UP_S`` (the row is usable)."""
        if self.ticket is None:
            return
        waited = now - self._sent_at
        if waited >= GIVE_UP_S:
            self.ticket = None
            self._say(
                f"No answer after {waited:.0f} s (is the connection thread busy?): nothing is confirmed. "
                "Choose again — a decision that arrives twice is refused, never applied twice.",
                ERROR,
            )
            self._enable(True)
        elif waited >= SLOW_S:
            self._say(f"Applying… still waiting after {waited:.0f} s", MUTED)


class ReconcileDialog(QDialog):
    """Lists the discrepancies of the latest snapshot. Modeless: shown with ``show()``."""

    def __init__(self, send: Send, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reconcileDialog")
        self.setWindowTitle("Positions differ from Sierra Chart")
        self.setModal(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self._send = send
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinAndMaxSize)  # keeps to its rows as they come and go
        intro = QLabel(
            "These positions differ from what Sierra Chart reports and no fill explains it. Until you decide, the "
            "window shows Sierra Chart's position, the panel's beside it; fills are still stored. Every choice "
            "is recorded with its reason."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self._rows_box = QVBoxLayout()
        layout.addLayout(self._rows_box)
        self.empty = QLabel("No open differences: every position agrees with Sierra Chart.", objectName="noneLeft")
        self.empty.setStyleSheet(DONE)
        self.empty.hide()
        layout.addWidget(self.empty)
        self.last_result = QLabel(objectName="lastResult")
        self.last_result.setTextFormat(Qt.TextFormat.PlainText)
        self.last_result.setWordWrap(True)
        self.last_result.hide()
        layout.addWidget(self.last_result)
        footer = _explanation("closeHelp")
        footer.setText(
            "Close: decide later — nothing changes; the differences stay listed in the window (its "
            "\u201cpositions differ\u201d chip reopens this list)."
        )
        layout.addWidget(footer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.rows: dict[Key, DiscrepancyRow] = {}
        self._results_seen: set[int] = set()
        self._timer = QTimer(self, interval=500)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def update_from(self, snap: AppSnapshot) -> None:
        prices = _prices(snap)
        now = datetime.now(UTC)
        current = {d.key: d for d in snap.discrepancies}
        for key in list(self.rows):
            if key not in current:
                row = self.rows.pop(key)
                self._rows_box.removeWidget(row)
                row.hide()
                row.deleteLater()
        for key, item in current.items():
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = DiscrepancyRow(item, prices.get(key), self._send, self)
                self._rows_box.addWidget(row)
            else:
                row.refresh(item, prices.get(key), now)
        for result in snap.decision_results:
            if result.ticket in self._results_seen:
                continue
            self._results_seen.add(result.ticket)
            row = self.rows.get(result.key)
            if row is not None:
                row.result(result)
            self.last_result.setStyleSheet(DONE if result.ok else ERROR)
            self.last_result.setText(("✓ " if result.ok else "✗ ") + result.text)
            self.last_result.show()
        self.empty.setVisible(not self.rows)

    def _tick(self) -> None:
        now = time.monotonic()
        for row in self.rows.values():
            row.tick(now)


class ReconcileController(QObject):
    """Keeps the dialog in step with the snapshots the window shows; opens it by itself when a discrepancy
    is found that was not listed before, and on the trader's request (``show_dialog``, the window's chip)."""

    def __init__(self, decide: Decide, parent_window: QWidget | None = None) -> None:
        super().__init__(parent_window)
        self._decide = decide
        self._parent = parent_window
        self.dialog: ReconcileDialog | None = None
        self._snap: AppSnapshot | None = None
        self._listed: set[tuple[object, ...]] = set()
        self._ticket = 0
        self._close_timer = QTimer(self, singleShot=True, interval=CLOSE_WHEN_DONE_MS)
        self._close_timer.timeout.connect(self._close_if_done)

    @staticmethod
    def _signature(d: Discrepancy) -> tuple[object, ...]:
        return (d.key, d.stored_quantity, d.broker_quantity, d.broker_average)

    def _send(self, key: Key, choice: str, price: Decimal | None, seen: Discrepancy) -> int:
        self._ticket += 1
        self._decide(key, choice, price, seen=seen, ticket=self._ticket)
        return self._ticket

    def _ensure(self) -> ReconcileDialog:
        if self.dialog is None:
            self.dialog = ReconcileDialog(self._send, self._parent)
        return self.dialog

    @Slot(object)
    def on_snapshot(self, snap: AppSnapshot) -> None:
        if self._snap is not None and snap.seq < self._snap.seq:
            return
        self._snap = snap
        listed = {self._signature(d) for d in snap.discrepancies}
        found_new = bool(listed - self._listed)
        self._listed = listed
        if self.dialog is None and not snap.discrepancies:
            return
        dialog = self._ensure()
        dialog.update_from(snap)
        if found_new:
            self._close_timer.stop()
            self._present(dialog)
        elif not snap.discrepancies and dialog.isVisible() and not self._close_timer.isActive():
            self._close_timer.start()  # the last result stays readable for a moment

    @Slot()
    def show_dialog(self) -> ReconcileDialog:
        """Open (or raise) the dialog with what the window shows now (the window's chip)."""
        dialog = self._ensure()
        if self._snap is not None:
            dialog.update_from(self._snap)
        self._close_timer.stop()
        self._present(dialog)
        return dialog

    @staticmethod
    def _present(dialog: ReconcileDialog) -> None:
        dialog.show()  # modeless: never open()/exec(), which would block the main window
        dialog.raise_()
        dialog.activateWindow()

    def _close_if_done(self) -> None:
        if self.dialog is not None and not self.dialog.rows:
            self.dialog.hide()

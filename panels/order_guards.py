"""The stop guard and orphan cleanup in the window (issue 17): the bar above the position cards of the displayed
account, the arming confirmation for LIVE accounts, and the "Cancel orphaned orders" offers.

Holds no logic: it shows the ``GuardView`` the core publishes (``core.order_guards``) and turns clicks into
requests (``arm_requested``, ``cancel_requested``), which the core carries out on the DTC thread. Arming a LIVE
account opens ``ArmDialog`` first — it names the account and shows what will be sent — and only its Confirm
passes the account name on as the confirmation; Cancel arms nothing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.guard_views import CLEANUP, STOP_GUARD, GuardView, PositionGuard
from panels.theme import CHIP, ERROR_BG, ERROR_FG, HEAT_RED, WARNING_BG, WARNING_FG
from panels.widgets import ElidingLabel

LEVEL_CSS = {
    "ok": "",
    "wait": f"color:{WARNING_FG};",
    "warn": f"background:{WARNING_BG}; color:{WARNING_FG}; {CHIP}",
    "alarm": f"background:{ERROR_BG}; color:{ERROR_FG}; {CHIP}",
}
LIVE_ARMED_CSS = f"background:{HEAT_RED}; color:#ffffff; {CHIP}"


def distance_text(account: str, distances: tuple[tuple[str, int], ...]) -> str:
    """Every stop distance set for ``account``: the account's own and each symbol's (``"Sim1/MES"``), e.g.
    "8 ticks (every other symbol); MES: 12 ticks"."""
    own = dict(distances).get(account)
    per_symbol = [(key.split("/", 1)[1], ticks) for key, ticks in distances if key.startswith(f"{account}/")]
    parts = [f"{root}: {ticks} ticks" for root, ticks in sorted(per_symbol)]
    if own:
        parts.insert(0, f"{own} ticks" + (" (every other symbol)" if per_symbol else ""))
    elif per_symbol:
        parts.append("no other symbol is guarded")
    return "; ".join(parts) if parts else "the set distance (none set yet: nothing is sent)"


def what_is_sent(feature: str, account: str, distances: tuple[tuple[str, int], ...] = ()) -> str:
    """The orders a feature sends for ``account``, in the words of the DTC messages; ``distances`` the stop
    guard's (key, ticks) settings (``GuardView.distances``), every one of the account's is listed."""
    if feature == STOP_GUARD:
        ticks = distance_text(account, distances)
        return (
            f"For every position of {account} that has no working stop for longer than the grace period:\n"
            f"SUBMIT_NEW_SINGLE_ORDER (208) — TradeAccount {account}, the position's Symbol, OrderType STOP, "
            "BuySell the closing side, Quantity the position's full size, Price1 the stop distance beyond the "
            "average entry, TimeInForce GOOD_TILL_CANCELED, OpenOrClose CLOSE, IsAutomatedOrder 1.\n"
            f"Stop distance: {ticks}.\n"
            "When the position's size changes: CANCEL_REPLACE_ORDER (204) of that stop to the new size."
        )
    return (
        f"For every position of {account} that goes flat while its stop/target orders are still working:\n"
        f"CANCEL_ORDER (203) — TradeAccount {account}, the ServerOrderID of each stop/target on the closed "
        "position's closing side that was working when it closed, after the grace period."
    )


class ArmDialog(QDialog):
    """Confirmation before arming a LIVE account: the account, the feature, and what will be sent."""

    def __init__(
        self, feature: str, account: str, distances: tuple[tuple[str, int], ...] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("armDialog")
        self.feature, self.account = feature, account
        name = "stop guard" if feature == STOP_GUARD else "orphan cleanup"
        self.setWindowTitle(f"Arm the {name} for LIVE account {account}?")
        layout = QVBoxLayout(self)
        head = QLabel(f"Arm the {name} for LIVE account {account}", objectName="armHead")
        head.setTextFormat(Qt.TextFormat.PlainText)
        head.setStyleSheet("font-size:13pt; font-weight:700;")
        body = QLabel(what_is_sent(feature, account, distances), objectName="armBody")
        body.setTextFormat(Qt.TextFormat.PlainText)
        body.setWordWrap(True)
        warning = QLabel(
            "These are real orders at your broker. DTC Panel sends nothing while the position is unconfirmed or "
            "differs from Sierra Chart, while prices are stale, or when Sierra Chart does not allow trading.",
            objectName="armWarning",
        )
        warning.setWordWrap(True)
        warning.setStyleSheet(f"color:{ERROR_FG}; font-weight:600;")
        for label in (head, body, warning):
            layout.addWidget(label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm = buttons.addButton(f"Arm for {account}", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm.setObjectName("armConfirm")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())


class GuardBar(QFrame):
    """The displayed account's two safety nets: state, arm/disarm buttons, LIVE arming in red, why orders
    cannot be sent, and one "Cancel orphaned orders" button per closed position with orders left working."""

    arm_requested = Signal(str, str, bool, str)
    """(feature, account, armed, confirmed account — the account name after a LIVE confirmation, else "")."""
    cancel_requested = Signal(str, str)
    """(account, symbol): the trader's click on "Cancel orphaned orders"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("guardBar")
        self.view = GuardView()
        self.account: str | None = None
        self.mode = ""
        self.dialog: ArmDialog | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 2, 0, 2)
        outer.setSpacing(2)
        row = QHBoxLayout()
        # one line each, like every state in the window: a narrow window elides it (whole text in the tooltip);
        # word-wrapped, they were squeezed into two short lines beside the card even with room to spare
        self.stop_state = ElidingLabel()
        self.stop_state.setObjectName("stopGuardState")
        self.cleanup_state = ElidingLabel()
        self.cleanup_state.setObjectName("cleanupState")
        self.stop_button = QPushButton(objectName="armStopGuard")
        self.cleanup_button = QPushButton(objectName="armCleanup")
        self.stop_button.clicked.connect(lambda: self._toggle(STOP_GUARD))
        self.cleanup_button.clicked.connect(lambda: self._toggle(CLEANUP))
        for widget in (self.stop_state, self.stop_button, self.cleanup_state, self.cleanup_button):
            row.addWidget(widget)
        row.addStretch(1)
        outer.addLayout(row)
        self.note = QLabel(objectName="guardNote")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"background:{WARNING_BG}; color:{WARNING_FG}; padding:4px;")
        outer.addWidget(self.note)
        self._offers = QVBoxLayout()
        outer.addLayout(self._offers)
        self.offer_buttons: dict[tuple[str, str], QPushButton] = {}
        self.hide()

    def distance(self) -> int | None:
        if self.account is None:
            return None
        return dict(self.view.distances).get(self.account)

    def show_for(self, mode: str | None, account: str | None, view: GuardView | None = None) -> None:
        """Show the bar for (mode, account) with ``view`` (or the last one)."""
        self.mode, self.account = mode or "", account
        if view is not None:
            self.view = view
        self._render()

    def _armed(self, feature: str) -> bool:
        armed = self.view.stop_armed if feature == STOP_GUARD else self.view.cleanup_armed
        return self.account in armed

    def _render(self) -> None:
        account, view = self.account, self.view
        configured = any(k == account or k.startswith(f"{account}/") for k, _ in view.distances) if account else False
        self.setVisible(bool(account))
        if not account:
            return
        live = self.mode == "LIVE"
        for feature, label, button, name in (
            (STOP_GUARD, self.stop_state, self.stop_button, "Stop guard"),
            (CLEANUP, self.cleanup_state, self.cleanup_button, "Orphan cleanup"),
        ):
            armed = self._armed(feature)
            detail = ""
            if feature == STOP_GUARD:
                distance = self.distance()
                detail = f" {distance} t" if distance else (" (per symbol)" if configured else "")
            state = "ARMED" if armed else "warns only"
            if feature == STOP_GUARD and not configured:
                state = "ARMED, no distance set" if armed else "off (no distance set)"
            text = f"{name}{detail}: {state}"
            if armed and live:
                text = f"LIVE {account} · {name.upper()} ARMED"
            css = LIVE_ARMED_CSS if armed and live else ("font-weight:700;" if armed else "")
            if label.text() != text:
                label.setText(text)
            if label.styleSheet() != css:  # a style sheet change re-polishes: only when it changes
                label.setStyleSheet(css)
            button.setText("Disarm" if armed else ("Arm…" if live else "Arm"))
            if feature == STOP_GUARD:  # nothing to arm without a distance (a disarm always works)
                button.setEnabled(armed or configured)
                button.setToolTip("" if configured else "Set a stop distance for this account in Settings first")
        notes = [n for n in (view.trading_note, view.refusal) if n]
        if account in view.disabled_accounts:
            notes.append(f"Trading is disabled for {account} (TradingIsDisabled): the guards only warn")
        self.note.setText("\n".join(notes))
        self.note.setVisible(bool(notes))
        self._render_offers()

    def _render_offers(self) -> None:
        wanted = [o for o in self.view.offers if o.account == self.account]
        keys = [(o.account, o.symbol) for o in wanted]
        if list(self.offer_buttons) != keys:
            while self._offers.count():
                item = self._offers.takeAt(0)
                if item.widget() is not None:
                    item.widget().deleteLater()
            self.offer_buttons = {}
            for offer in wanted:
                line = QWidget()
                box = QHBoxLayout(line)
                box.setContentsMargins(0, 0, 0, 0)
                text = QLabel(objectName="orphanOffer")
                text.setTextFormat(Qt.TextFormat.PlainText)
                text.setWordWrap(True)
                text.setStyleSheet(f"background:{WARNING_BG}; color:{WARNING_FG}; padding:4px;")
                button = QPushButton("Cancel orphaned orders", objectName="cancelOrphans")
                pair = (offer.account, offer.symbol)
                button.clicked.connect(lambda _=False, p=pair: self.cancel_requested.emit(*p))
                box.addWidget(text, 1)
                box.addWidget(button)
                self._offers.addWidget(line)
                self.offer_buttons[(offer.account, offer.symbol)] = button
        for offer in wanted:
            button = self.offer_buttons[(offer.account, offer.symbol)]
            label = button.parentWidget().findChild(QLabel, "orphanOffer")
            orders = "; ".join(offer.orders)
            label.setText(f"{offer.symbol}: {orders} still working on a closed position — {offer.text}")
            button.setEnabled(not offer.cancelling)

    def offer_texts(self) -> list[str]:
        """The offers shown, one line each (tests)."""
        return [b.parentWidget().findChild(QLabel, "orphanOffer").text() for b in self.offer_buttons.values()]

    def _toggle(self, feature: str) -> None:
        account = self.account
        if not account:
            return
        if self._armed(feature):
            self.arm_requested.emit(feature, account, False, "")
        elif self.mode != "LIVE":
            self.arm_requested.emit(feature, account, True, "")
        else:
            self.dialog = ArmDialog(feature, account, self.view.distances if feature == STOP_GUARD else (), self)
            self.dialog.finished.connect(self._confirmed)
            self.dialog.open()

    @Slot(int)
    def _confirmed(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is None:
            return
        if result == QDialog.DialogCode.Accepted:
            self.arm_requested.emit(dialog.feature, dialog.account, True, dialog.account)
        dialog.deleteLater()


def card_guard(view: GuardView, mode: str, account: str, symbol: str) -> tuple[str, str]:
    """(text, css) of a position card's guard line; LIVE arming is always on it."""
    entry: PositionGuard | None = next(
        (p for p in view.positions if (p.mode, p.account, p.symbol) == (mode, account, symbol)), None
    )
    armed = [n for f, n in ((view.stop_armed, "STOP GUARD"), (view.cleanup_armed, "ORPHAN CLEANUP")) if account in f]
    if mode == "LIVE" and armed:
        head = f"LIVE · {' + '.join(armed)} ARMED"
        text = f"{head} · {entry.text.removeprefix('Stop guard (ARMED): ')}" if entry is not None else head
        css = LEVEL_CSS["alarm"] if entry is not None and entry.level == "alarm" else LIVE_ARMED_CSS
        return text, css
    if entry is None:
        return "", ""
    return entry.text, LEVEL_CSS.get(entry.level, "")

"""Panel2 — the live position of the displayed (mode, account): one card per open symbol, FLAT when none;
below them positions only Sierra Chart knows of and orphaned brackets. Open positions of other accounts are
on the window's board (``position_board``), each row marked SIM or LIVE."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from core.guard_views import GuardView
from core.snapshots import AppSnapshot
from panels import format as fmt
from panels.order_guards import GuardBar, card_guard
from panels.position_card import DEFAULT_HEAT_THRESHOLDS, PositionCard
from panels.theme import ERROR_BG, ERROR_FG, WARNING_BG, WARNING_FG, active_look
from panels.widgets import StableScrollArea

SPARE_CARDS = 4


def _now() -> datetime:
    return datetime.now(UTC)


def _note(object_name: str, css: str) -> QLabel:
    label = QLabel(objectName=object_name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # notes quote account and symbol names from Sierra Chart
    label.setWordWrap(True)
    label.setStyleSheet(css)
    label.hide()
    return label


class Panel2(QWidget):
    """Renders the positions of the displayed scope from ``AppSnapshot``; holds no state of its own.

    ``heat_thresholds`` are the seconds in heat after which the heat turns amber, then red; ``clock``
    returns the current UTC time (ages are measured against it).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        heat_thresholds: tuple[float, float] = DEFAULT_HEAT_THRESHOLDS,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel2")
        self._heat_thresholds = heat_thresholds
        self._clock = clock
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = StableScrollArea()
        scroll.setObjectName("positionsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(objectName="positionsBody")
        scroll.setStyleSheet("QScrollArea, QWidget#positionsBody { background: transparent; }")
        scroll.viewport().setAutoFillBackground(False)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 4, 0)
        self.guard_bar = GuardBar(body)  # the stop guard and orphan cleanup of the displayed account (issue 17)
        layout.addWidget(self.guard_bar)
        self._guards = GuardView()
        self._scope: tuple[str | None, str | None] = (None, None)
        self.flat = QLabel("FLAT", objectName="flat")
        self.flat.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.flat.setStyleSheet(f"font-size:24pt; font-weight:800; color:{active_look().flat}; padding:16px;")
        layout.addWidget(self.flat)
        self._cards_box = QVBoxLayout()
        layout.addLayout(self._cards_box)
        self.broker_note = _note("brokerOnly", f"background:{ERROR_BG}; color:{ERROR_FG}; padding:6px;")
        self.orphans = _note("orphanOrders", f"background:{WARNING_BG}; color:{WARNING_FG}; padding:6px;")
        for note in (self.broker_note, self.orphans):
            layout.addWidget(note)
        layout.addStretch(1)
        scroll.setWidget(body)
        outer.addWidget(scroll)
        self._cards: dict[str, PositionCard] = {}
        self._spare: list[PositionCard] = []  # hidden cards kept for the next position (building one costs ms)
        self.primary_unit = "$"
        """What the cards show first: ``$``, ``pt`` or ``t``; the next ``render`` uses it."""

    def render(self, snap: AppSnapshot) -> None:
        now = self._clock()
        symbols = [v.symbol for v in snap.positions]
        if list(self._cards) != symbols:  # the set of cards changed: re-lay them out, reusing the widgets
            spare = [*self._cards.values(), *self._spare]
            for card in spare:
                self._cards_box.removeWidget(card)
                card.hide()
            self._cards = {}
            for symbol in symbols:  # a hidden card is re-rendered below before it is shown again
                card = self._cards[symbol] = spare.pop() if spare else PositionCard(self._heat_thresholds, self)
                self._cards_box.addWidget(card)
                card.show()
            self._spare = spare[:SPARE_CARDS]
            for card in spare[SPARE_CARDS:]:
                card.deleteLater()
        for view in snap.positions:
            card = self._cards[view.symbol]
            card.set_mode(view.mode)
            card.primary_unit = self.primary_unit
            card.render(view, now)
        self.flat.setVisible(not snap.positions)
        self.flat.setText("FLAT" if snap.scope_account else "No account yet")
        self._set_note(
            self.broker_note,
            [
                f"Sierra Chart reports {'LONG' if b.quantity > 0 else 'SHORT'} {fmt.quantity(b.quantity)} "
                f"{b.symbol} @ {fmt.price(b.average_price)} — not from fills seen by this panel"
                for b in snap.broker_only
            ],
        )
        self._set_note(self.orphans, [f"Orphaned order — {text}" for text in snap.orphan_orders])
        self._scope = (snap.scope_mode, snap.scope_account)
        self._show_guard_lines()

    def show_guards(self, view: GuardView) -> None:
        """The stop guard and orphan cleanup as the core last published them (``core.order_guards``)."""
        self._guards = view
        self._show_guard_lines()

    def _show_guard_lines(self) -> None:
        mode, account = self._scope
        self.guard_bar.show_for(mode, account, self._guards)
        for symbol, card in self._cards.items():
            card.show_guard(*card_guard(self._guards, mode or "", account or "", symbol))

    @staticmethod
    def _set_note(label: QLabel, lines: list[str]) -> None:
        text = "\n".join(lines)
        if label.text() != text:
            label.setText(text)
        label.setVisible(bool(lines))

    def guard_lines(self) -> dict[str, str]:
        """Symbol → the stop guard's line on its card ("" when none is shown)."""
        return {s: c.guard.text() if c.guard.isVisibleTo(self) else "" for s, c in self._cards.items()}

    def card_texts(self) -> list[str]:
        """What each card shows, one string per open position (banner · entry · P&L), top to bottom."""
        out = []
        for i in range(self._cards_box.count()):
            card = self._cards_box.itemAt(i).widget()
            if isinstance(card, PositionCard):
                out.append(card.summary())
        return out

"""Panel2 — the live position of the displayed (mode, account): one card per open symbol, FLAT when none."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from core.snapshots import AppSnapshot, PositionView
from panels import format as fmt
from panels.theme import ERROR_BG, ERROR_FG, LONG, SHORT, WARNING_BG, WARNING_FG, pnl_color, theme_for


class PositionCard(QFrame):
    """One open position: side banner, quantity @ average entry, last price, open and realized P&L."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("positionCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(14, 10, 14, 10)
        grid.setHorizontalSpacing(18)
        self.banner = QLabel(objectName="banner")
        self.banner.setStyleSheet("font-size: 22px; font-weight: 700;")
        self.unconfirmed = QLabel("UNCONFIRMED — waiting for Sierra Chart", objectName="unconfirmed")
        self.unconfirmed.setStyleSheet(
            f"background:{WARNING_BG}; color:{WARNING_FG}; padding:2px 6px; border-radius:3px; font-weight:600;"
        )
        self.entry = QLabel(objectName="entry")
        self.entry.setStyleSheet("font-size: 15px;")
        self.last = QLabel(objectName="last")
        self.open_pnl = QLabel(objectName="openPnl")
        self.open_pnl.setStyleSheet("font-size: 18px; font-weight: 600;")
        self.realized = QLabel(objectName="realized")
        self.note = QLabel(objectName="note")
        self.note.setStyleSheet("color: #7a5300;")
        grid.addWidget(self.banner, 0, 0, 1, 2)
        grid.addWidget(self.unconfirmed, 0, 2, alignment=Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.entry, 1, 0, 1, 3)
        grid.addWidget(QLabel("Last"), 2, 0)
        grid.addWidget(self.last, 2, 1, 1, 2)
        grid.addWidget(QLabel("Open P&L"), 3, 0)
        grid.addWidget(self.open_pnl, 3, 1, 1, 2)
        grid.addWidget(QLabel("Realized (this trade)"), 4, 0)
        grid.addWidget(self.realized, 4, 1, 1, 2)
        grid.addWidget(self.note, 5, 0, 1, 3)

    def render(self, view: PositionView) -> None:
        color = LONG if view.quantity > 0 else SHORT
        self.banner.setText(f"{view.side} {fmt.quantity(view.quantity)} {view.symbol}")
        self.banner.setStyleSheet(f"font-size: 22px; font-weight: 700; color: {color};")
        self.unconfirmed.setVisible(not view.confirmed)
        self.entry.setText(f"{fmt.quantity(view.quantity)} @ {fmt.price(view.avg_entry, view.tick_size)} avg entry")
        if view.last_price is None:
            self.last.setText(f"{fmt.DASH} (no price source yet)")
        else:
            self.last.setText(f"{fmt.price(view.last_price, view.tick_size)}  ({fmt.age(view.last_price_time)} ago)")
        self.open_pnl.setText(fmt.money(view.open_pnl))
        self.open_pnl.setStyleSheet(f"font-size: 18px; font-weight: 600; color: {pnl_color(view.open_pnl)};")
        self.realized.setText(fmt.money(view.realized_in_trade))
        self.realized.setStyleSheet(f"color: {pnl_color(view.realized_in_trade)};")
        notes = []
        if not view.point_value_known:
            notes.append(f"Point value of {view.symbol} unknown: P&L uses 1 per point; set it in settings.")
        if not view.confirmed and view.broker_quantity is not None and view.broker_quantity != view.quantity:
            notes.append(f"Sierra Chart reports {fmt.quantity(view.broker_quantity)} ({_side(view.broker_quantity)}).")
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))


def _side(qty: object) -> str:
    return "flat" if qty == 0 else ("long" if float(qty) > 0 else "short")  # type: ignore[arg-type]


class Panel2(QWidget):
    """Renders the positions of the displayed scope from ``AppSnapshot``; holds no state of its own."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel2")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.flat = QLabel("FLAT", objectName="flat")
        self.flat.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.flat.setStyleSheet("font-size: 26px; font-weight: 700; color: #5f6b7a; padding: 18px;")
        layout.addWidget(self.flat)
        self._cards_box = QVBoxLayout()
        layout.addLayout(self._cards_box)
        self.broker_note = QLabel(objectName="brokerOnly")
        self.broker_note.setWordWrap(True)
        self.broker_note.setStyleSheet(f"background:{ERROR_BG}; color:{ERROR_FG}; padding:6px; border-radius:3px;")
        layout.addWidget(self.broker_note)
        self.others = QLabel(objectName="otherOpen")
        self.others.setWordWrap(True)
        layout.addWidget(self.others)
        layout.addStretch(1)
        self._cards: dict[str, PositionCard] = {}
        self.broker_note.hide()
        self.others.hide()

    def render(self, snap: AppSnapshot) -> None:
        symbols = [v.symbol for v in snap.positions]
        for symbol in list(self._cards):
            if symbol not in symbols:
                card = self._cards.pop(symbol)
                self._cards_box.removeWidget(card)
                card.deleteLater()
        for view in snap.positions:
            card = self._cards.get(view.symbol)
            if card is None:
                card = self._cards[view.symbol] = PositionCard(self)
                self._cards_box.addWidget(card)
            card.render(view)
        self.flat.setVisible(not snap.positions)
        self.flat.setText("FLAT" if snap.scope_account else "No account yet")
        if snap.broker_only:
            lines = [
                f"Sierra Chart reports {'LONG' if b.quantity > 0 else 'SHORT'} {fmt.quantity(b.quantity)} "
                f"{b.symbol} @ {fmt.price(b.average_price)} — not from fills seen by this panel"
                for b in snap.broker_only
            ]
            self.broker_note.setText("\n".join(lines))
        self.broker_note.setVisible(bool(snap.broker_only))
        if snap.other_open:
            items = [
                f"{v.mode} {v.account} · {v.side} {fmt.quantity(v.quantity)} {v.symbol} @ "
                f"{fmt.price(v.avg_entry, v.tick_size)}"
                for v in snap.other_open
            ]
            self.others.setText("Also open: " + "; ".join(items))
        self.others.setVisible(bool(snap.other_open))
        theme = theme_for(snap.scope_mode)
        self.setStyleSheet(f"QFrame#positionCard {{ background: {theme.card_bg}; border: 1px solid {theme.accent}; }}")

    def card_texts(self) -> list[str]:
        """What each card shows, one string per open position (banner · entry · P&L), top to bottom."""
        out = []
        for i in range(self._cards_box.count()):
            card = self._cards_box.itemAt(i).widget()
            if isinstance(card, PositionCard):
                out.append(" · ".join([card.banner.text(), card.entry.text(), card.open_pnl.text()]))
        return out

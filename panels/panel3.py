"""Panel3 — statistics of the displayed scope. For now: today's realized P&L, open P&L and trade count."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QWidget

from core.snapshots import AppSnapshot
from panels import format as fmt
from panels.theme import pnl_color


class Panel3(QGroupBox):
    """Today's figures (futures trading day) for the displayed (mode, account)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Today", parent)
        self.setObjectName("panel3")
        form = QFormLayout(self)
        self.realized = QLabel(objectName="todayRealized")
        self.realized.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.open_pnl = QLabel(objectName="todayOpen")
        self.trades = QLabel(objectName="todayTrades")
        form.addRow("Realized P&&L (net)", self.realized)
        form.addRow("Open P&&L", self.open_pnl)
        form.addRow("Closed trades", self.trades)

    def render(self, snap: AppSnapshot) -> None:
        today = snap.today
        self.setTitle(f"Today — {snap.scope_mode} {snap.scope_account}" if snap.scope_account else "Today")
        self.realized.setText(fmt.money(today.realized_pnl))
        self.realized.setStyleSheet(f"font-size: 16px; font-weight: 600; color: {pnl_color(today.realized_pnl)};")
        self.open_pnl.setText(fmt.money(today.open_pnl))
        self.trades.setText(str(today.trades))

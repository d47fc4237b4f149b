"""The main window: mode badge, scope picker, connection state, Panel2, Panel3, storage and event lines."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from core.snapshots import AppSnapshot, ConnectionState
from panels.panel2 import Panel2
from panels.panel3 import Panel3
from panels.theme import ERROR_BG, ERROR_FG, theme_for

FOLLOW = "__follow__"

_CONNECTION_COLORS = {
    ConnectionState.SYNCED: "#1b7f3a",
    ConnectionState.SYNCING: "#2f6fb3",
    ConnectionState.LOGGING_ON: "#2f6fb3",
    ConnectionState.CONNECTING: "#2f6fb3",
    ConnectionState.STALE: "#b26a00",
    ConnectionState.DISCONNECTED: "#c62828",
    ConnectionState.STOPPED: "#c62828",
}


class MainWindow(QMainWindow):
    """Renders every ``AppSnapshot``. ``on_scope_chosen(mode, account)`` / ``on_follow()`` are the only
    ways it asks for anything; it never reads or writes state itself."""

    def __init__(
        self,
        on_scope_chosen: Callable[[str, str], None] | None = None,
        on_follow: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("DTC Panel")
        self.setObjectName("mainWindow")
        self._on_scope_chosen = on_scope_chosen
        self._on_follow = on_follow
        self._rendering = False
        self.last_snapshot: AppSnapshot | None = None

        central = QWidget(objectName="central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(12, 10, 12, 10)
        top = QHBoxLayout()
        self.badge = QLabel(objectName="modeBadge")
        self.scope_picker = QComboBox(objectName="scopePicker")
        self.scope_picker.setMinimumWidth(220)
        self.scope_picker.activated.connect(self._scope_activated)
        self.connection = QLabel(objectName="connection")
        top.addWidget(self.badge)
        top.addWidget(self.scope_picker)
        top.addStretch(1)
        top.addWidget(self.connection)
        outer.addLayout(top)
        self.storage = QLabel(objectName="storageError")
        self.storage.setWordWrap(True)
        self.storage.setStyleSheet(f"background:{ERROR_BG}; color:{ERROR_FG}; padding:6px; font-weight:600;")
        self.storage.hide()
        outer.addWidget(self.storage)
        self.panel2 = Panel2()
        outer.addWidget(self.panel2, 3)
        self.panel3 = Panel3()
        outer.addWidget(self.panel3, 1)
        self.event_line = QLabel(objectName="lastEvent")
        self.event_line.setWordWrap(True)
        self.event_line.setStyleSheet("color: #5f6b7a;")
        outer.addWidget(self.event_line)
        self.advisory = QLabel("P&L computed by DTC Panel from fills — advisory; Sierra Chart is authoritative.")
        self.advisory.setStyleSheet("color: #8a8f96; font-size: 10px;")
        outer.addWidget(self.advisory)
        self.setCentralWidget(central)
        self.resize(560, 520)

    @Slot(object)
    def render(self, snap: AppSnapshot) -> None:
        """Show ``snap``. Snapshots arrive in order; an older one than the last shown is ignored."""
        if self.last_snapshot is not None and snap.seq < self.last_snapshot.seq:
            return
        self.last_snapshot = snap
        theme = theme_for(snap.scope_mode)
        self.centralWidget().setStyleSheet(
            f"QWidget#central {{ background: {theme.window_bg}; border: 4px solid {theme.accent}; }}"
        )
        self.badge.setText(f" {theme.badge_text} ")
        self.badge.setStyleSheet(
            f"background:{theme.badge_bg}; color:{theme.badge_fg}; font-weight:800; font-size:14px;"
            " padding:3px 8px; border-radius:4px;"
        )
        self.setWindowTitle(
            f"DTC Panel — {snap.scope_mode} {snap.scope_account}" if snap.scope_account else "DTC Panel"
        )
        self._render_scopes(snap)
        conn = snap.connection
        text = conn.state.value.upper()
        if conn.detail:
            text += f" — {conn.detail}"
        self.connection.setText(text)
        self.connection.setToolTip(conn.server)
        color = _CONNECTION_COLORS.get(conn.state, "#555")
        self.connection.setStyleSheet(f"color:{color}; font-weight:600;")
        if snap.storage_error:
            self.storage.setText(
                f"DATABASE ERROR — {snap.pending_fills} fill(s) held and retried, none lost: {snap.storage_error}"
            )
        self.storage.setVisible(bool(snap.storage_error))
        self.panel2.render(snap)
        self.panel3.render(snap)
        self.event_line.setText(snap.last_event)

    def _render_scopes(self, snap: AppSnapshot) -> None:
        self._rendering = True
        try:
            picker = self.scope_picker
            picker.clear()
            picker.addItem("Follow latest fill", FOLLOW)
            current = 0
            for account in snap.accounts:
                flag = " (trading disabled)" if account.trading_disabled else ""
                picker.addItem(f"{account.mode} · {account.account}{flag}", (account.mode, account.account))
                if snap.scope_pinned and (account.mode, account.account) == (snap.scope_mode, snap.scope_account):
                    current = picker.count() - 1
            picker.setCurrentIndex(current)
            if not snap.scope_pinned and snap.scope_account:
                picker.setItemText(0, f"Follow latest fill ({snap.scope_mode} · {snap.scope_account})")
        finally:
            self._rendering = False

    @Slot(int)
    def _scope_activated(self, index: int) -> None:
        if self._rendering:
            return
        data = self.scope_picker.itemData(index)
        if data == FOLLOW:
            if self._on_follow:
                self._on_follow()
        elif data and self._on_scope_chosen:
            self._on_scope_chosen(data[0], data[1])

"""Desktop notifications and a sound for the feed's position changes (when the trader enables them).

Each ``Notification`` of the snapshots is announced at most once (the feed is the source; a snapshot that
repeats it announces nothing). The desktop message goes through the system tray where one exists; the sound
is the platform's alert sound (``QApplication.beep``). ``announced`` keeps what was announced, newest last.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon, QWidget

from core.snapshots import AppSnapshot, Notification

ANNOUNCED_KINDS = frozenset(
    {"opened", "increased", "decreased", "flipped", "closed", "reconciled", "stale", "error", "unprotected"}
)


class DesktopAlerts(QObject):
    """Announces new feed entries. ``alerted(text)`` is emitted for each one announced."""

    alerted = Signal(str)

    def __init__(self, window: QWidget, *, desktop: bool, sound: bool) -> None:
        super().__init__(window)
        self.desktop = desktop
        self.sound = sound
        self.announced: list[str] = []
        self._seen: Notification | None = None
        self._started = False
        self._tray: QSystemTrayIcon | None = None
        if desktop and QSystemTrayIcon.isSystemTrayAvailable():
            icon = window.windowIcon()
            if icon.isNull():
                icon = window.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
            self._tray = QSystemTrayIcon(QIcon(icon), window)
            self._tray.setToolTip("DTC Panel")
            self._tray.show()

    @Slot(object)
    def on_snapshot(self, snap: AppSnapshot) -> None:
        items = snap.notifications
        if not self._started:  # what was already in the feed at startup is not news
            self._started = True
            self._seen = items[-1] if items else None
            return
        new = items
        if self._seen is not None and self._seen in items:
            new = items[items.index(self._seen) + 1 :]
        if items:
            self._seen = items[-1]
        for item in new:
            if item.kind in ANNOUNCED_KINDS and (self.desktop or self.sound):
                self._announce(item)

    def _announce(self, item: Notification) -> None:
        self.announced.append(item.text)
        if self.desktop and self._tray is not None:
            icon = (
                QSystemTrayIcon.MessageIcon.Warning
                if item.kind in ("stale", "error", "unprotected")
                else QSystemTrayIcon.MessageIcon.Information
            )
            self._tray.showMessage("DTC Panel", item.text, icon, 8000)
        if self.sound:
            QApplication.beep()
        self.alerted.emit(item.text)

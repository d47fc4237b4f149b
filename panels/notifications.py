"""The notification feed: ``snap.notifications`` (oldest first in the snapshot) shown newest first, compact,
one line per entry, coloured by kind. Rebuilt only when the feed changed.

Every line can be read whole: its tooltip holds the full text, and a double-click (or Enter) switches the feed
between one elided line per entry and whole, wrapped entries. After a restart the feed starts with the stored
events of the last run (``core.feed_history``), dated when they are not from today."""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from core.snapshots import Notification
from core.text import printable
from panels import format as fmt
from panels.theme import ERROR_FG, HEAT_AMBER, PROFIT
from panels.widgets import plain_tooltip

KIND_COLORS = {
    "opened": PROFIT,
    "increased": PROFIT,
    "decreased": "#2f6fb3",
    "flipped": "#6a3fb3",
    "closed": "",  # the look's text colour
    "reconciled": "#2f6fb3",
    "stale": HEAT_AMBER,
    "disputed": HEAT_AMBER,
    "warning": HEAT_AMBER,
    "error": ERROR_FG,
    "conflict": ERROR_FG,
    "unprotected": HEAT_AMBER,  # the stop guard / orphan cleanup warns (issue 17)
    "order": "#2f6fb3",  # an order the panel sent, or Sierra Chart's answer to it (issue 17)
}
SHOWN = 50
"""How many of the newest entries the list holds."""


def line_for(note: Notification, tz: tzinfo | None = None, now: datetime | None = None) -> str:
    """``14:32:05  SIM Sim1 · CLOSED · MESZ25 flat · trade P&L +36.25`` (the kind colours the line); an entry
    of another day than ``now``'s (a restored one) starts with its date."""
    return f"{fmt.short_timestamp(note.time, tz, now)}  {printable(note.text)}"


class NotificationFeed(QListWidget):
    """Newest first; ``lines()`` returns what it shows."""

    def __init__(self, parent: QWidget | None = None, tz: tzinfo | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notifications")
        self._tz = tz
        self._shown: tuple[int, Notification | None] = (0, None)
        self.setUniformItemSizes(True)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(self.fontMetrics().height() * 3)
        self.expanded = False
        """Whole, wrapped entries (True) or one elided line each (False); a double-click switches."""
        self.itemActivated.connect(lambda _item: self.set_expanded(not self.expanded))

    def set_expanded(self, expanded: bool) -> None:
        """Show each entry whole (wrapped over as many lines as it needs) or as one elided line."""
        self.expanded = expanded
        self.setUniformItemSizes(not expanded)
        self.setWordWrap(expanded)
        self.setTextElideMode(Qt.TextElideMode.ElideNone if expanded else Qt.TextElideMode.ElideRight)
        self.doItemsLayout()

    def render(self, notifications: tuple[Notification, ...]) -> None:
        """Show the newest ``SHOWN`` of ``notifications`` (oldest first), newest at the top. New entries are
        inserted at the top and the oldest dropped; the list is rebuilt only when it is not a continuation."""
        key = (len(notifications), notifications[-1] if notifications else None)
        if key[0] == self._shown[0] and key[1] is self._shown[1]:
            return
        last = self._shown[1]
        new: tuple[Notification, ...] | None = None
        if last is not None and self.count():
            for back in range(1, min(len(notifications), SHOWN) + 1):
                if notifications[-back] is last:
                    new = notifications[len(notifications) - back + 1 :]
                    break
        self._shown = key
        if new is None:
            self.clear()
            new = notifications[-SHOWN:]
        for note in new:
            self.insertItem(0, self._item(note))
        while self.count() > SHOWN:
            self.takeItem(self.count() - 1)

    def _item(self, note: Notification) -> QListWidgetItem:
        item = QListWidgetItem(line_for(note, self._tz))
        item.setToolTip(plain_tooltip(f"{note.kind}: {printable(note.text)}"))  # the text may come from Sierra Chart
        color = KIND_COLORS.get(note.kind)
        if color:
            item.setForeground(QColor(color))
        return item

    def lines(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

"""The window's keyboard shortcuts: one table of keys and names, turned into window-wide ``QAction``s.

On X11, Ctrl+Shift+Tab arrives as Backtab with Ctrl+Shift, which Qt matches to both "Ctrl+Shift+Tab" and
"Ctrl+Backtab": an action holding both is ambiguous and does nothing, so each key is registered once."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from core.tradingday import PERIOD_LABELS, Period

PERIOD_KEYS = tuple(Period)
"""Ctrl+1 … Ctrl+6 choose these periods, in this order."""

SHORTCUTS: dict[str, tuple[tuple[str, ...], str]] = {
    "next_scope": (("Ctrl+Tab", "Alt+Down"), "Next account"),
    "previous_scope": (("Ctrl+Shift+Tab", "Alt+Up"), "Previous account"),
    "follow": (("Ctrl+F",), "Follow the latest fill"),
    "next_unit": (("Ctrl+U",), "Money, points or ticks first"),
    "compact": (("Ctrl+M",), "Compact strip or full window"),
    "always_on_top": (("Ctrl+T",), "Always on top"),
    "charts": (("Ctrl+G",), "Charts or statistics"),
    "sierra_differences": (("Ctrl+D",), "Sierra Chart differences"),
    "settings": (("Ctrl+,",), "Settings"),
}
"""Action name → (key sequences, text). Settings also answers the platform's Preferences key."""


def install_shortcuts(
    window: QWidget, slots: dict[str, Callable[[], None]], period_chosen: Callable[[Period], None]
) -> dict[str, QAction]:
    """Add window-wide actions for ``SHORTCUTS`` (calling ``slots[name]``) and the period keys; returns them by
    name (``period_<value>`` for the periods)."""
    actions: dict[str, QAction] = {}

    def add(name: str, keys: list[QKeySequence], slot: Callable[[], None], text: str) -> None:
        action = QAction(text, window)
        action.setObjectName(name)
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        window.addAction(action)
        actions[name] = action

    for number, period in enumerate(PERIOD_KEYS, start=1):
        add(
            f"period_{period.value}",
            [QKeySequence(f"Ctrl+{number}")],
            lambda p=period: period_chosen(p),
            PERIOD_LABELS[period],
        )
    for name, (keys, text) in SHORTCUTS.items():
        sequences = [QKeySequence(k) for k in keys]
        if name == "settings":
            sequences.append(QKeySequence(QKeySequence.StandardKey.Preferences))
        add(name, sequences, slots[name], text)
    return actions

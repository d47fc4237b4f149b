"""Wiring a ``StateManager`` to a real window in tests, the way ``app_manager.build_app`` does."""

from __future__ import annotations

from core.state import StateManager
from panels.bridge import QtBridge
from panels.main_window import MainWindow


def attach(state: StateManager, window: MainWindow) -> QtBridge:
    """Subscribe ``window`` to ``state``'s updates (through the Qt bridge) and show the state now."""
    window.render_gap = 0.0  # tests read the screen right after each publication
    window.position_gap = 0.0
    bridge = QtBridge(window)
    bridge.updated.connect(window.apply)
    state.subscribe(bridge.publish)
    state.publish(force=True)
    return bridge

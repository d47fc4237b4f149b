"""The one Qt bridge between the core and the window: ``core`` publishes ``Update``s through a plain
callback on whatever thread it runs on (usually the DTC thread); ``QtBridge.publish`` emits them as a Qt
signal, which Qt queues to the GUI thread when the emitter is another thread. Updates are immutable, so
passing them by reference is safe."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.events import Update


class QtBridge(QObject):
    """``publish(update)`` (any thread) → ``updated(update)`` (delivered on this object's thread)."""

    updated = Signal(object)

    def publish(self, update: Update) -> None:
        self.updated.emit(update)

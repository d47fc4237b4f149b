"""The one Qt bridge between the core and the window: ``core`` publishes immutable values (``Update``s of the
state, ``GuardView``s of the stop guard, ``SierraTradesView``s of the trade-list comparison) through a plain
callback on whatever thread it runs on (usually the DTC thread); ``QtBridge.publish`` emits them as a Qt
signal, which Qt queues to the GUI thread when the emitter is another thread. The values are immutable, so
passing them by reference is safe. One bridge per kind of value, each connected to the slot that shows it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class QtBridge(QObject):
    """``publish(value)`` (any thread) → ``updated(value)`` (delivered on this object's thread)."""

    updated = Signal(object)

    def publish(self, value: object) -> None:
        self.updated.emit(value)

"""``AfterDisplay``: slow, deferrable GUI work (a chart redraw, rows added to the trades table) that runs right
after the window has shown an update, not at a moment of its own.

Such work takes 5–15 ms of the GUI thread. Run by a timer of its own (say two seconds after the trade that
asked for it), it starts at a random moment, and a fill that arrives meanwhile waits for it before it is
shown: the slowest fills to screen were those. Run right after a display, it follows work the GUI thread has
just finished, and the next fill has the most time to come. At most one run per gap; when no display comes
(the window is quiet), the timer runs it one gap after it was asked for.

The widget owns the timer, its ``timeout`` connected to the work (``AfterDisplay.create`` makes both), as with
any timer; this class only decides when the timer fires and holds no reference to the widget. (A first
version, a QObject child of the widget holding the widget's bound method, made pyqtgraph crash with SIGSEGV in
``QGraphicsView::paintEvent`` in about one test run of four; this one: none in 12.)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class AfterDisplay:
    """When ``timer`` (single-shot, its interval the gap in ms) fires after ``request()``: at the first
    ``displayed()`` at least one gap after its last firing, or one gap after the request, whichever comes first."""

    def __init__(self, timer: QTimer) -> None:
        timer.setSingleShot(True)
        self._timer = timer
        self._gap_ms = timer.interval()
        self._last_run = -self._gap_ms / 1000
        timer.timeout.connect(self._fired)

    @classmethod
    def create(cls, parent: QObject, gap_ms: int, name: str, job: Callable[[], None]) -> AfterDisplay:
        """A single-shot timer named ``name``, owned by ``parent`` (the widget), that runs ``job``; and this
        helper over it."""
        timer = QTimer(parent, singleShot=True, interval=gap_ms, objectName=name)
        timer.timeout.connect(job)
        return cls(timer)

    def request(self) -> None:
        """The work is due: it runs after the next display (or when the gap has passed)."""
        if not self._timer.isActive():
            self._timer.start(self._gap_ms)

    def pending(self) -> bool:
        return self._timer.isActive()

    def displayed(self) -> None:
        """The window has just shown an update: if the work is due and the gap has passed, it runs as soon as the
        GUI thread is back in its event loop (not inside the display, which may be inside another widget's event)."""
        if self._timer.isActive() and time.monotonic() - self._last_run >= self._gap_ms / 1000:
            self._timer.start(0)

    def cancel(self) -> None:
        """Forget the request (the data it was for was replaced, or drawn now)."""
        self._timer.stop()
        self._last_run = time.monotonic()

    def _fired(self) -> None:
        self._last_run = time.monotonic()

"""Fill latencies in milliseconds.

- fill commit: ``StateManager.apply_fill(publish=False)`` on a fresh database (WAL, ``synchronous=FULL``):
  one SQLite transaction with its fsync, then the cache update; p50/p99 over N fills;
- fill to screen: the real app (``build_app`` + ``start()``, offscreen Qt, window shown) against the DTC
  simulator on loopback, in a child process as Sierra Chart is. The clock starts when the simulator writes the
  fill (301, 306 and 107 in one write, as one order) and stops at the first paint event of Panel2 (or a widget
  in it) while the window shows a snapshot holding the new position: database commit, cache, queued signal,
  render and paint included. (The paint is recognised by the window's current snapshot, not by a slot connected
  after ``render``: PySide6 may deliver such a plain-function slot after the paint, which would wrongly count
  the next repaint, about 100 ms later.)

Fills cycle BUY 1, BUY 1, SELL 1, SELL 1 (LONG 1, LONG 2, LONG 1, FLAT), so every fourth one closes a trade;
each is sent once the previous one's work has settled (``SETTLE_S``).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from benchmarks.common import Figure, percentile
from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import PriceBook
from core.settings import Settings
from core.snapshots import AppSnapshot, ConnectionState
from core.state import StateManager
from data.db import make_engine
from data.repository import PositionStore

ACCOUNT = "Sim1"
SYMBOL = "MESZ25"
CYCLE = ((1, 1), (1, 2), (-1, 1), (-1, 0))
"""(side of the fill, position quantity after it)."""
SETTLE_S = 0.15
"""Pause after each measured fill (s): fills are measured one at a time, as a trader's arrive, not as a burst."""


def measure_commit(count: int) -> list[Figure]:
    """p50/p99 of ``apply_fill`` (ms) over ``count`` fills."""
    samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dtc-bench-commit-") as tmp:
        engine = make_engine(Path(tmp))
        state = StateManager(PositionStore(engine), InstrumentBook(), ModeClassifier(), prices=PriceBook(),
                             orders=OrderBook())  # fmt: skip
        price = Decimal("6000")
        for i in range(count):
            side, _ = CYCLE[i % 4]
            fill = Fill(f"C-{i}", ACCOUNT, SYMBOL, Decimal(side), price + Decimal("0.25") * (i % 7),
                        datetime.now(UTC), Decimal("0.62"))  # fmt: skip
            began = time.perf_counter()
            stored = state.apply_fill(fill, publish=False)
            samples.append((time.perf_counter() - began) * 1000)
            if not stored:
                raise RuntimeError(f"fill {i} was not stored: {state.snapshot().storage_error}")
        engine.dispose()
    return [
        Figure("fill commit p50 (synchronous=FULL)", percentile(samples, 0.5), "ms", note=f"{count} fills"),
        Figure("fill commit p99 (synchronous=FULL)", percentile(samples, 0.99), "ms"),
    ]


class _PaintProbe(QObject):
    """Notes the first paint of Panel2 (or a widget inside it) at which the window already shows the expected
    snapshot (``shows()``). Armed before the fill is sent, so no paint can slip by; the filter sits on Panel2's
    widgets only (not on the application), so other events never enter Python for it."""

    def __init__(self, area: QWidget, shows: Callable[[], bool]) -> None:
        super().__init__()
        self._area = area
        self._shows = shows
        self._watched: list[QWidget] = []
        self.armed = False
        self.painted_at = 0.0
        self.loop: QEventLoop | None = None

    def arm(self, loop: QEventLoop) -> None:
        self.loop, self.painted_at, self.armed = loop, 0.0, True
        self._watched = [self._area, *self._area.findChildren(QWidget)]
        for widget in self._watched:
            widget.installEventFilter(self)

    def disarm(self) -> None:
        self.armed = False
        for widget in self._watched:
            if shiboken6.isValid(widget):  # a card may have been deleted since
                widget.removeEventFilter(self)
        self._watched = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if self.armed and event.type() == QEvent.Type.Paint and self._shows():
            self.painted_at = time.perf_counter()
            self.armed = False
            if self.loop is not None:
                QTimer.singleShot(0, self.loop.quit)  # after this paint has finished
        return False


def _holds(snap: AppSnapshot | None, quantity: int) -> bool:
    if snap is None:
        return False
    held = [v.quantity for v in snap.positions if v.symbol == SYMBOL]
    return held == [Decimal(quantity)] if quantity else not held


def measure_fill_to_screen(count: int) -> list[Figure]:
    """p50/p99 (ms) from the simulator writing a fill to Panel2 painting the new position, over ``count`` fills
    (``fill_to_screen``)."""
    samples = [ms for _, ms in fill_to_screen(count)]
    return [
        Figure("fill to screen p50", percentile(samples, 0.5), "ms", note=f"{count} fills"),
        Figure("fill to screen p99", percentile(samples, 0.99), "ms", 15, False),
    ]


def fill_to_screen(count: int) -> list[tuple[float, float]]:
    """For each of ``count`` fills: (when the simulator wrote it, perf_counter s; ms until Panel2 painted it).

    The simulator runs in a child process, as Sierra Chart does (``benchmarks.simproc``): in the app's process
    its thread would compete for the GIL with the very threads being measured. Each fill is one order written
    as Sierra Chart writes it (301, 306 and the 107 of the subscribed symbol in one write); it is asked for
    from a helper thread, so the GUI thread is in its event loop, as in the app, when the bytes arrive. The
    clock starts when the child writes them (``BurstResult.sent_at``, the system's monotonic clock)."""
    from app_manager import build_app  # Qt widgets: imported only when this figure runs
    from benchmarks.realapp import charts_loaded
    from benchmarks.simproc import SimProcess
    from dtc.sim.server import BurstResult

    qt = QApplication.instance() or QApplication([])
    samples: list[tuple[float, float]] = []
    simulator = SimProcess([ACCOUNT])
    with tempfile.TemporaryDirectory(prefix="dtc-bench-screen-", ignore_cleanup_errors=True) as tmp:
        settings = replace(Settings.for_directories(Path(tmp)), host="127.0.0.1", port=simulator.port)
        app = build_app(settings)
        app.window.resize(1366, 768)
        app.window.show()
        expected = {"quantity": 0}
        probe = _PaintProbe(app.window.panel2, lambda: _holds(app.window.last_snapshot, expected["quantity"]))
        app.start()
        try:
            _spin_until(qt, lambda: _synced(app.window.last_snapshot), 20.0)
            # the chart is loaded once after start (``panels.plotting``): start-up work, not a fill's
            charts_loaded(app.window)
            _spin_until(qt, lambda: False, SETTLE_S * 4)  # the logon's deferred work settles
            for i in range(count):
                side, expected["quantity"] = CYCLE[i % 4]
                fill = (ACCOUNT, SYMBOL, "BUY" if side > 0 else "SELL", 1.0, 6000.0 + 0.25 * (i % 7))
                sent: list[BurstResult] = []
                loop = QEventLoop()
                timeout = QTimer(singleShot=True)
                timeout.timeout.connect(loop.quit)
                timeout.start(5000)
                probe.arm(loop)
                sender = threading.Thread(target=lambda f=fill, into=sent: into.append(simulator.burst([f], None)))
                sender.start()
                if not probe.painted_at:
                    loop.exec()
                probe.disarm()
                sender.join(10.0)
                if not probe.painted_at or not sent or not sent[0].sent_at:
                    raise RuntimeError(f"fill {i} never reached the screen")
                samples.append((sent[0].sent_at, (probe.painted_at - sent[0].sent_at) * 1000))
                _spin_until(qt, lambda: False, SETTLE_S)  # the deferred work of this fill settles
        finally:
            probe.disarm()
            app.stop()
            app.window.close()
            simulator.stop()
    return samples


def _synced(snap: AppSnapshot | None) -> bool:
    return snap is not None and snap.connection.state == ConnectionState.SYNCED


def _spin_until(qt: QApplication, done: Callable[[], bool], seconds: float) -> bool:
    """Process Qt events until ``done()`` is true or ``seconds`` pass; returns ``done()``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        qt.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        time.sleep(0.001)
    return done()

"""How late does the GUI event loop get during a price storm?

Builds the real window over a real ``StateManager`` and SQLite database (temporary directory), opens a
position, then a background thread calls ``state.on_price`` about 20,000 times per second for ~10 s and
publishes like the DTC thread does (``publish_throttled()`` after each batch of 50, ``publish()`` at the end).
Meanwhile a 10 ms ``QTimer`` on the GUI thread measures how late each tick fires.

    uv run python -m benchmarks.gui_lateness [--seconds 10] [--rate 20000]

Prints p50/p99/max lateness (ms), renders per second, and the last price shown versus the last one sent.
No assertion: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QApplication

from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import PriceBook, Quote
from core.state import StateManager
from data.db import make_engine
from data.repository import PositionStore
from panels.bridge import QtBridge
from panels.main_window import MainWindow

TICK_MS = 10
BATCH = 50


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def run(seconds: float, rate: int, data_dir: Path) -> dict[str, object]:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    state = StateManager(
        PositionStore(make_engine(data_dir)), InstrumentBook(), ModeClassifier(), prices=PriceBook(), orders=OrderBook()
    )
    window = MainWindow(on_scope_chosen=state.set_scope, on_follow=state.follow_latest_fill)
    window.resize(1366, 768)
    window.show()
    bridge = QtBridge(window)  # as app_manager wires it: core updates → queued signal → window.apply
    bridge.updated.connect(window.apply)
    state.subscribe(bridge.publish)
    state.publish(force=True)
    start = datetime.now(UTC)
    state.apply_fill(Fill("BENCH-1", "Sim1", "MESZ25", Decimal(1), Decimal("6000"), start))
    app.processEvents()

    last_sent: list[Decimal] = [Decimal(0)]
    sent_count = [0]

    def storm() -> None:
        began = time.perf_counter()
        i = 0
        while time.perf_counter() - began < seconds:
            for _ in range(BATCH):
                i += 1
                price = Decimal("6000") + Decimal("0.25") * (i % 3999)
                state.on_price(Quote("MESZ25", price, start + timedelta(microseconds=i), "dtc"))
                last_sent[0] = price
            state.publish_throttled()
            target = began + i / rate  # pace to ``rate`` quotes per second
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        sent_count[0] = i
        state.publish()  # end of the last chunk

    lateness: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    expected = [0.0]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        lateness.append(max(0.0, now - expected[0]))
        expected[0] = now + TICK_MS

    timer.timeout.connect(tick)
    renders_before = window.renders
    thread = threading.Thread(target=storm, name="price-storm", daemon=True)
    clock.start()
    expected[0] = TICK_MS
    timer.start(TICK_MS)
    began = time.perf_counter()
    thread.start()
    watcher = QTimer()

    def check_done() -> None:
        if not thread.is_alive():
            watcher.stop()
            QTimer.singleShot(500, app.quit)  # let the final snapshot reach the window

    watcher.timeout.connect(check_done)
    watcher.start(50)
    app.exec()  # the real event loop, as in the app
    elapsed = time.perf_counter() - began
    timer.stop()
    card = window.panel2._cards.get("MESZ25")
    shown = card.last.text().split(" ")[0] if card is not None else "—"
    window.close()
    return {
        "quotes": sent_count[0],
        "quotes_per_s": sent_count[0] / seconds,
        "p50_ms": statistics.median(lateness) if lateness else 0.0,
        "p99_ms": percentile(lateness, 0.99),
        "max_ms": max(lateness, default=0.0),
        "renders_per_s": (window.renders - renders_before) / elapsed,
        "last_sent": f"{last_sent[0]:,.2f}",
        "last_shown": shown,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gui_lateness", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the price storm (default 10)")
    parser.add_argument("--rate", type=int, default=20_000, help="quotes per second (default 20000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dtc-panel-bench-") as tmp:
        result = run(args.seconds, args.rate, Path(tmp))
    print(f"quotes sent          {result['quotes']:,} ({result['quotes_per_s']:,.0f}/s)")
    late = f"p50 {result['p50_ms']:.2f} ms   p99 {result['p99_ms']:.2f} ms   max {result['max_ms']:.2f} ms"
    print(f"GUI timer lateness   {late}")
    print(f"renders              {result['renders_per_s']:.1f} per second")
    print(f"last price           sent {result['last_sent']}   shown {result['last_shown']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""No thread dies silently: an exception escaping the DTC thread's or the price thread's work is shown in the
window's notification feed, and the thread is started again — over a real loopback socket to the DTC simulator,
a real SQLite file, a real price CSV and the real window (offscreen). The failures are real exceptions raised
by callbacks injected at the edge (a listener of the core's updates, the price source's quote callback)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app_manager import build_app
from core.csv_prices import CsvPriceSource
from core.events import Update
from core.prices import Quote
from core.settings import Settings
from core.supervisor import ThreadSupervisor
from data.db import make_engine
from data.models import FillRecord
from dtc.sim.server import SimulatorServer
from tests.test_end_to_end import screen, wait_synced
from tests.test_panels import FROZEN, card_fields, fill


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(None, autoplay=False)
    server.start()
    yield server
    server.stop()


def _feed_says(app, *words: str) -> bool:  # type: ignore[no-untyped-def]
    return any(all(word in line for word in words) for line in app.window.feed.lines())


def test_a_failure_in_the_connection_thread_is_shown_and_fills_keep_being_stored(  # type: ignore[no-untyped-def]
    settings: Settings, simulator: SimulatorServer, qtbot
) -> None:
    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port, heartbeat_seconds=2))
    qtbot.addWidget(app.window)
    armed = threading.Event()

    def fails_once_on_the_connection_thread(_update: Update) -> None:
        if armed.is_set() and threading.current_thread().name == "dtc-client":
            armed.clear()
            raise RuntimeError("injected failure in an update listener")

    app.state.subscribe(fails_once_on_the_connection_thread)  # after the window's own listener
    app.start()
    try:
        wait_synced(app, qtbot)
        before = app.client.connections
        armed.set()
        first = simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        failure = ("RuntimeError", "injected failure in an update listener")
        qtbot.waitUntil(lambda: _feed_says(app, *failure), timeout=10_000)
        qtbot.waitUntil(lambda: app.client.connections > before, timeout=15_000)  # the thread runs again
        wait_synced(app, qtbot, timeout=15_000)
        second = simulator.fill("Sim1", "MESZ25", "BUY", 1, 6001.00)
        qtbot.waitUntil(lambda: screen(app) == "LONG 2 MESZ25 · 2 @ 6,000.50 avg entry", timeout=15_000)
    finally:
        app.stop()
    with Session(make_engine(settings.data_dir)) as session:
        stored = {f.execution_id for f in session.exec(select(FillRecord)).all()}
    assert stored == set(first) | set(second)


def test_a_failure_in_the_price_thread_is_shown_and_prices_come_back(  # type: ignore[no-untyped-def]
    settings: Settings, qtbot, tmp_path: Path
) -> None:
    csv = tmp_path / "prices.csv"
    app = build_app(replace(settings, port=1, price_csv_path=str(csv), price_csv_symbol="MESZ25"))  # never connects
    qtbot.addWidget(app.window)
    app.window.render_gap = 0.0
    app.window.position_gap = 0.0
    app.state.apply_fill(fill(1, "1", "6000.00", FROZEN, symbol="MESZ25"))
    failed: list[Quote] = []

    def fails_once(quote: Quote) -> None:
        if not failed:
            failed.append(quote)
            raise RuntimeError("injected failure in the price callback")
        app.state.on_price(quote)

    app.csv_source = CsvPriceSource(csv, fails_once, symbol="MESZ25", poll_seconds=0.05)
    app.start()
    try:
        csv.write_text("last\n6001.00\n", encoding="utf-8")
        failure = ("RuntimeError", "injected failure in the price callback")
        qtbot.waitUntil(lambda: _feed_says(app, *failure), timeout=10_000)
        csv.write_text("last\n6002.25\n", encoding="utf-8")  # the study writes its next price
        qtbot.waitUntil(lambda: card_fields(app.window, "MESZ25")["last"].startswith("6,002.25"), timeout=10_000)
        assert card_fields(app.window, "MESZ25")["open_pnl"] == "+$11.25"
    finally:
        app.stop()
    assert failed and failed[0].price == D("6001.00")


class _FailsEveryTime:
    """A worker whose thread always ends with an exception (like a price file on a share that is gone)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self.starts = 0

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def start(self) -> None:
        self.starts += 1
        self._thread = threading.Thread(target=self._run, name="always-fails", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raise OSError("the share is gone")


def test_a_thread_that_keeps_failing_is_restarted_with_growing_pauses_until_stopped() -> None:
    shown: list[str] = []
    worker = _FailsEveryTime()
    supervisor = ThreadSupervisor(first_delay=0.05, max_delay=0.2)
    supervisor.start("Price CSV reader", worker, shown.append)
    deadline = time.monotonic() + 10
    while len(shown) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    supervisor.stop()
    starts = worker.starts
    time.sleep(0.5)
    assert worker.starts == starts  # nothing restarts after stop()
    assert [text.rsplit(" ", 2)[-2] for text in shown[:5]] == ["0.05", "0.1", "0.2", "0.2", "0.2"]
    assert shown[0] == (
        "Price CSV reader stopped by an unexpected error (OSError: the share is gone); restarting in 0.05 s"
    )

"""Restart after a busy day: history (303) is asked only for what is missing, and nothing is missed.

The simulator's clock replays a scalper's afternoon (a fill every 30 s for 2.5 hours) in a few seconds. After
a restart the panel must ask Sierra Chart for fills from shortly before its newest stored fill — not from
an hour (or the whole session) back — while a fill at the very second of the newest stored one, and the
fills made while it was closed, still arrive and are stored exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlmodel import Session, func, select

from app_manager import PanelApp
from core.resync import HISTORY_MARGIN
from core.settings import Settings
from data.db import make_engine
from data.models import FillRecord
from dtc.sim.server import SimulatorServer
from tests.test_end_to_end import start_panel, wait_synced

SPACING_S = 30.0
BUSY_FILLS = 300


class Clock:
    """The simulator's wall clock, set by the test (UTC epoch seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(float(int(time.time()) - 4 * 3600))


@pytest.fixture
def simulator(clock: Clock) -> Iterator[SimulatorServer]:
    server = SimulatorServer(None, autoplay=False, clock=clock)
    server.start()
    yield server
    server.stop()


def stored_fills(settings: Settings) -> list[FillRecord]:
    with Session(make_engine(settings.data_dir)) as session:
        return list(session.exec(select(FillRecord).order_by(FillRecord.time)).all())


def count_fills(app: PanelApp) -> int:
    with Session(app.store.engine) as session:
        return session.exec(select(func.count()).select_from(FillRecord)).one()


def test_restart_asks_only_for_fills_since_shortly_before_the_newest_stored(settings, simulator, clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    base = clock.now + 0.25
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot, 20_000)
        for i in range(BUSY_FILLS):
            clock.now = base + i * SPACING_S
            simulator.fill("Sim1", "MESZ25", "BUY" if i % 2 == 0 else "SELL", 1, 6000.00 + (i % 7) * 0.25)
        qtbot.waitUntil(lambda: count_fills(app) == BUSY_FILLS, timeout=30_000)
    finally:
        app.stop()
    last_stored = stored_fills(settings)[-1].time.timestamp()
    assert last_stored == clock.now
    # a start that completes a history answer: from then on requests begin where that answer ended
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot, 20_000)
    finally:
        app.stop()

    # while the panel is closed: a fill in the very same second as the newest stored one, then two more
    clock.now += 0.5
    simulator.fill("Sim1", "MESZ25", "BUY", 1, 6001.00)
    clock.now += SPACING_S
    simulator.fill("Sim1", "MESZ25", "BUY", 1, 6001.25)
    clock.now += SPACING_S
    simulator.fill("Sim1", "MESZ25", "SELL", 1, 6001.50)
    missed = 3

    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot, 20_000)
    finally:
        app.stop()

    asked = [r for r in simulator.history_requests() if r.trade_account == "Sim1"]
    assert len(asked) == 2
    request = asked[-1]
    # whole seconds: the second of the newest stored fill is asked again (a fill in it may still be missing) …
    assert request.start_date_time <= int(last_stored)
    # … but only the margin before it, never the whole session since the account was first seen
    margin = HISTORY_MARGIN.total_seconds()
    assert request.start_date_time >= int(last_stored) - margin, (
        f"asked {int(last_stored) - request.start_date_time} s before the newest stored fill"
    )
    resent = request.fills_sent - missed
    assert resent <= margin / 30 + 2, f"{resent} already stored fills were sent again"

    fills = stored_fills(settings)
    assert len(fills) == BUSY_FILLS + missed
    assert sorted(f.execution_id for f in fills) == sorted(f["execution_id"] for f in simulator.fill_log())
    quantity, _ = simulator.positions()[("Sim1", "MESZ25")]
    assert quantity == 1
    assert [(p.symbol, p.quantity) for p in app.state.snapshot().positions] == [("MESZ25", 1)]


def test_fills_missed_before_an_unanswered_history_request_are_asked_for_at_the_next_start(
    settings, simulator, clock, qtbot
) -> None:  # type: ignore[no-untyped-def]
    clock.now = time.time()  # Sierra Chart's clock agrees with this computer's here
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot, 20_000)
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        qtbot.waitUntil(lambda: count_fills(app) == 1, timeout=10_000)
    finally:
        app.stop()
    app = start_panel(settings, simulator.port, qtbot)  # a start whose history answer is complete
    try:
        wait_synced(app, qtbot, 20_000)
    finally:
        app.stop()
    # while the panel is closed: two fills it misses
    clock.now += SPACING_S
    simulator.fill("Sim1", "MESZ25", "BUY", 1, 6001.00)
    clock.now += SPACING_S
    simulator.fill("Sim1", "MESZ25", "SELL", 1, 6002.00)
    # the next start gets no history (rejected), but a live fill an hour later is stored
    simulator.set_history_reject("try later")
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot, 20_000)
        clock.now += 3600
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6003.00)
        qtbot.waitUntil(lambda: count_fills(app) == 2, timeout=10_000)
    finally:
        app.stop()
    # the start after that is answered: the two missed fills are asked for again, although a newer one is stored
    simulator.set_history_reject(None)
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot, 20_000)
        qtbot.waitUntil(lambda: count_fills(app) == 4, timeout=10_000)
    finally:
        app.stop()
    fills = stored_fills(settings)
    assert sorted(f.execution_id for f in fills) == sorted(f["execution_id"] for f in simulator.fill_log())
    assert [(p.symbol, p.quantity) for p in app.state.snapshot().positions] == [("MESZ25", 2)]

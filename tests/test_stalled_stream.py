"""A link that delivers bytes but no messages is as dead as a silent one: staleness is measured from the last
complete DTC message (heartbeat or other), not from the last byte.

Real parts: the app (``build_app``) against the DTC simulator over loopback; the simulator stops its
heartbeats and trickles one byte every 100 ms into a frame that never ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from core.settings import Settings
from core.snapshots import ConnectionState
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from tests.test_reconnect import Running


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Scenario(name="stalled", accounts=(AccountSpec("Sim1", 50_000.0),)), autoplay=False)
    server.start()
    yield server
    server.stop()


def test_a_frame_that_never_ends_shows_stale_then_reconnects(settings: Settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot, heartbeat=1)
    stop = threading.Event()

    def trickle() -> None:
        simulator.send_raw(b'{"Type":3,"NumDroppedMessages":')
        while not stop.wait(0.1):
            simulator.send_raw(b" ")

    thread = threading.Thread(target=trickle, daemon=True)
    try:
        run.wait_synced()
        logons = len(simulator.logon_requests())
        simulator.set_heartbeats(False)
        thread.start()
        status = run.app.window.connection
        # 1.5 heartbeat intervals without a message → STALE; 2.5 → the panel drops the link and logs on again
        qtbot.waitUntil(lambda: status.text().startswith("● STALE"), timeout=3000)
        qtbot.waitUntil(lambda: len(simulator.logon_requests()) > logons, timeout=3000)
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(5)
        run.stop()


def test_a_long_pause_of_the_panel_is_not_taken_for_a_silent_server(settings: Settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Applying a large history batch on a busy computer can hold the connection thread for seconds; the
    server's heartbeats wait unread meanwhile. That is not the server falling silent: no reconnect (each one
    restarts the history catch-up, so a slow machine could reconnect for ever and never store the fills)."""
    run = Running(settings, simulator.port, qtbot, heartbeat=1)
    busy = threading.Event()

    def slow_once(_update: object) -> None:  # the publishing thread is the connection thread
        if busy.is_set():
            busy.clear()
            threading.Event().wait(3.2)  # > 2.5 heartbeat intervals of our own work

    try:
        run.wait_synced()
        logons = len(simulator.logon_requests())
        run.app.state.subscribe(slow_once)
        busy.set()
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        qtbot.waitUntil(lambda: not busy.is_set(), timeout=3000)
        qtbot.wait(3500)  # the pause, then time to read what waited
        qtbot.waitUntil(lambda: len(run.snap.positions) == 1, timeout=3000)
        assert run.states[-1] == ConnectionState.SYNCED and ConnectionState.DISCONNECTED not in run.states
        assert len(simulator.logon_requests()) == logons  # the link was kept
    finally:
        run.stop()

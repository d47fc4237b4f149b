"""Storage failures during a live session: the window says so, fills keep arriving and are held in order,
and once the database accepts writes again every fill is stored exactly once.

The read-only / disk-full condition is injected at the SQLite driver edge (a write statement raises the
error SQLite gives for a read-only database): as root on this machine, file permissions cannot make an
already-open database read-only. The app, the socket, the simulator and the database file are real."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from app_manager import build_app
from core.snapshots import ConnectionState
from data.models import FillRecord, OpenPosition
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Scenario(name="storage", accounts=(AccountSpec("Sim1", 50_000.0),)), autoplay=False)
    server.start()
    yield server
    server.stop()


class ReadOnlySwitch:
    """While ``on``, every INSERT/UPDATE/DELETE fails like a read-only database file."""

    def __init__(self) -> None:
        self.on = threading.Event()
        self.refused = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.on.is_set() and statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.refused += 1
            raise sqlite3.OperationalError("attempt to write a readonly database")


def test_read_only_database_holds_fills_and_stores_each_exactly_once(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port, heartbeat_seconds=2))
    qtbot.addWidget(app.window)
    switch = ReadOnlySwitch()
    event.listen(app.store.engine, "before_cursor_execute", switch)
    app.start()
    try:
        qtbot.waitUntil(lambda: app.window.last_snapshot.connection.state == ConnectionState.SYNCED, timeout=10_000)
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        qtbot.waitUntil(lambda: len(app.window.last_snapshot.positions) == 1, timeout=5000)
        switch.on.set()
        for price in (6001.00, 6002.00, 6003.00):
            simulator.fill("Sim1", "MESZ25", "BUY", 1, price)
        qtbot.waitUntil(lambda: app.window.last_snapshot.pending_fills == 3, timeout=5000)
        snap = app.window.last_snapshot
        assert snap.storage_error and "readonly" in snap.storage_error
        # the banner is repainted with the next coalesced render (at most ``render_gap`` later)
        qtbot.waitUntil(lambda: "3 fill(s) held" in app.window.storage.text(), timeout=1000)
        assert not app.window.storage.isHidden()
        assert snap.positions[0].quantity == 1  # nothing shown that is not stored
        switch.on.clear()
        qtbot.waitUntil(lambda: app.window.last_snapshot.pending_fills == 0, timeout=5000)
        qtbot.waitUntil(lambda: app.window.last_snapshot.positions[0].quantity == 4, timeout=5000)
        assert app.window.storage.isHidden()
    finally:
        app.stop()
    assert switch.refused >= 3
    with Session(app.store.engine) as session:
        ids = [f.execution_id for f in session.exec(select(FillRecord)).all()]
        (position,) = session.exec(select(OpenPosition)).all()
    assert sorted(ids) == sorted(f["execution_id"] for f in simulator.fill_log())
    assert len(ids) == len(set(ids)) == 4
    assert position.qty == 4 and position.entry_price == 6001.5

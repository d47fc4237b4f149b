"""The DTC password is read when the client logs on (on its thread), not before the window shows: a system
keyring's first read can take a few hundred milliseconds. Over a real socket against the simulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from app_manager import build_app
from core.snapshots import ConnectionState
from dtc.sim.server import SimulatorServer


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(None, autoplay=False)
    server.start()
    yield server
    server.stop()


def _synced(app, qtbot) -> None:  # type: ignore[no-untyped-def]
    def synced() -> None:
        snap = app.window.last_snapshot
        assert snap is not None and snap.connection.state == ConnectionState.SYNCED

    qtbot.waitUntil(synced, timeout=15_000)


def test_the_stored_password_is_sent_at_logon_read_off_the_gui_thread(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    readers: list[str] = []

    def keyring_password() -> str:
        readers.append(threading.current_thread().name)
        return "secret"

    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port, username="trader"),
                    password_source=keyring_password)  # fmt: skip
    qtbot.addWidget(app.window)
    assert readers == []  # nothing is read while the window is built
    app.start()
    try:
        _synced(app, qtbot)
        logon = simulator.logon_requests()[-1]
        assert (logon.username, logon.password_sent) == ("trader", True)
        assert readers and threading.main_thread().name not in readers
    finally:
        app.stop()


def test_a_password_typed_on_the_command_line_wins_over_the_keyring(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    asked: list[bool] = []
    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port), "from-env",
                    password_source=lambda: asked.append(True) or "")  # fmt: skip
    qtbot.addWidget(app.window)
    app.start()
    try:
        _synced(app, qtbot)
        assert simulator.logon_requests()[-1].password_sent
        assert asked == []
    finally:
        app.stop()


def test_a_broken_keyring_still_logs_on_without_a_password(settings, simulator, qtbot, caplog) -> None:  # type: ignore[no-untyped-def]
    def broken() -> str:
        raise RuntimeError("D-Bus went away")

    app = build_app(replace(settings, host="127.0.0.1", port=simulator.port), password_source=broken)
    qtbot.addWidget(app.window)
    app.start()
    try:
        _synced(app, qtbot)
        assert simulator.logon_requests()[-1].password_sent is False
        assert "cannot read the DTC password (RuntimeError)" in caplog.text
    finally:
        app.stop()

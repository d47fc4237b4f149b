"""LOGON_RESPONSE Result 4 (``ReconnectAddress``): the username and password only ever go to the host in the
trader's settings. Another port on that host is followed (once); another host is not, and the window says so.

Real parts: the app (``build_app``) against two DTC simulators on loopback addresses (127.0.0.1 and
127.0.0.2 are different hosts to the panel); what is checked is what each simulator received and what the
window shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from PySide6.QtCore import QCoreApplication

from app_manager import PanelApp, build_app
from core.settings import Settings
from core.snapshots import AppSnapshot, ConnectionState
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer

PASSWORD = "s3cret"


@contextmanager
def simulator(host: str = "127.0.0.1") -> Iterator[SimulatorServer]:
    server = SimulatorServer(Scenario(name=host, accounts=(AccountSpec("Sim1", 50_000.0),)), host=host, autoplay=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def panel(settings: Settings, port: int, qtbot) -> Iterator[PanelApp]:  # type: ignore[no-untyped-def]
    """The real app, logging on to 127.0.0.1:``port`` as "trader" with a password."""
    app = build_app(replace(settings, host="127.0.0.1", port=port, username="trader", heartbeat_seconds=1), PASSWORD)
    qtbot.addWidget(app.window)
    app.start()
    try:
        yield app
    finally:
        app.stop()
        QCoreApplication.processEvents()


def snapshot(app: PanelApp) -> AppSnapshot:
    snap = app.window.last_snapshot
    assert snap is not None
    return snap


def wait_for(qtbot, predicate: Callable[[], bool], timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    """Run the Qt loop until ``predicate()`` or the timeout; returns the predicate's last value."""
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        qtbot.wait(50)
    return predicate()


def test_reconnect_to_another_host_is_not_followed_and_the_window_says_so(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    with simulator("127.0.0.2") as elsewhere, simulator() as home:
        address = f"127.0.0.2:{elsewhere.port}"
        home.set_logon_result(4, "Moved", address)
        with panel(settings, home.port, qtbot) as app:
            wait_for(qtbot, lambda: len(home.logon_requests()) >= 2 or bool(elsewhere.logon_requests()), 10)
            assert elsewhere.logon_requests() == []  # neither username nor password went there
            assert [r.username for r in home.logon_requests()][:2] == ["trader", "trader"]  # back home, again
            feed = app.window.feed
            assert wait_for(qtbot, lambda: any(address in line for line in feed.lines()), 5)
            (line,) = [line for line in feed.lines() if address in line]
            assert f"Sierra Chart asked to reconnect to {address}" in line and "not followed" in line
            assert snapshot(app).connection.state != ConnectionState.SYNCED
        assert elsewhere.logon_requests() == []


def test_reconnect_to_another_port_on_the_same_host_is_followed_once(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    with simulator() as other_port, simulator() as home:
        home.set_logon_result(4, "Use the other port", f"127.0.0.1:{other_port.port}")
        with panel(settings, home.port, qtbot) as app:
            assert wait_for(qtbot, lambda: snapshot(app).connection.state == ConnectionState.SYNCED, 10)
            (logon,) = other_port.logon_requests()
            assert (logon.username, logon.password_sent) == ("trader", True)
            # that server goes away: the panel goes back to the address in its settings, not round and round
            home_logons = len(home.logon_requests())
            other_port.set_logon_result(2, "Closed for maintenance")
            other_port.drop_connections()
            assert wait_for(qtbot, lambda: len(home.logon_requests()) > home_logons, 10)

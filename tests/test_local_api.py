"""The local API (issue 16) end to end: the real app against the DTC simulator over loopback, the API on an
ephemeral port, a real WebSocket client and a real HTTP client (aiohttp's), compared with what the window
shows and what the database holds."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PySide6.QtCore import QCoreApplication
from sqlmodel import Session, select

from app_manager import PanelApp, build_app, build_settings, parse_args
from core.local_api import api_token
from core.settings import Settings
from core.snapshots import AppSnapshot, ConnectionState, PositionView
from data.db import make_engine
from data.models import TradeRecord
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from tests.api_client import ApiClient, raw_stream

Key = tuple[str, str, str]


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    accounts = (AccountSpec("Sim1", 50_000.0), AccountSpec("120005", 25_000.0))
    server = SimulatorServer(Scenario(name="api", accounts=accounts), autoplay=False)
    server.start()
    yield server
    server.stop()


def api_settings(settings: Settings, port: int, **changes: Any) -> Settings:
    base = dict(host="127.0.0.1", port=port, heartbeat_seconds=1, api_enabled=True, api_port=0)
    base.update(changes)
    return replace(settings, **base)


class Running:
    """The real app with its API, and one API client."""

    def __init__(self, settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
        self.app: PanelApp = build_app(settings)
        self.qtbot = qtbot
        qtbot.addWidget(self.app.window)
        self.app.start()
        assert self.app.api is not None and self.app.api.port
        self.client = ApiClient(self.app.api.port, api_token(settings.config_dir).current())

    @property
    def snap(self) -> AppSnapshot:
        snap = self.app.window.last_snapshot
        assert snap is not None
        return snap

    def wait(self, predicate, timeout: int = 10_000) -> None:  # type: ignore[no-untyped-def]
        self.qtbot.waitUntil(lambda: bool(predicate()), timeout=timeout)

    def wait_synced(self) -> None:
        self.wait(lambda: self.snap.connection.state == ConnectionState.SYNCED)

    def stop(self) -> None:
        self.app.stop()
        if self.client.streaming:  # the API tells its stream clients it is closing, then closes
            self.qtbot.waitUntil(lambda: self.client.closed is not None, timeout=5_000)
        self.client.close()
        QCoreApplication.processEvents()


# --- what the window shows, what the API says ---------------------------------------------------------------


def window_positions(snap: AppSnapshot) -> dict[Key, tuple[str, D, D, bool]]:
    """Every open position the window holds (the displayed account's cards and the other accounts' board)."""
    views: tuple[PositionView, ...] = (*snap.positions, *snap.other_open)
    return {(v.mode, v.account, v.symbol): (v.side, abs(v.quantity), v.avg_entry, v.confirmed) for v in views}


def as_shown(position: dict[str, Any]) -> tuple[str, D, D, bool]:
    return (position["side"], D(position["quantity"]), D(position["average_entry"]), position["confirmed"])


def key_of(item: dict[str, Any]) -> Key:
    return (item["mode"], item["account"], item["symbol"])


def http_positions(client: ApiClient) -> dict[Key, tuple[str, D, D, bool]]:
    status, body = client.get("/positions")
    assert status == 200
    return {key_of(p): as_shown(p) for p in body["positions"]}


def stream_positions(client: ApiClient) -> dict[Key, tuple[str, D, D, bool]]:
    """The positions a client knows after applying every event it received to its snapshot."""
    messages = client.received()
    assert messages and messages[0]["type"] == "snapshot"
    held = {key_of(p): as_shown(p) for p in messages[0]["positions"]}
    for event in client.events():
        if event["type"] in ("position_opened", "position_changed"):
            held[key_of(event["position"])] = as_shown(event["position"])
        elif event["type"] == "position_closed":
            del held[key_of(event)]
    return held


def agree(run: Running) -> bool:
    """The window, ``GET /positions`` and the stream client all hold the same positions."""
    shown = window_positions(run.snap)
    return shown == http_positions(run.client) == stream_positions(run.client)


def banner(side: str, qty: int, symbol: str) -> str:
    return f"{side} {qty} {symbol}"


def cards(run: Running) -> list[str]:
    return [" · ".join(c.split(" · ")[:1]) for c in run.app.window.panel2.card_texts()]


# --- the tests ----------------------------------------------------------------------------------------------


def test_stream_and_positions_follow_fills_flip_close_disconnect_and_reconnect(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(api_settings(settings, simulator.port), qtbot)
    try:
        run.wait_synced()
        run.client.stream()
        run.wait(lambda: run.client.received())
        snapshot = run.client.received()[0]
        assert snapshot["type"] == "snapshot" and snapshot["positions"] == []
        assert snapshot["connection"]["state"] == "synced"

        steps = [
            # (account, symbol, side, qty, price, what the window's displayed account shows)
            ("Sim1", "MESZ25", "BUY", 2, 6000.00, [banner("LONG", 2, "MESZ25")]),
            ("120005", "MNQZ25", "SELL", 1, 21000.00, [banner("SHORT", 1, "MNQZ25")]),  # LIVE: the window follows
            ("Sim1", "MESZ25", "BUY", 1, 6001.00, [banner("LONG", 3, "MESZ25")]),
            ("Sim1", "MESZ25", "SELL", 5, 6002.00, [banner("SHORT", 2, "MESZ25")]),  # a flip
            ("Sim1", "MESZ25", "BUY", 2, 6001.00, []),  # closed
        ]
        for account, symbol, side, qty, price, shown in steps:
            simulator.fill(account, symbol, side, qty, price)
            run.wait(lambda shown=shown: cards(run) == shown or (not shown and run.app.window.panel2.flat.isVisible()))
            run.wait(lambda: agree(run))
        assert window_positions(run.snap) == {("LIVE", "120005", "MNQZ25"): ("SHORT", D(1), D("21000.00"), True)}

        # the same sequence of position events reached the stream, numbered without a gap
        events = run.client.events()
        assert [e["seq"] for e in events] == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(events)))
        sim1 = [
            (e["type"], e["position"]["side"], e["position"]["quantity"], e["position"]["average_entry"])
            if "position" in e
            else (e["type"],)
            for e in events
            if e["type"].startswith("position_") and key_of(e.get("position", e)) == ("SIM", "Sim1", "MESZ25")
        ]
        assert [s[:3] for s in sim1] == [
            ("position_opened", "LONG", "2"),
            ("position_changed", "LONG", "3"),
            ("position_opened", "SHORT", "2"),
            ("position_closed",),
        ]
        assert D(sim1[1][3]) == D("6000.333333333333333333333333")
        assert D(sim1[2][3]) == D("6002")

        # every closed trade reached the stream once, as the database holds it
        run.wait(lambda: sum(e["type"] == "trade_closed" for e in run.client.events()) == 2)
        with Session(make_engine(settings.data_dir)) as session:
            stored = session.exec(select(TradeRecord).order_by(TradeRecord.id)).all()
        streamed = [e["trade"] for e in run.client.events() if e["type"] == "trade_closed"]
        assert [(t["side"], D(t["quantity"]), D(t["net_pnl"]), t["id"]) for t in streamed] == [
            (t.side, t.qty, t.realized_pnl, t.id) for t in stored
        ]
        assert [t.realized_pnl for t in stored] == [D("25.00"), D("10.00")]

        # GET /trades: the same trades; GET /today: what Panel3 shows for the displayed account
        status, body = run.client.get("/trades?since=2000-01-01T00:00:00Z")
        assert status == 200 and [t["id"] for t in body["trades"]] == [t.id for t in stored]
        assert body["trades"] == streamed  # the stream's trades (read as stored text) and /trades' (ORM) agree
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)  # Sim1 is the displayed account again
        run.wait(lambda: cards(run) == [banner("LONG", 1, "MESZ25")] and agree(run))
        status, today = run.client.get("/today")
        assert status == 200
        sim1_today = next(a for a in today["accounts"] if a["account"] == "Sim1")
        shown_today = run.snap.today
        assert (D(sim1_today["realized_pnl"]), sim1_today["trades"]) == (shown_today.realized_pnl, shown_today.trades)
        assert run.app.window.panel3.realized.text() == "+$35.00" and sim1_today["realized_pnl"] == "35.00"
        assert {a["account"] for a in today["accounts"]} == {"Sim1", "120005"}

        # a disconnect: the stream says so, the positions are unconfirmed; after the reconnect confirmed again
        before = len(run.client.events())
        connections = run.app.client.connections
        simulator.drop_connections()
        run.wait(lambda: run.app.client.connections > connections, timeout=15_000)
        run.wait_synced()
        run.wait(lambda: all(p[3] for p in window_positions(run.snap).values()) and agree(run), timeout=15_000)
        after = run.client.events()[before:]
        states = [e["connection"]["state"] for e in after if e["type"] == "connection_changed"]
        assert states[0] == "disconnected" and states[-1] == "synced", states
        live = [
            e["position"]["confirmed"]
            for e in after
            if e["type"] == "position_changed" and key_of(e["position"]) == ("LIVE", "120005", "MNQZ25")
        ]
        assert live[0] is False and live[-1] is True, live

        # the age of the last message is reported once a second while connected
        run.wait(lambda: run.client.get("/health")[1]["connection"]["last_message_age_seconds"] is not None)
        status, health = run.client.get("/health")
        assert status == 200
        assert health["connection"]["state"] == "synced"
        assert health["positions"] == {"open": 2, "confirmed": 2, "unconfirmed": 0, "unknown": 0}
        assert health["storage"] == {"database_ok": True, "error": None, "fills_held": 0}
        assert 0 <= health["connection"]["last_message_age_seconds"] < 5
        assert health["stream"]["clients"] == 1 and health["stream"]["dropped_clients"] == 0
        events = run.client.events()
        assert [e["seq"] for e in events] == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(events)))
    finally:
        run.stop()
    # the client was told that the panel closed, after every event up to then (the disconnect included)
    last = run.client.events()[-1]
    assert last["type"] == "connection_changed" and last["connection"]["state"] == "stopped"
    assert run.client.received()[-1] == {"type": "closed", "reason": "DTC Panel is closing", "seq": last["seq"]}


def test_marks_are_sent_on_a_tick_change_only(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(api_settings(settings, simulator.port), qtbot)
    try:
        run.wait_synced()
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        run.wait(lambda: window_positions(run.snap) and window_positions(run.snap) == http_positions(run.client))
        run.client.stream()
        run.wait(lambda: run.client.received())
        simulator.price("MESZ25", 6001.00)
        run.wait(
            lambda: any(
                e["type"] == "mark_updated" and e["mark"]["last_price"] == "6001.0" for e in run.client.events()
            )
        )
        marks = [e for e in run.client.events() if e["type"] == "mark_updated"]
        assert marks[-1]["mark"]["open_pnl"] == "5.00" and D(marks[-1]["mark"]["open_ticks"]) == 4
        count = len(marks)
        # a second's clock ticks re-publish the same price: no new mark for it
        run.qtbot.wait(2_500)
        assert [e for e in run.client.events() if e["type"] == "mark_updated"][count:] == []
        simulator.price("MESZ25", 6001.25)  # one tick: a mark
        run.wait(
            lambda: any(
                e["type"] == "mark_updated" and e["mark"]["last_price"] == "6001.25" for e in run.client.events()
            )
        )
    finally:
        run.stop()


def test_a_wrong_or_missing_token_gets_401(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(api_settings(settings, simulator.port), qtbot)
    try:
        for path in ("/health", "/positions", "/today", "/trades", "/stream"):
            for token in ("", "not-the-token", run.client.token[:-1]):
                status, body = run.client.get(path, token=token)
                assert status == 401 and body["error"] == "unauthorized", (path, token)
        for path in ("/health", "/positions", "/today", "/trades"):
            assert run.client.get(path)[0] == 200
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            run.client.stream(token="not-the-token")
        assert refused.value.status == 401
        # a browser's WebSocket cannot send headers: the token may come as a query parameter
        assert run.client.get(f"/health?access_token={run.client.token}", token="")[0] == 200
        assert run.client.get("/health?access_token=nope", token="")[0] == 401

        # read-only: nothing but GET exists
        async def post() -> int:
            url = run.client.base + "/positions"
            async with run.client.session.post(url, headers=run.client.headers()) as response:
                return response.status

        assert run.client._run(post()) == 405

        # regenerating the token (the settings dialog's button): the old one stops working at once
        run.client.stream()
        run.wait(lambda: run.client.received())
        old = run.client.token
        new = api_token(settings.config_dir).regenerate()
        assert new != old
        assert run.client.get("/health")[0] == 401
        assert run.client.get("/health", token=new)[0] == 200
        run.wait(lambda: run.client.received()[-1]["type"] == "closed")
        assert "regenerated" in run.client.received()[-1]["reason"]
    finally:
        run.stop()


def _listening_inodes() -> set[str]:
    """Inodes of the TCP sockets this process has in LISTEN state (Linux /proc)."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    parts = line.split()
                    if parts[3] == "0A":
                        listening.add(parts[9])
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            mine.add(target[8:-1])
    return listening & mine


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads the process's sockets from /proc (Linux)")
def test_nothing_listens_when_the_api_is_off(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    before = _listening_inodes()
    off = replace(settings, host="127.0.0.1", port=simulator.port)
    assert off.api_enabled is False
    app = build_app(off)
    qtbot.addWidget(app.window)
    app.start()
    try:
        qtbot.waitUntil(lambda: app.window.last_snapshot.connection.state == ConnectionState.SYNCED, timeout=10_000)
        assert app.api is None
        assert _listening_inodes() == before
        assert not [t for t in threading.enumerate() if t.name == "local-api"]
    finally:
        app.stop()
    # the control: the same measurement sees the API's socket when it is on
    on = build_app(api_settings(settings, simulator.port))
    qtbot.addWidget(on.window)
    on.start()
    try:
        assert on.api is not None and on.api.port
        assert len(_listening_inodes() - before) == 1
        with socket.create_connection(("127.0.0.1", on.api.port), timeout=2):
            pass
    finally:
        on.stop()
    assert _listening_inodes() == before


def test_api_port_flag_turns_it_on_and_a_taken_port_is_reported(settings, simulator, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    effective, persisted = build_settings(parse_args(["--data-dir", str(tmp_path / "d"), "--api-port", "0"]))
    assert effective.api_enabled and effective.api_port == 0 and effective.api_bind_address == "127.0.0.1"
    assert not persisted.api_enabled  # a flag never leaks into the settings file
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        app = build_app(api_settings(settings, simulator.port, api_port=taken.getsockname()[1]))
        qtbot.addWidget(app.window)
        app.start()
        try:
            qtbot.waitUntil(lambda: any("local API is off" in n.text for n in app.window.last_snapshot.notifications))
            qtbot.waitUntil(lambda: app.window.last_snapshot.connection.state == ConnectionState.SYNCED)
        finally:
            app.stop()


def test_another_address_than_this_computer_is_warned_about(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    app = build_app(api_settings(settings, simulator.port, api_bind_address="0.0.0.0"))
    qtbot.addWidget(app.window)
    app.start()
    try:
        qtbot.waitUntil(
            lambda: any(
                n.kind == "warning" and "reachable from other computers" in n.text
                for n in app.window.last_snapshot.notifications
            )
        )
    finally:
        app.stop()


SIX = ("MESZ25", "MNQZ25", "ESZ25", "NQZ25", "MYMZ25", "M2KZ25")


def test_a_client_that_falls_behind_is_told_and_disconnected_the_others_are_not(  # type: ignore[no-untyped-def]
    settings, simulator, qtbot, monkeypatch
) -> None:
    import api.hub

    monkeypatch.setattr(api.hub, "MAX_QUEUED_EVENTS", 3)  # six positions opened in one chunk overflow it
    run = Running(api_settings(settings, simulator.port), qtbot)
    try:
        run.wait_synced()
        run.client.stream()
        run.wait(lambda: run.client.received())
        simulator.burst([("Sim1", symbol, "BUY", 1, 100.0) for symbol in SIX])
        run.wait(lambda: len(window_positions(run.snap)) == 6)
        run.wait(lambda: run.client.closed is not None)
        goodbye = run.client.received()[-1]
        assert goodbye["type"] == "dropped" and "fell behind" in goodbye["reason"]
        assert run.client.closed[0] == 1013  # try again later
        # what it did receive before it was dropped is in order and ends where the goodbye says
        events = run.client.events()
        assert [e["seq"] for e in events] == list(range(run.client.received()[0]["seq"] + 1, goodbye["last_seq"] + 1))
        health = run.client.get("/health")[1]
        assert health["stream"] == {"seq": health["stream"]["seq"], "clients": 0, "dropped_clients": 1}
        # the panel went on: every position is on screen and served; a new client starts from a snapshot
        assert window_positions(run.snap) == http_positions(run.client)
        again = ApiClient(run.app.api.port, run.client.token)
        try:
            again.stream()
            run.wait(lambda: again.received())
            assert {key_of(p) for p in again.received()[0]["positions"]} == {("SIM", "Sim1", s) for s in SIX}
        finally:
            again.close()
    finally:
        run.stop()


def test_a_stuck_client_is_cut_off_without_slowing_the_panel(settings, simulator, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import api.hub
    import api.server

    monkeypatch.setattr(api.hub, "MAX_QUEUED_EVENTS", 3)
    monkeypatch.setattr(api.server, "GOODBYE_TIMEOUT_S", 0.5)
    run = Running(api_settings(settings, simulator.port), qtbot)
    stuck = None
    try:
        run.wait_synced()
        stuck = raw_stream(run.app.api.port, run.client.token)
        run.wait(lambda: run.client.get("/health")[1]["stream"]["clients"] == 1)
        run.client.stream()  # a client that reads, beside it
        run.wait(lambda: run.client.get("/health")[1]["stream"]["clients"] == 2)
        for n in range(4):  # until the stuck client's buffers are full and its queue overflows
            simulator.burst([("Sim1", symbol, "BUY" if n % 2 == 0 else "SELL", 1, 100.0 + n) for symbol in SIX])
            run.wait(lambda n=n: len(window_positions(run.snap)) == (6 if n % 2 == 0 else 0))
        run.wait(lambda: run.client.get("/health")[1]["stream"]["dropped_clients"] >= 1, timeout=10_000)
        run.wait(lambda: run.client.get("/health")[1]["stream"]["clients"] <= 1, timeout=10_000)
        # the stuck connection was closed by the server: reading it to the end finds the end
        stuck.settimeout(5.0)
        while stuck.recv(65536):
            pass
    finally:
        if stuck is not None:
            stuck.close()
        run.stop()


def test_settings_dialog_shows_the_token_regenerates_it_and_warns_about_other_addresses(settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

    from panels.main_window import MainWindow

    saved: list[Settings] = []
    window = MainWindow(on_settings_saved=lambda s, _p: saved.append(s), settings=settings)
    qtbot.addWidget(window)
    dialog = window.open_settings()
    assert dialog is not None
    token = api_token(settings.config_dir)
    field = dialog.findChild(QLineEdit, "apiToken")
    old = field.text()
    assert old == token.current() and len(old) >= 40 and field.isReadOnly()
    assert (
        not (settings.config_dir / "settings.json").exists()
        or old not in (settings.config_dir / "settings.json").read_text()
    )
    dialog.findChild(QPushButton, "apiRegenerate").click()
    assert field.text() != old and token.matches(field.text()) and not token.matches(old)
    exposure = dialog.findChild(QLabel, "apiExposure")
    assert exposure.isHidden()
    dialog.findChild(QLineEdit, "apiAddress").setText("0.0.0.0")
    assert not exposure.isHidden() and "Reachable from other computers" in exposure.text()
    dialog.api_enabled.setChecked(True)
    dialog.api_port.setValue(18080)
    dialog.accept()
    assert saved[-1].api_enabled and saved[-1].api_port == 18080 and saved[-1].api_bind_address == "0.0.0.0"
    # the token is never part of the settings
    assert field.text() not in repr(saved[-1])

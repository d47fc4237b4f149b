"""The end of a stream (issue 16): the real ``LocalApi`` server on an ephemeral port and a real aiohttp client.

Events the panel published just before it closed (or before the token was regenerated) reach the client before
its ``closed`` goodbye, whose ``seq`` is then the last event it received: a client never sees an unexplained
gap. Only a client that fell behind (``dropped``) loses what was queued for it, and is told so."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api import LocalApi
from core import events as ev
from core.local_api import ApiToken
from core.snapshots import ConnectionInfo, ConnectionState
from data.db import make_engine
from tests.api_client import ApiClient, raw_stream
from tests.app_process import wait_for

ROUNDS = 5
"""The defect was a race the shutdown lost nearly every time; a few rounds make a pass mean something."""
BURST = 5000


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    make_engine(data).dispose()  # the database exists and is migrated, as the app leaves it
    return data


def serve(data_dir: Path, config_dir: Path) -> LocalApi:
    api = LocalApi(data_dir, ApiToken(config_dir), port=0)
    assert api.start() is None
    return api


def connection(seq: int, state: ConnectionState) -> ev.Update:
    return ev.Update(seq, datetime.now(UTC), events=(ev.ConnectionChanged(ConnectionInfo(state)),))


def connected(api: LocalApi) -> ApiClient:
    """A client with its stream open and the snapshot received."""
    client = ApiClient(api.port or 0, api.token.current())
    client.stream()
    wait_for(lambda: bool(client.received()), timeout=10, what="the snapshot")
    return client


def states(client: ApiClient) -> list[tuple[int, str]]:
    return [(e["seq"], e["connection"]["state"]) for e in client.events() if e["type"] == "connection_changed"]


def assert_no_gap_up_to_goodbye(client: ApiClient, goodbye: dict[str, Any]) -> None:
    """Every event from the snapshot's ``seq`` + 1 to the goodbye's ``seq`` arrived, in order."""
    snapshot = client.received()[0]
    seqs = [e["seq"] for e in client.events()]
    assert seqs == list(range(snapshot["seq"] + 1, goodbye["seq"] + 1)), (seqs, goodbye)


def test_events_published_just_before_closing_reach_the_client_before_closed(data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for round_ in range(ROUNDS):
        api = serve(data_dir, tmp_path / f"config{round_}")
        client = connected(api)
        try:
            api.publish(connection(1, ConnectionState.SYNCED))
            wait_for(lambda client=client: states(client) == [(1, "synced")], timeout=10, what="the first event")
            # what PanelApp.stop does: the last publication (the link stopped), then the API's stop at once
            api.publish(connection(2, ConnectionState.DISCONNECTED))
            api.publish(connection(3, ConnectionState.STOPPED))
            api.stop()
            assert api._thread is not None and not api._thread.is_alive()  # the stop still ended the server
            wait_for(lambda client=client: client.closed is not None, timeout=10, what="the close")
            goodbye = client.received()[-1]
            assert goodbye == {"type": "closed", "reason": "DTC Panel is closing", "seq": 3}, (round_, goodbye)
            assert states(client) == [(1, "synced"), (2, "disconnected"), (3, "stopped")], round_
            assert_no_gap_up_to_goodbye(client, goodbye)
            assert client.closed[0] == 1001  # going away
        finally:
            client.close()


def test_events_published_just_before_a_regenerate_reach_the_client_before_closed(data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    api = serve(data_dir, tmp_path / "config")
    try:
        for round_ in range(ROUNDS):
            client = connected(api)
            try:
                first = api.hub.seq + 1
                # one publication of many changes: the API loop is still applying it when the token changes
                flapping = (ConnectionState.STALE, ConnectionState.SYNCED) * (BURST // 2)
                changes = tuple(ev.ConnectionChanged(ConnectionInfo(state)) for state in flapping)
                api.publish(ev.Update(round_ + 1, datetime.now(UTC), events=changes))
                client.token = api.token.regenerate()  # the settings dialog's button, on another thread
                wait_for(lambda client=client: client.closed is not None, timeout=10, what="the close")
                goodbye = client.received()[-1]
                assert goodbye["type"] == "closed" and "regenerated" in goodbye["reason"], goodbye
                assert goodbye["seq"] >= first + BURST - 1  # every event published before it, at least
                assert_no_gap_up_to_goodbye(client, goodbye)
                # the server goes on with the new token
                assert client.get("/health")[0] == 200
            finally:
                client.close()
    finally:
        api.stop()


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection mid-frame")
        data += chunk
    return data


def _read_stream(sock: socket.socket) -> list[dict[str, Any]]:
    """Every JSON text frame the server sends on a raw WebSocket (``raw_stream``) until its close frame."""
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        header += _read_exactly(sock, 1)
    assert header.startswith(b"HTTP/1.1 101"), header
    messages = []
    while True:
        first, second = _read_exactly(sock, 2)
        length = second & 0x7F  # a server's frames are not masked
        if length == 126:
            length = int.from_bytes(_read_exactly(sock, 2), "big")
        elif length == 127:
            length = int.from_bytes(_read_exactly(sock, 8), "big")
        payload = _read_exactly(sock, length)
        opcode = first & 0x0F
        if opcode == 0x8:  # close: answer it (a client's frame is masked; a zero mask leaves it as is)
            sock.sendall(b"\x88\x80\x00\x00\x00\x00")
            return messages
        if opcode == 0x1:
            messages.append(json.loads(payload))


def test_events_waiting_for_a_slow_reader_reach_it_before_the_regenerate_goodbye(  # type: ignore[no-untyped-def]
    data_dir, tmp_path, monkeypatch
) -> None:
    """A client that reads slowly still has events queued when the token is regenerated: it gets them, then
    ``closed``, whose ``seq`` is the last of them."""
    import api.server

    monkeypatch.setattr(api.server, "GOODBYE_TIMEOUT_S", 30.0)  # this test's reader is slow by design
    api_ = serve(data_dir, tmp_path / "config")
    slow = raw_stream(api_.port or 0, api_.token.current())
    try:
        wait_for(lambda: len(api_.hub.clients) == 1, timeout=10, what="the client")
        wide = (ConnectionState.STALE, ConnectionState.SYNCED) * 500
        changes = tuple(ev.ConnectionChanged(ConnectionInfo(state, detail="x" * 2000)) for state in wide)
        api_.publish(ev.Update(1, datetime.now(UTC), events=changes))  # ~2 MB: more than the socket buffers hold
        time.sleep(0.3)
        api_.publish(ev.Update(2, datetime.now(UTC), events=changes[:500]))  # the server waits to send these
        time.sleep(0.3)
        api_.publish(ev.Update(3, datetime.now(UTC), events=changes[:500]))  # and these wait in the queue
        api_.token.regenerate()
        slow.settimeout(20.0)
        messages = _read_stream(slow)
        goodbye = messages[-1]
        assert goodbye["type"] == "closed" and "regenerated" in goodbye["reason"], goodbye
        events = [e for m in messages if m["type"] == "events" for e in m["events"]]
        assert [e["seq"] for e in events] == list(range(messages[0]["seq"] + 1, goodbye["seq"] + 1))
        assert goodbye["seq"] == 2000
    finally:
        slow.close()
        api_.stop()


def test_a_stuck_client_with_events_waiting_does_not_hold_the_close(data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Delivering what is queued before ``closed`` is bounded: a client that reads nothing is cut off, and the
    server still ends (``stop`` joins its thread) while a reading client beside it gets everything."""
    api = serve(data_dir, tmp_path / "config")
    stuck = raw_stream(api.port or 0, api.token.current())
    client = connected(api)
    try:
        wait_for(lambda: len(api.hub.clients) == 2, timeout=10, what="both clients")
        seq = 0
        for _ in range(400):  # far more than the stuck client's socket buffers hold
            for state in (ConnectionState.SYNCED, ConnectionState.STALE):
                seq += 1
                api.publish(connection(seq, state))
        wait_for(lambda: len(client.events()) == seq, timeout=10, what="the reading client's events")
        api.publish(connection(seq + 1, ConnectionState.STOPPED))
        api.stop()
        assert api._thread is not None and not api._thread.is_alive()
        wait_for(lambda: client.closed is not None, timeout=10, what="the close")
        assert client.received()[-1]["seq"] == seq + 1 == client.events()[-1]["seq"]
        stuck.settimeout(5.0)
        with contextlib.suppress(ConnectionResetError):  # cut off; a timeout here would fail the test
            while stuck.recv(65536):
                pass
    finally:
        stuck.close()
        client.close()

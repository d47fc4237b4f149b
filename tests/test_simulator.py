"""End-to-end tests of the DTC simulator over real loopback sockets, with raw bytes (no Qt, no mocks)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dtc import messages as m
from dtc.framing import FrameDecoder, encoding_request
from dtc.sim.scenario import Scenario
from dtc.sim.server import SimulatorServer

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "resources" / "scenarios"
FIXTURES = ROOT.parent / "shared" / "fixtures" / "sierra_observed.jsonl"
TIMEOUT = 3.0
JSON_ENCODING_RESPONSE = bytes.fromhex("10 00 07 00 08 00 00 00 02 00 00 00 44 54 43 00")


class RawClient:
    """A blocking DTC JSON client on a plain socket; keeps the raw frames next to the decoded messages."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.decoder = FrameDecoder()
        self.frames: deque[bytes] = deque()
        self.raw: list[bytes] = []

    def send(self, msg: m.DTCMessage | bytes) -> None:
        self.sock.sendall(msg if isinstance(msg, bytes) else m.encode_message(msg))

    def recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            assert chunk, "server closed the connection"
            data += chunk
        return data

    def recv(self, timeout: float = TIMEOUT) -> m.DTCMessage | m.UnknownMessage:
        deadline = time.monotonic() + timeout
        while not self.frames:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no DTC message from the simulator")
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            assert data, "server closed the connection"
            self.frames.extend(self.decoder.feed(data))
        frame = self.frames.popleft()
        self.raw.append(frame)
        return m.decode_message(frame)

    def recv_n(self, n: int, skip_heartbeats: bool = True) -> list[Any]:
        out: list[Any] = []
        while len(out) < n:
            msg = self.recv()
            if not (skip_heartbeats and isinstance(msg, m.Heartbeat)):
                out.append(msg)
        return out

    def recv_until(self, done: Callable[[Any], bool]) -> list[Any]:
        out: list[Any] = []
        while not out or not done(out[-1]):
            msg = self.recv()
            if not isinstance(msg, m.Heartbeat):
                out.append(msg)
        return out

    def assert_silent(self, seconds: float = 0.2) -> None:
        with pytest.raises(TimeoutError):
            self.recv(seconds)

    def logon(self, heartbeat: int = 30) -> m.LogonResponse:
        self.send(m.LogonRequest(HeartbeatIntervalInSeconds=heartbeat, ClientName="pytest"))
        resp = self.recv()
        assert isinstance(resp, m.LogonResponse)
        return resp

    def wait_closed(self, timeout: float = TIMEOUT) -> bool:
        """True once the server closes the connection (EOF); frames received first are kept."""
        self.sock.settimeout(timeout)
        while True:
            data = self.sock.recv(65536)
            if not data:
                return True
            self.frames.extend(self.decoder.feed(data))

    def close(self) -> None:
        self.sock.close()


def _fixture(type_: int) -> dict[str, Any]:
    lines = [json.loads(x) for x in FIXTURES.read_text().splitlines() if x.strip()]
    return next(x for x in lines if x.get("Type") == type_ and not x.get("NoPositions"))


def _sim_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "dtc-simulator"]


class Harness:
    """Starts servers and clients for one test and closes them all afterwards."""

    def __init__(self) -> None:
        self.servers: list[SimulatorServer] = []
        self.clients: list[RawClient] = []

    def server(self, scenario: Scenario | None = None, **kwargs: Any) -> SimulatorServer:
        server = SimulatorServer(scenario, **kwargs)
        server.start()
        self.servers.append(server)
        return server

    def client(self, server: SimulatorServer, logon: bool = True) -> RawClient:
        client = RawClient(server.port)
        self.clients.append(client)
        if logon:
            client.logon()
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for server in self.servers:
            server.stop()


def harness_session() -> Iterator[Harness]:
    """Body of the ``sim`` fixture (shared by the test_simulator* modules): close everything afterwards and
    check that no simulator thread is left behind."""
    harness = Harness()
    yield harness
    harness.close()
    assert not _sim_threads()


@pytest.fixture
def sim() -> Iterator[Harness]:
    yield from harness_session()


@pytest.fixture
def accounts_scenario() -> Scenario:
    return Scenario.from_dict(
        {
            "name": "two accounts",
            "steps": [],
            "accounts": [
                {"TradeAccount": "Sim1", "CashBalance": 50000.0, "AccountCurrency": "USD"},
                {"TradeAccount": "120005", "CashBalance": 21.66, "AccountCurrency": "USD"},
            ],
        }
    )


# --- connection --------------------------------------------------------------------------------


def test_logon_after_binary_encoding_handshake(sim: Harness) -> None:
    server = sim.server()
    client = sim.client(server, logon=False)
    request = encoding_request()
    client.send(request[:3])  # the server must wait for the rest before deciding binary vs JSON
    time.sleep(0.05)
    client.send(request[3:] + m.encode_message(m.LogonRequest(HeartbeatIntervalInSeconds=30)))
    assert client.recv_exact(16) == JSON_ENCODING_RESPONSE
    resp = client.recv()
    assert isinstance(resp, m.LogonResponse)
    assert (resp.Result, resp.ResultText, resp.ServerName) == (1, "Logon successful", "DTC Panel simulator")
    assert resp.TradingIsSupported == 1 and resp.ProtocolVersion == 8
    assert server.wait_for_logons(1) and server.logged_on_clients == 1


def test_logon_plain_json_and_requests_before_logon_ignored(sim: Harness, accounts_scenario: Scenario) -> None:
    server = sim.server(accounts_scenario)
    client = sim.client(server, logon=False)
    client.send(m.TradeAccountsRequest(RequestID=9))
    client.assert_silent()
    assert client.logon().Result == 1
    assert client.raw[-1].startswith(b'{"Type":2,')
    client.assert_silent()  # the 400 sent before logon was dropped, not queued


def test_heartbeats_at_requested_interval_and_logoff_closes(sim: Harness) -> None:
    server = sim.server()
    client = sim.client(server, logon=False)
    client.logon(heartbeat=1)
    beat = client.recv(2.5)
    assert isinstance(beat, m.Heartbeat) and abs(beat.CurrentDateTime - time.time()) < 5
    assert b'"F"' not in client.raw[-1]
    client.send(m.Heartbeat(CurrentDateTime=int(time.time())))
    client.send(m.Logoff(Reason="bye"))
    assert client.wait_closed()
    deadline = time.monotonic() + TIMEOUT
    while server.logged_on_clients and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.logged_on_clients == 0


# --- reconciliation requests -------------------------------------------------------------------


def test_trade_accounts_batch(sim: Harness, accounts_scenario: Scenario) -> None:
    client = sim.client(sim.server(accounts_scenario))
    client.send(m.TradeAccountsRequest(RequestID=100))
    msgs = client.recv_n(2)
    assert [
        (x.TradeAccount, x.RequestID, x.TotalNumberMessages, x.MessageNumber, x.TradingIsDisabled) for x in msgs
    ] == [("Sim1", 100, 2, 1, 0), ("120005", 100, 2, 2, 0)]
    assert set(json.loads(client.raw[-1])) == set(_fixture(401))


def test_account_balances(sim: Harness, accounts_scenario: Scenario) -> None:
    client = sim.client(sim.server(accounts_scenario))
    client.send(m.AccountBalanceRequest(RequestID=104))
    both = client.recv_n(2)
    assert [(x.TradeAccount, x.CashBalance, x.MessageNumber, x.TotalNumberMessages) for x in both] == [
        ("Sim1", 50000.0, 1, 2),
        ("120005", 21.66, 2, 2),
    ]
    wire = json.loads(client.raw[-1])
    assert set(wire) == set(_fixture(600)) and None not in wire.values()
    assert wire["BalanceAvailableForNewPositions"] == wire["SecuritiesValue"] == 21.66
    client.send(m.AccountBalanceRequest(RequestID=105, TradeAccount="120005"))
    (one,) = client.recv_n(1)
    assert (one.TradeAccount, one.RequestID, one.Unsolicited) == ("120005", 105, 0)
    client.send(m.AccountBalanceRequest(RequestID=106, TradeAccount="nope"))
    (reject,) = client.recv_n(1)
    assert isinstance(reject, m.AccountBalanceReject) and reject.RequestID == 106 and "nope" in reject.RejectText


def test_positions_when_flat_gives_no_positions(sim: Harness, accounts_scenario: Scenario) -> None:
    client = sim.client(sim.server(accounts_scenario))
    client.send(m.CurrentPositionsRequest(RequestID=7, TradeAccount="Sim1"))
    (msg,) = client.recv_n(1)
    assert isinstance(msg, m.PositionUpdate)
    assert (msg.NoPositions, msg.Symbol, msg.TradeAccount, msg.RequestID) == (1, "", "Sim1", 7)
    assert (msg.TotalNumberMessages, msg.MessageNumber) == (1, 1)
    client.assert_silent()


def test_positions_batch_lists_flat_symbols_and_shorts(sim: Harness, accounts_scenario: Scenario) -> None:
    server = sim.server(accounts_scenario)
    server.fill("Sim1", "F.US.MESZ25", "BUY", 1, 6850.25)
    server.fill("Sim1", "F.US.MESZ25", "SELL", 1, 6851.0)
    server.fill("Sim1", "F.US.MNQZ25", "SELL", 2, 25410.5, partials=[(1, 25410.5), (1, 25410.0)])
    server.fill("120005", "F.US.MESZ25", "BUY", 1, 6849.0)
    client = sim.client(server)
    client.send(m.CurrentPositionsRequest(RequestID=102))
    msgs = client.recv_n(3)
    assert [(x.TradeAccount, x.Symbol, x.Quantity, x.AveragePrice, x.MessageNumber) for x in msgs] == [
        ("Sim1", "F.US.MESZ25", 0.0, 0.0, 1),
        ("Sim1", "F.US.MNQZ25", -2.0, 25410.25, 2),
        ("120005", "F.US.MESZ25", 1.0, 6849.0, 3),
    ]
    assert all(x.RequestID == 102 and x.TotalNumberMessages == 3 and x.Unsolicited == 0 for x in msgs)
    assert msgs[0].EntryDateTime == 0 and abs(msgs[1].EntryDateTime - time.time()) < 5
    assert set(json.loads(client.raw[-1])) == set(_fixture(306))
    client.send(m.CurrentPositionsRequest(RequestID=103, TradeAccount="120005"))
    (only,) = client.recv_n(1)
    assert (only.TradeAccount, only.Quantity, only.TotalNumberMessages) == ("120005", 1.0, 1)


def test_open_orders_none(sim: Harness) -> None:
    client = sim.client(sim.server())
    client.send(m.OpenOrdersRequest(RequestID=4))
    (msg,) = client.recv_n(1)
    assert isinstance(msg, m.OrderUpdate)
    assert (msg.RequestID, msg.OrderUpdateReason, msg.NoOrders, msg.TotalNumMessages, msg.MessageNumber) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert b'"TotalNumMessages":1' in client.raw[-1]


def test_historical_fills_rejected_without_account_or_period(sim: Harness) -> None:
    client = sim.client(sim.server())
    client.send(m.HistoricalOrderFillsRequest(RequestID=103, NumberOfDays=1))
    client.send(m.HistoricalOrderFillsRequest(RequestID=104, TradeAccount="Sim1"))
    first, second = client.recv_n(2)
    assert isinstance(first, m.HistoricalOrderFillsReject)
    assert (first.RequestID, first.RejectText) == (103, "TradeAccount is not set")
    assert isinstance(second, m.HistoricalOrderFillsReject) and second.RequestID == 104


def test_historical_fills_match_live_order_updates(sim: Harness, accounts_scenario: Scenario) -> None:
    server = sim.server(accounts_scenario)
    client, other = sim.client(server), sim.client(server)
    ids = server.fill("Sim1", "MESZ25-CME", "SELL", 3, 6850.0, partials=[(1, 6850.0), (2, 6849.75)])
    ids += server.fill("Sim1", "MESZ25-CME", "BUY", 1, 6848.5)
    server.fill("120005", "MESZ25-CME", "BUY", 1, 6848.5)
    live = [x for x in client.recv_n(6) if isinstance(x, m.OrderUpdate)]
    assert [x.LastFillExecutionID for x in live] == ids and len(set(ids)) == 3
    assert [x.LastFillExecutionID for x in other.recv_n(8) if isinstance(x, m.OrderUpdate)][:3] == ids
    assert all(abs(x.LastFillDateTime / 1000 - time.time()) < 5 for x in live)  # epoch milliseconds
    client.recv_n(2)  # 120005's 301 + 306
    client.send(m.HistoricalOrderFillsRequest(RequestID=5, TradeAccount="Sim1", NumberOfDays=1))
    fills = client.recv_n(3)
    assert [x.UniqueExecutionID for x in fills] == ids
    assert [(x.BuySell, x.Quantity, x.Price, x.PositionQuantity) for x in fills] == [
        (2, 1.0, 6850.0, -1.0),
        (2, 2.0, 6849.75, -3.0),
        (1, 1.0, 6848.5, -2.0),
    ]
    assert fills[0].ServerOrderID == fills[1].ServerOrderID != fills[2].ServerOrderID
    assert all(
        x.TotalNumberMessages == 3
        and x.TradeAccount == "Sim1"
        and isinstance(x.DateTime, int)
        and abs(x.DateTime - time.time()) < 5
        for x in fills
    )
    start_us = int((time.time() - 60) * 1_000_000)  # Sierra also accepts microseconds
    client.send(m.HistoricalOrderFillsRequest(RequestID=6, TradeAccount="Sim1", StartDateTime=start_us))
    assert [x.UniqueExecutionID for x in client.recv_n(3)] == ids
    client.send(m.HistoricalOrderFillsRequest(RequestID=7, TradeAccount="Sim1", StartDateTime=int(time.time()) + 60))
    (none,) = client.recv_n(1)
    assert (none.NoOrderFills, none.RequestID, none.TotalNumberMessages) == (1, 7, 1)


# --- robustness and shutdown -------------------------------------------------------------------


def test_malformed_frames_and_abrupt_disconnects_do_not_stop_the_server(
    sim: Harness, accounts_scenario: Scenario
) -> None:
    server = sim.server(accounts_scenario)
    rude = sim.client(server)
    rude.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    rude.send(b'{"Type":400,"Requ')  # half a frame, then a reset
    rude.close()
    client = sim.client(server)
    for junk in (
        b"not json",
        b'{"Type":"x"}',
        b'{"Type":400,"RequestID":"abc"}',
        b"[1,2]",
        b"\xff\xfe",
        b'{"Type":99999}',
        b'{"Type":104,"SymbolID":1}',
        b"{" + b" " * (2 << 20),
    ):
        client.send(junk + b"\x00")
    client.send(m.TradeAccountsRequest(RequestID=1))
    assert [x.TradeAccount for x in client.recv_n(2)] == ["Sim1", "120005"]
    assert server.wait_for_logons(1) and server.logged_on_clients == 1
    assert sim.client(server, logon=False).logon().Result == 1


def test_send_raw_reaches_logged_on_clients_in_order_with_fills(sim: Harness) -> None:
    server = sim.server()
    watcher, stranger = sim.client(server), sim.client(server, logon=False)
    assert server.send_raw(b'{"Type":301,"Symbol":\x00') == 1  # the client that has not logged on gets nothing
    server.fill("Sim1", "MESZ25", "BUY", 1, 6000.0)
    with pytest.raises(m.DecodeError):
        watcher.recv()
    assert watcher.raw[-1] == b'{"Type":301,"Symbol":'
    assert [type(x) for x in watcher.recv_n(2)] == [m.OrderUpdate, m.PositionUpdate]
    stranger.assert_silent()


def test_stop_closes_everything(accounts_scenario: Scenario) -> None:
    threads_before = threading.active_count()
    server = SimulatorServer(accounts_scenario)
    server.start()
    client = RawClient(server.port)
    try:
        client.logon()
        server.stop()
        assert client.wait_closed()
        assert isinstance(client.recv(), m.Logoff)
        assert not _sim_threads() and threading.active_count() == threads_before
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT).close()
        server.stop()  # idempotent
        assert server.fill("Sim1", "MESZ25", "BUY", 1, 6000.0)  # still usable as a ledger, no broadcast
    finally:
        client.close()

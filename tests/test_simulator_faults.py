"""Fault injection of the DTC simulator over real loopback sockets: drops, silence, heartbeats, logon results,
logoff, rejects, outside position changes, duplicate fills, and the declarative fault steps."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from dtc import messages as m
from dtc.sim.scenario import Scenario, load_scenario
from dtc.sim.server import SimulatorServer
from tests.test_simulator import SCENARIOS, TIMEOUT, Harness, RawClient, harness_session
from tests.test_simulator_persist import wait_until


@pytest.fixture
def sim() -> Iterator[Harness]:
    yield from harness_session()


def read_to_eof(client: RawClient) -> bytes:
    """Read until the server closes; complete frames go to ``client.frames``, the unterminated tail is returned."""
    assert client.decoder.pending_bytes == 0
    data = b""
    client.sock.settimeout(TIMEOUT)
    while chunk := client.sock.recv(65536):
        data += chunk
    *frames, tail = data.split(b"\x00")
    client.frames.extend(f for f in frames if f)
    return tail


def wait_logged_on(server: SimulatorServer, count: int) -> bool:
    return wait_until(lambda: server.logged_on_clients == count)


def test_drop_mid_frame_leaves_half_a_fill_frame_and_no_logoff(sim: Harness) -> None:
    server = sim.server()
    first, second = sim.client(server), sim.client(server)
    server.fill("Sim1", "MESZ25", "BUY", 1, 6000.0)
    assert [type(x) for x in first.recv_n(2)] == [m.OrderUpdate, m.PositionUpdate]
    second.recv_n(2)
    assert server.drop_connections(mid_frame=True) == 2
    for client in (first, second):
        tail = read_to_eof(client)
        full = client.raw[1]  # the 301 of that fill, as sent before (raw[0] is the LOGON_RESPONSE)
        assert tail and full.startswith(tail) and len(tail) < len(full)
        assert not client.frames  # no LOGOFF, nothing else
    assert wait_logged_on(server, 0) and server.connected_clients == 0
    assert sim.client(server, logon=False).logon().Result == 1  # the server still accepts connections


def test_plain_drop_closes_without_a_byte(sim: Harness) -> None:
    server = sim.server()
    client, stranger = sim.client(server), sim.client(server, logon=False)
    assert wait_until(lambda: server.connected_clients == 2)
    assert server.drop_connections() == 2  # logged on or not
    for c in (client, stranger):
        assert read_to_eof(c) == b"" and not c.frames


def test_heartbeats_stop_and_resume_while_everything_else_flows(sim: Harness) -> None:
    server = sim.server()
    client = sim.client(server, logon=False)
    client.logon(heartbeat=1)
    server.set_heartbeats(False)
    server.fill("Sim1", "MESZ25", "BUY", 1, 6000.0)
    assert [type(x) for x in client.recv_n(2, skip_heartbeats=False)] == [m.OrderUpdate, m.PositionUpdate]
    client.assert_silent(1.3)  # a 1 s heartbeat would have come
    server.set_heartbeats(True)
    assert isinstance(client.recv(1.6), m.Heartbeat)


def test_silence_sends_nothing_and_queues_nothing_but_fills_are_kept(sim: Harness) -> None:
    server = sim.server()
    client = sim.client(server, logon=False)
    client.logon(heartbeat=1)
    server.set_silent(True)
    ids = server.fill("Sim1", "MESZ25", "SELL", 2, 6000.0)
    client.send(m.TradeAccountsRequest(RequestID=1))
    assert server.send_raw(b'{"Type":3}\x00') == 0
    client.assert_silent(1.3)  # no heartbeat, no 301/306, no 401
    assert server.logged_on_clients == 1  # the connection stays open
    server.set_silent(False)
    client.send(m.HistoricalOrderFillsRequest(RequestID=2, TradeAccount="Sim1", NumberOfDays=1))
    (fill,) = client.recv_n(1)  # nothing produced during the silence arrives late
    assert isinstance(fill, m.HistoricalOrderFillResponse) and fill.UniqueExecutionID == ids[0]


@pytest.mark.parametrize(("result", "address"), [(2, ""), (3, ""), (4, "127.0.0.1:11199")])
def test_logon_result_is_sent_then_the_connection_closes(sim: Harness, result: int, address: str) -> None:
    server = sim.server()
    server.set_logon_result(result, "no logons today", address)
    client = sim.client(server, logon=False)
    client.send(m.LogonRequest(HeartbeatIntervalInSeconds=1))
    read_to_eof(client)
    (resp,) = [m.decode_message(f) for f in client.frames]
    assert isinstance(resp, m.LogonResponse)
    assert (resp.Result, resp.ResultText, resp.ReconnectAddress) == (result, "no logons today", address)
    assert server.logged_on_clients == 0
    server.set_logon_result(1)
    assert sim.client(server, logon=False).logon().Result == 1
    with pytest.raises(ValueError, match="result"):
        server.set_logon_result(5)


def test_logoff_clients_sends_reason_and_do_not_reconnect(sim: Harness) -> None:
    server = sim.server()
    clients = [sim.client(server), sim.client(server)]
    assert server.logoff_clients("Server maintenance", do_not_reconnect=True) == 2
    for client in clients:
        assert read_to_eof(client) == b""
        (bye,) = [m.decode_message(f) for f in client.frames]
        assert isinstance(bye, m.Logoff) and (bye.Reason, bye.DoNotReconnect) == ("Server maintenance", 1)
    assert wait_logged_on(server, 0)


def test_positions_reject_while_set(sim: Harness) -> None:
    server = sim.server()
    client = sim.client(server)
    server.set_positions_reject("Positions are not available")
    client.send(m.CurrentPositionsRequest(RequestID=11))
    (reject,) = client.recv_n(1)
    assert isinstance(reject, m.CurrentPositionsReject)
    assert (reject.RequestID, reject.RejectText) == (11, "Positions are not available")
    server.set_positions_reject(None)
    client.send(m.CurrentPositionsRequest(RequestID=12))
    (flat,) = client.recv_n(1)
    assert isinstance(flat, m.PositionUpdate) and flat.NoPositions == 1


def test_outside_position_change_without_a_fill(sim: Harness) -> None:
    server = sim.server()
    client = sim.client(server)
    server.fill("Sim1", "MESZ25", "BUY", 1, 6000.0)
    client.recv_n(2)
    server.set_position("Sim1", "MESZ25", 3, 6001.5)
    (pos,) = client.recv_n(1)
    assert isinstance(pos, m.PositionUpdate)
    assert (pos.Quantity, pos.AveragePrice, pos.RequestID, pos.Unsolicited) == (3.0, 6001.5, 0, 1)
    server.set_position("Sim1", "MNQZ25", -2, 25000.0, notify=False)
    client.assert_silent()
    assert len(server.fill_log()) == 1
    assert server.positions() == {("Sim1", "MESZ25"): (3.0, 6001.5), ("Sim1", "MNQZ25"): (-2.0, 25000.0)}
    client.send(m.CurrentPositionsRequest(RequestID=5))
    assert [(x.Symbol, x.Quantity) for x in client.recv_n(2)] == [("MESZ25", 3.0), ("MNQZ25", -2.0)]
    with pytest.raises(ValueError, match="average_price"):
        server.set_position("Sim1", "MESZ25", 1, 0.0)


def test_resend_fill_repeats_the_identical_frame(sim: Harness) -> None:
    server = sim.server()
    client = sim.client(server)
    first, second = server.fill("Sim1", "MESZ25", "BUY", 2, 6000.0, partials=[(1, 6000.0), (1, 6000.25)])
    client.recv_n(4)
    original = client.raw[1]  # the 301 of the first piece (raw[0] is the LOGON_RESPONSE)
    assert json.loads(original)["LastFillExecutionID"] == first
    time.sleep(0.01)
    assert server.resend_fill(first)
    (again,) = client.recv_n(1)
    assert isinstance(again, m.OrderUpdate) and client.raw[-1] == original
    assert not server.resend_fill("SIM-999")
    client.assert_silent()
    assert [f["execution_id"] for f in server.fill_log()] == [first, second]  # a resend is not a new fill


def test_fill_while_nobody_is_logged_on_arrives_through_303(sim: Harness) -> None:
    server = sim.server()
    gone = sim.client(server)
    gone.sock.close()
    assert wait_logged_on(server, 0)
    (exec_id,) = server.fill("Sim1", "MESZ25", "SELL", 1, 6000.0)
    client = sim.client(server)
    client.assert_silent()  # no live replay of what happened while disconnected
    client.send(m.HistoricalOrderFillsRequest(RequestID=3, TradeAccount="Sim1", NumberOfDays=1))
    (fill,) = client.recv_n(1)
    assert (fill.UniqueExecutionID, fill.PositionQuantity) == (exec_id, -1.0)


def test_fault_steps_play_declaratively(sim: Harness) -> None:
    fill = {"account": "Sim1", "symbol": "MESZ25", "side": "BUY", "quantity": 1, "price": 6000.0}
    scenario = Scenario.from_dict(
        {
            "accounts": [{"TradeAccount": "Sim1"}],
            "steps": [
                {"wait": 0.0, "fill": fill},
                {"wait": 0.1, "duplicate_fill": {}},
                {
                    "wait": 0.1,
                    "set_position": {"account": "Sim1", "symbol": "MESZ25", "quantity": 4, "average_price": 6001},
                },
                {"wait": 0.1, "positions_reject": {"text": "busy"}},
                {"wait": 0.1, "heartbeats": {"enabled": False}},
                {"wait": 0.1, "logon_result": {"result": 3, "text": "closed"}},
                {"wait": 0.1, "drop": {"mid_frame": True}},
            ],
        }
    )
    server = sim.server(scenario, autoplay=False)
    client = sim.client(server)
    server.play()
    msgs = client.recv_n(4)
    assert [type(x) for x in msgs] == [m.OrderUpdate, m.PositionUpdate, m.OrderUpdate, m.PositionUpdate]
    assert client.raw[1] == client.raw[3]  # the duplicate is byte-identical
    assert msgs[3].Quantity == 4.0
    assert server.wait_until_idle(TIMEOUT)
    tail = read_to_eof(client)
    assert client.raw[1].startswith(tail) and 0 < len(tail) < len(client.raw[1])
    late = sim.client(server, logon=False)
    assert late.logon().Result == 3  # logon_result step; the server then closes
    assert late.wait_closed()


def test_silence_and_logoff_steps(sim: Harness) -> None:
    scenario = Scenario.from_dict(
        {
            "accounts": [{"TradeAccount": "Sim1"}],
            "steps": [
                {"wait": 0.05, "silence": {"seconds": 0.5}},
                {
                    "wait": 0.05,
                    "fill": {"account": "Sim1", "symbol": "MESZ25", "side": "SELL", "quantity": 1, "price": 6000},
                },
                {"wait": 0.7, "logoff": {"reason": "bye", "do_not_reconnect": True}},
            ],
        }
    )
    server = sim.server(scenario, autoplay=False)
    client = sim.client(server)
    started = time.monotonic()
    server.play()
    read_to_eof(client)
    assert time.monotonic() - started > 0.7
    (bye,) = [m.decode_message(f) for f in client.frames]  # the fill happened during the silence
    assert isinstance(bye, m.Logoff) and (bye.Reason, bye.DoNotReconnect) == ("bye", 1)
    assert len(server.fill_log()) == 1


def test_reconnect_faults_scenario_is_valid_and_uses_every_fault(sim: Harness) -> None:
    scenario = load_scenario(SCENARIOS / "reconnect_faults.json")
    assert not scenario.loop
    kinds = {type(s.action).__name__ for s in scenario.steps}
    assert {"DropSpec", "SilenceSpec", "DuplicateFillSpec", "SetPositionSpec"} <= kinds
    drops = [s.action for s in scenario.steps if type(s.action).__name__ == "DropSpec"]
    assert any(d.mid_frame for d in drops)  # type: ignore[attr-defined]
    silences = [s.action.seconds for s in scenario.steps if type(s.action).__name__ == "SilenceSpec"]
    assert max(silences) > 3 * 10  # longer than a few 10 s heartbeats
    server = sim.server(scenario, speed=1000.0)
    client = sim.client(server)
    assert server.wait_until_idle(TIMEOUT)
    assert all(qty == 0.0 for qty, _ in server.positions().values())
    assert client.wait_closed()  # dropped by the scenario

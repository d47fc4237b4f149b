"""The simulator's persistent world: restart round trip, save-before-send, and refusal of bad state files."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dtc import messages as m
from dtc.sim import persist as sim_persist
from dtc.sim.scenario import Scenario
from dtc.sim.server import SimulatorServer
from tests.test_simulator import TIMEOUT, Harness, harness_session


@pytest.fixture
def sim() -> Iterator[Harness]:
    yield from harness_session()


def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def three_steps(wait_last: float = 30.0) -> Scenario:
    return Scenario.from_dict(
        {
            "name": "persist",
            "accounts": [{"TradeAccount": "Sim1", "CashBalance": 100.0}],
            "steps": [
                {
                    "wait": 0,
                    "fill": {
                        "account": "Sim1",
                        "symbol": "MESZ25",
                        "side": "BUY",
                        "quantity": 2,
                        "price": 6000.0,
                        "partials": [[1, 6000.0], [1, 6000.5]],
                    },
                },
                {"wait": 0, "balance": {"account": "Sim1", "CashBalance": 123.0}},
                {
                    "wait": wait_last,
                    "fill": {"account": "Sim1", "symbol": "MESZ25", "side": "SELL", "quantity": 1, "price": 6001.0},
                },
            ],
        }
    )


def test_world_survives_a_restart_and_playback_resumes(sim: Harness, tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    first = sim.server(three_steps(), state_file=state)
    assert wait_until(lambda: first.world_snapshot()["playback"]["next_step"] == 2)
    first.set_position("Sim1", "MNQZ25", -3, 25000.25, notify=False)  # an outside change, no fill
    first.price("MESZ25", 6002.25)
    first.stop()
    before = first.world_snapshot()
    assert json.loads(state.read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["world.json"]  # no temp files left behind
    assert [f["execution_id"] for f in before["fills"]] == ["SIM-1", "SIM-2"]
    assert (before["next_execution"], before["next_order"]) == (3, 2)

    second = sim.server(three_steps(wait_last=0.05), state_file=state, autoplay=False)
    assert second.world_snapshot() == before
    assert second.positions() == {("Sim1", "MESZ25"): (2.0, 6000.25), ("Sim1", "MNQZ25"): (-3.0, 25000.25)}
    assert second.last_price("MESZ25") == 6002.25
    client = sim.client(second)
    client.send(m.AccountBalanceRequest(RequestID=1, TradeAccount="Sim1"))
    (balance,) = client.recv_n(1)
    assert balance.CashBalance == 123.0
    second.play()  # resumes at step 2: the SELL, without repeating the BUY or the balance
    assert second.wait_until_idle(TIMEOUT)
    assert second.fill("Sim1", "MESZ25", "BUY", 1, 6001.5) == ["SIM-4"]
    log = second.fill_log()
    assert [(f["execution_id"], f["side"], f["server_order_id"]) for f in log] == [
        ("SIM-1", "BUY", "SIMORD-1"),
        ("SIM-2", "BUY", "SIMORD-1"),
        ("SIM-3", "SELL", "SIMORD-2"),
        ("SIM-4", "BUY", "SIMORD-3"),
    ]
    live = [x for x in client.recv_n(4) if isinstance(x, m.OrderUpdate)]
    assert [x.LastFillExecutionID for x in live] == ["SIM-3", "SIM-4"]
    client.send(m.HistoricalOrderFillsRequest(RequestID=2, TradeAccount="Sim1", NumberOfDays=1))
    assert [x.UniqueExecutionID for x in client.recv_n(4)] == ["SIM-1", "SIM-2", "SIM-3", "SIM-4"]
    second.stop()
    assert second.world_snapshot()["playback"] == {"next_step": 3, "pass_number": 1}

    third = sim.server(three_steps(wait_last=0.05), state_file=state)
    assert third.wait_until_idle(TIMEOUT)  # the non-looping scenario had finished: nothing replays
    assert len(third.fill_log()) == 4 and third.positions()[("Sim1", "MESZ25")] == (2.0, 6000.875)


def test_looping_playback_position_wraps_to_the_next_pass(sim: Harness, tmp_path: Path) -> None:
    scenario = Scenario.from_dict(
        {
            "name": "loop",
            "loop": True,
            "accounts": [{"TradeAccount": "Sim1"}],
            "steps": [
                {"wait": 0.01, "price": {"symbol": "MESZ25", "price": 6000.0}},
                {"wait": 0.01, "price": {"symbol": "MESZ25", "price": 6000.25}},
            ],
        }
    )
    state = tmp_path / "loop.json"
    server = sim.server(scenario, state_file=state)
    assert wait_until(lambda: server.world_snapshot()["playback"]["pass_number"] >= 3)
    server.stop()
    position = server.world_snapshot()["playback"]
    assert 0 <= position["next_step"] < 2
    assert json.loads(state.read_text())["playback"] == position


def test_world_is_saved_before_any_client_hears_of_a_fill(
    sim: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = sim_persist.write_atomic

    def slow_disk(path: Path, data: bytes) -> None:  # a slow fsync makes a send-before-save visible
        time.sleep(0.2)
        real_write(path, data)

    monkeypatch.setattr(sim_persist, "write_atomic", slow_disk)
    state = tmp_path / "world.json"
    server = sim.server(state_file=state)
    client = sim.client(server)
    filler = threading.Thread(target=server.fill, args=("Sim1", "MESZ25", "BUY", 1, 6000.0))
    filler.start()  # not waiting for fill() to return: it returns only after the slow save
    order = client.recv_n(1)[0]
    ids = ["SIM-1"]
    assert isinstance(order, m.OrderUpdate) and order.LastFillExecutionID == ids[0]
    saved = json.loads(state.read_text())
    assert [f["execution_id"] for f in saved["fills"]] == ids and saved["next_execution"] == 2
    assert saved["positions"] == [
        {
            "account": "Sim1",
            "symbol": "MESZ25",
            "quantity": 1.0,
            "average_price": 6000.0,
            "entry_time": saved["fills"][0]["time"],
        }
    ]
    filler.join(TIMEOUT)


def _break(kind: str, data: dict[str, Any], raw: bytes) -> bytes:
    if kind == "garbage":
        return b"\x00\xff not json"
    if kind == "truncated":
        return raw[: len(raw) // 2]
    if kind == "reused_ids":
        data["next_execution"] = 2
    elif kind == "other_scenario":
        data["fingerprint"] = "0123456789abcdef"
    elif kind == "wrong_type":
        data["fills"][0]["price"] = "6000"
    elif kind == "unknown_key":
        data["surprise"] = 1
    elif kind == "bad_playback":
        data["playback"]["next_step"] = 99
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("garbage", "corrupt"),
        ("truncated", "corrupt"),
        ("reused_ids", "reuse an existing execution id"),
        ("other_scenario", "different steps"),
        ("wrong_type", "Expected `float`"),
        ("unknown_key", "surprise"),
        ("bad_playback", "playback position"),
    ],
)
def test_bad_state_file_is_refused_and_left_alone(tmp_path: Path, kind: str, needle: str) -> None:
    state = tmp_path / "world.json"
    server = SimulatorServer(three_steps(), state_file=state, autoplay=False)
    server.start()
    server.fill("Sim1", "MESZ25", "BUY", 1, 6000.0)
    server.fill("Sim1", "MESZ25", "SELL", 1, 6000.25)
    server.stop()
    raw = state.read_bytes()
    broken = _break(kind, json.loads(raw), raw)
    state.write_bytes(broken)
    with pytest.raises(ValueError, match="corrupt") as info:
        SimulatorServer(three_steps(), state_file=state)
    assert str(state) in str(info.value) and needle in str(info.value)
    assert state.read_bytes() == broken  # never silently replaced by a fresh world


def test_unreadable_state_file_is_an_os_error(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    state.mkdir()  # a directory where the file should be
    with pytest.raises(OSError, match="cannot read simulator state file"):
        SimulatorServer(None, state_file=state)

"""Scenario playback of the DTC simulator over real loopback sockets: the shipped scenario files, looping,
and validation errors that name the bad step."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from dtc import messages as m
from dtc.sim.scenario import Scenario, load_scenario
from tests.test_simulator import SCENARIOS, TIMEOUT, Harness, harness_session


@pytest.fixture
def sim() -> Iterator[Harness]:
    yield from harness_session()


# --- scenarios ---------------------------------------------------------------------------------


def test_roundtrip_mes_scenario_played_fast(sim: Harness) -> None:
    server = sim.server(load_scenario(SCENARIOS / "roundtrip_mes.json"), speed=1000.0, autoplay=False)
    client = sim.client(server)
    assert server.wait_until_idle(0)  # nothing plays before play()
    server.play()
    msgs = client.recv_n(12)
    assert server.wait_until_idle(TIMEOUT)
    assert [type(x) for x in msgs] == [m.OrderUpdate, m.PositionUpdate] * 6
    orders, positions = msgs[0::2], msgs[1::2]
    assert [
        (
            o.BuySell,
            o.OrderStatus,
            o.OrderUpdateReason,
            o.OrderQuantity,
            o.FilledQuantity,
            o.RemainingQuantity,
            o.LastFillQuantity,
            o.LastFillPrice,
            o.AverageFillPrice,
        )
        for o in orders
    ] == [
        (1, 10, 5, 2.0, 1.0, 1.0, 1.0, 6000.0, 6000.0),
        (1, 7, 4, 2.0, 2.0, 0.0, 1.0, 6000.5, 6000.25),
        (1, 7, 4, 1.0, 1.0, 0.0, 1.0, 6001.0, 6001.0),
        (2, 7, 4, 2.0, 2.0, 0.0, 2.0, 6003.0, 6003.0),
        (2, 7, 4, 2.0, 2.0, 0.0, 2.0, 6002.0, 6002.0),
        (1, 7, 4, 1.0, 1.0, 0.0, 1.0, 6001.25, 6001.25),
    ]
    assert [(p.Quantity, p.AveragePrice) for p in positions] == [
        (1.0, 6000.0),
        (2.0, 6000.25),
        (3.0, 6000.5),
        (1.0, 6000.5),
        (-1.0, 6002.0),
        (0.0, 0.0),
    ]
    assert all(
        (o.RequestID, o.TotalNumMessages, o.TradeAccount, o.Symbol, o.OrderType) == (0, 1, "Sim1", "MESZ25", 1)
        for o in orders
    )
    assert all((p.RequestID, p.Unsolicited, p.TradeAccount, p.Symbol) == (0, 1, "Sim1", "MESZ25") for p in positions)
    order_ids = [o.ServerOrderID for o in orders]
    assert order_ids[0] == order_ids[1] and len(set(order_ids)) == 5
    assert len({o.LastFillExecutionID for o in orders}) == 6
    assert server.positions() == {("Sim1", "MESZ25"): (0.0, 0.0)}
    log = server.fill_log()
    assert [e["execution_id"] for e in log] == [o.LastFillExecutionID for o in orders]
    assert [(e["side"], e["quantity"], e["price"]) for e in log][:2] == [("BUY", 1.0, 6000.0), ("BUY", 1.0, 6000.5)]


def test_looping_scenario_uses_fresh_ids_and_balance_updates(sim: Harness) -> None:
    scenario = Scenario.from_dict(
        {
            "name": "loop",
            "loop": True,
            "accounts": [{"TradeAccount": "Sim1", "CashBalance": 100.0}],
            "steps": [
                {
                    "wait": 0.02,
                    "fill": {"account": "Sim1", "symbol": "MESZ25", "side": "BUY", "quantity": 1, "price": 6000.0},
                },
                {"wait": 0.02, "balance": {"account": "Sim1", "CashBalance": 125.5, "DailyProfitLoss": 25.5}},
                {
                    "wait": 0.02,
                    "fill": {"account": "Sim1", "symbol": "MESZ25", "side": "SELL", "quantity": 1, "price": 6001.0},
                },
            ],
        }
    )
    server = sim.server(scenario, autoplay=False, play_on_logon=True)
    client = sim.client(server)
    msgs = client.recv_n(15)  # 3 passes: 301, 306, 600, 301, 306
    orders = [x for x in msgs if isinstance(x, m.OrderUpdate)]
    balances = [x for x in msgs if isinstance(x, m.AccountBalanceUpdate)]
    assert len(orders) == 6 and len({o.ServerOrderID for o in orders}) == 6
    assert len({o.LastFillExecutionID for o in orders}) == 6
    assert [(b.CashBalance, b.DailyProfitLoss, b.Unsolicited, b.RequestID) for b in balances] == [
        (125.5, 25.5, 1, 0)
    ] * 3
    assert not server.wait_until_idle(0.05)  # a looping scenario never finishes


def test_demo_scenario_is_valid_and_every_pass_ends_flat(sim: Harness) -> None:
    demo = load_scenario(SCENARIOS / "demo.json")
    assert demo.loop and {a.TradeAccount for a in demo.accounts} == {"Sim1", "120005"}
    server = sim.server(dataclasses.replace(demo, loop=False), speed=2000.0)
    assert server.wait_until_idle(TIMEOUT)
    positions = server.positions()
    assert {k[0] for k in positions} == {"Sim1", "120005"} and len(positions) == 4
    assert all(qty == 0.0 for qty, _ in positions.values())


@pytest.mark.parametrize(
    ("step", "needle"),
    [
        (
            {
                "fill": {
                    "account": "Sim1",
                    "symbol": "MESZ25",
                    "side": "BUY",
                    "quantity": 2,
                    "price": 6000.0,
                    "partials": [[1, 6000.0]],
                }
            },
            "sum to 1",
        ),
        ({"fill": {"account": "Ghost", "symbol": "MESZ25", "side": "BUY", "quantity": 1, "price": 6000.0}}, "Ghost"),
        ({"fill": {"account": "Sim1", "symbol": "MESZ25", "side": "HOLD", "quantity": 1, "price": 6000.0}}, "side"),
        ({"wait": 1, "explode": {}}, "explode"),
    ],
)
def test_bad_scenario_names_the_step(step: dict[str, Any], needle: str) -> None:
    data = {
        "accounts": [{"TradeAccount": "Sim1"}],
        "steps": [{"wait": 1, "note": "ok", "balance": {"account": "Sim1", "CashBalance": 1.0}}, step],
    }
    with pytest.raises(ValueError, match=r"steps\[1\]") as info:
        Scenario.from_dict(data)
    assert needle in str(info.value)

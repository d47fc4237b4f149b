"""Market data (101 → 104/107 or 103), security definitions (506 → 507/509), price walks, the new step
kinds' validation and the demo scenario's prices, over real loopback sockets."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dtc import messages as m
from dtc.sim.market import restriction_text, symbol_root, walk_path
from dtc.sim.scenario import FillSpec, Scenario, load_scenario
from dtc.sim.steps import PriceWalkSpec
from tests.test_simulator import SCENARIOS, TIMEOUT, Harness, harness_session

MES = "MESZ25-CME"
INSTRUMENTS = {MES: {"tick": 0.25, "tick_value": 1.25, "description": "Micro E-mini S&P 500 Dec 2025", "price": 6850.0}}


@pytest.fixture
def sim() -> Iterator[Harness]:
    yield from harness_session()


def market_scenario(steps: list[dict[str, Any]] | None = None, **extra: Any) -> Scenario:
    return Scenario.from_dict(
        {"accounts": [{"TradeAccount": "Sim1"}], "instruments": INSTRUMENTS, "steps": steps or [], **extra}
    )


def test_logon_announces_market_data_and_security_definitions(sim: Harness) -> None:
    resp = sim.client(sim.server(), logon=False).logon()
    assert (resp.MarketDataSupported, resp.SecurityDefinitionsSupported, resp.TradingIsSupported) == (1, 1, 1)


def test_subscribe_snapshot_then_a_trade_per_price_change(sim: Harness) -> None:
    server = sim.server(market_scenario())
    client, other = sim.client(server), sim.client(server)
    client.send(m.MarketDataRequest(RequestAction=1, SymbolID=7, Symbol=MES))
    (snap,) = client.recv_n(1)
    assert isinstance(snap, m.MarketDataSnapshot)
    assert (snap.SymbolID, snap.LastTradePrice, snap.BidPrice, snap.AskPrice) == (7, 6850.0, 6850.0, 6850.25)
    assert (snap.SessionHighPrice, snap.SessionLowPrice) == (6850.0, 6850.0)
    assert server.price(MES, 6851.5, volume=3) == 1
    (trade,) = client.recv_n(1)
    assert isinstance(trade, m.MarketDataUpdateTrade)
    assert (trade.SymbolID, trade.Price, trade.Volume, trade.AtBidOrAsk) == (7, 6851.5, 3.0, 2)
    assert abs(trade.DateTime - time.time()) < 5
    wire = json.loads(client.raw[-1])
    assert "F" not in wire and isinstance(wire["DateTime"], float) and wire["DateTime"] % 1 != 0
    server.price(MES, 6851.0)
    assert client.recv_n(1)[0].AtBidOrAsk == 1  # a down-tick trades at the bid
    server.fill("Sim1", MES, "BUY", 2, 6852.0, partials=[(1, 6852.0), (1, 6852.25)])
    msgs = client.recv_n(6)
    assert [type(x) for x in msgs] == [m.OrderUpdate, m.PositionUpdate] * 2 + [m.MarketDataUpdateTrade] * 2
    assert [x.Price for x in msgs[4:]] == [6852.0, 6852.25] and server.last_price(MES) == 6852.25
    assert [type(x) for x in other.recv_n(4)] == [m.OrderUpdate, m.PositionUpdate] * 2
    other.assert_silent()  # not subscribed to market data: only the fill's 301/306 came
    client.send(m.MarketDataRequest(RequestAction=3, SymbolID=7, Symbol=MES))  # snapshot only
    (again,) = client.recv_n(1)
    assert (again.LastTradePrice, again.SessionHighPrice, again.SessionLowPrice) == (6852.25, 6852.25, 6850.0)
    client.send(m.MarketDataRequest(RequestAction=2, SymbolID=7))
    client.send(m.TradeAccountsRequest(RequestID=1))  # a barrier: the unsubscribe is processed first
    client.recv_n(1)
    assert server.price(MES, 6853.0) == 0
    client.assert_silent()


def test_restricted_symbols_are_rejected_like_sierra(sim: Harness) -> None:
    server = sim.server(market_scenario(market_data_rejected=["MES"]))
    client = sim.client(server)
    client.send(m.MarketDataRequest(RequestAction=1, SymbolID=3, Symbol=MES))
    (reject,) = client.recv_n(1)
    assert isinstance(reject, m.MarketDataReject) and reject.SymbolID == 3
    assert reject.RejectText == (
        "Market data for this symbol is not available through the DTC server (CME Group data restriction)"
    )
    assert server.price(MES, 6850.25) == 0  # a rejected request does not subscribe
    client.send(m.MarketDataRequest(RequestAction=1, SymbolID=4, Symbol="MNQZ25-CME"))
    assert isinstance(client.recv_n(1)[0], m.MarketDataSnapshot)
    server.set_market_data_rejected(["CME"])
    client.send(m.MarketDataRequest(RequestAction=1, SymbolID=5, Symbol="MNQZ25-CME"))
    client.send(m.MarketDataRequest(RequestAction=1, SymbolID=6, Symbol=""))
    assert [type(x) for x in client.recv_n(2)] == [m.MarketDataReject, m.MarketDataReject]


@pytest.mark.parametrize(
    ("symbol", "entries", "rejected"),
    [
        ("MESZ25-CME", ["MES"], True),
        ("MESZ25-CME", ["ES"], False),
        ("ESZ25-CME", ["ES"], True),
        ("F.US.MESZ25", ["MES"], True),
        ("ESM20_FUT_CME", ["CME"], True),
        ("MESZ25-CME", ["CME"], True),
        ("FDAXZ25-EUREX", ["CME"], False),
        ("FDAXZ25-EUREX", ["EUREX"], True),
        ("MESZ25-CME", [], False),
    ],
)
def test_restriction_matches_prefix_root_or_exchange(symbol: str, entries: list[str], rejected: bool) -> None:
    assert (restriction_text(symbol, "", entries) is not None) == rejected
    assert symbol_root(symbol) in {"MES", "ES", "FDAX"}


def test_security_definitions(sim: Harness) -> None:
    server = sim.server(market_scenario())
    client = sim.client(server)
    client.send(m.SecurityDefinitionForSymbolRequest(RequestID=21, Symbol=MES))
    client.send(m.SecurityDefinitionForSymbolRequest(RequestID=22, Symbol="ZZZZ"))
    known, unknown = client.recv_n(2)
    assert isinstance(known, m.SecurityDefinitionResponse)
    assert (known.RequestID, known.Symbol, known.Exchange, known.SecurityType, known.Description) == (
        21,
        MES,
        "CME",
        1,
        "Micro E-mini S&P 500 Dec 2025",
    )
    assert (known.MinPriceIncrement, known.CurrencyValuePerIncrement, known.IsFinalMessage, known.Currency) == (
        0.25,
        1.25,
        1,
        "USD",
    )
    assert isinstance(unknown, m.SecurityDefinitionReject) and unknown.RequestID == 22 and "ZZZZ" in unknown.RejectText
    server.set_instrument("MNQZ25-CME", 0.25, 0.5, "Micro E-mini Nasdaq-100 Dec 2025")
    client.send(m.SecurityDefinitionForSymbolRequest(RequestID=23, Symbol="MNQZ25-CME"))
    (mnq,) = client.recv_n(1)
    assert (mnq.RequestID, mnq.CurrencyValuePerIncrement, mnq.Exchange) == (23, 0.5, "CME")


def test_walk_path_is_seeded_bounded_and_snapped() -> None:
    path = walk_path(6850.0, 0.25, 40, "7:MES")
    assert path == walk_path(6850.0, 0.25, 40, "7:MES") != walk_path(6850.0, 0.25, 40, "8:MES")
    steps = [b - a for a, b in itertools.pairwise([6850.0, *path])]
    assert all(abs(s) <= 0.5 + 1e-9 for s in steps) and all((p * 4).is_integer() for p in path)
    assert len(set(steps)) > 2  # it really moves
    for end in (6846.0, 6853.75, 6850.0):
        steered = walk_path(6850.0, 0.25, 12, "1:MES", end=end)
        assert steered[-1] == end and all(abs(b - a) <= 0.5 for a, b in itertools.pairwise(steered))
    assert walk_path(6850.0, 0.25, 2, "x", end=6900.0)[-1] == 6851.0  # too far: as close as allowed


def test_price_walk_step_sends_trades_to_subscribers(sim: Harness) -> None:
    walk = {
        "symbols": [{"symbol": MES}, {"symbol": "MNQZ25-CME", "start": 25000.0, "tick": 0.25, "end": 25001.0}],
        "count": 6,
        "interval": 0.25,
        "seed": 5,
    }
    server = sim.server(market_scenario([{"wait": 0, "price_walk": walk}]), autoplay=False, speed=10.0)
    client = sim.client(server)
    client.send(m.MarketDataRequest(RequestAction=1, SymbolID=1, Symbol=MES))
    client.send(m.MarketDataRequest(RequestAction=1, SymbolID=2, Symbol="MNQZ25-CME"))
    client.recv_n(2)
    server.play()
    trades = client.recv_n(12)
    assert server.wait_until_idle(TIMEOUT)
    mes = [t.Price for t in trades if t.SymbolID == 1]
    mnq = [t.Price for t in trades if t.SymbolID == 2]
    assert mes == walk_path(6850.0, 0.25, 6, f"5:{MES}") and len(mnq) == 6 and mnq[-1] == 25001.0
    assert server.last_price(MES) == mes[-1] and server.world_snapshot()["playback"]["next_step"] == 1


BAD_STEPS = [
    ({"price_walk": {"symbol": "ZZZ", "start": 1.0, "count": 3, "interval": 0.5}}, "no tick"),
    ({"price_walk": {"symbol": "MNQZ25-CME", "tick": 0.25, "count": 3, "interval": 0.5}}, "no start"),
    ({"price_walk": {"symbol": MES, "count": 0, "interval": 0.5}}, "count"),
    ({"price_walk": {"symbol": MES, "symbols": [], "count": 1, "interval": 0.5}}, "symbol"),
    ({"price": {"symbol": MES, "price": -1}}, "price"),
    ({"silence": {"seconds": 0}}, "seconds"),
    ({"drop": {"mid_frame": "yes"}}, "mid_frame"),
    ({"logon_result": {"result": 7}}, "result"),
    ({"logoff": {"reason": "x", "do_not_reconnect": 1}}, "do_not_reconnect"),
    ({"set_position": {"account": "Sim1", "symbol": MES, "quantity": 2, "average_price": 0}}, "average_price"),
    ({"set_position": {"account": "Ghost", "symbol": MES, "quantity": 0, "average_price": 0}}, "Ghost"),
    ({"duplicate_fill": {"newest": True}}, "newest"),
    ({"heartbeats": {}}, "enabled"),
    ({"positions_reject": {"text": ""}}, "text"),
]


@pytest.mark.parametrize(("action", "needle"), BAD_STEPS)
def test_bad_new_step_kinds_name_the_step(action: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=r"steps\[1\]") as info:
        market_scenario([{"wait": 1, "price": {"symbol": MES, "price": 6850.0}}, {"wait": 1, **action}])
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"instruments": {MES: {"tick": 0, "tick_value": 1.25}}}, "tick"),
        ({"instruments": {MES: {"tick": 0.25}}}, "tick_value"),
        ({"market_data_rejected": "CME"}, "market_data_rejected"),
    ],
)
def test_bad_market_tables_are_refused(extra: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        Scenario.from_dict({"accounts": [], "steps": [], **extra})


def test_demo_moves_prices_between_fills_near_the_walked_price(sim: Harness) -> None:
    demo = load_scenario(SCENARIOS / "demo.json")
    symbols = {s.action.symbol for s in demo.steps if isinstance(s.action, FillSpec)}
    assert symbols <= set(demo.instruments)
    walks = [s.action for s in demo.steps if isinstance(s.action, PriceWalkSpec)]
    assert len(walks) >= 8 and all(0.25 <= w.interval <= 0.5 for w in walks)
    server = sim.server(dataclasses.replace(demo, loop=False), speed=2000.0, autoplay=False)
    client = sim.client(server)
    for i, sym in enumerate(sorted(symbols), 1):
        client.send(m.MarketDataRequest(RequestAction=1, SymbolID=i, Symbol=sym))
    client.recv_n(len(symbols))
    server.play()
    assert server.wait_until_idle(TIMEOUT)
    msgs = client.recv_until(
        lambda x: isinstance(x, m.AccountBalanceUpdate) and x.TradeAccount == "Sim1" and x.CashBalance == 50000.0
    )
    ids = {i: sym for i, sym in enumerate(sorted(symbols), 1)}
    last: dict[str, float] = {}
    for msg in msgs:
        if isinstance(msg, m.MarketDataUpdateTrade):
            last.setdefault(ids[msg.SymbolID], msg.Price)
            last[ids[msg.SymbolID]] = msg.Price
        elif isinstance(msg, m.OrderUpdate) and msg.Symbol in last:  # a fill: close to the walked price
            tick = demo.instruments[msg.Symbol].tick
            assert abs(msg.LastFillPrice - last[msg.Symbol]) <= 4 * tick, (msg.Symbol, msg.LastFillPrice, last)
    assert sum(isinstance(x, m.MarketDataUpdateTrade) for x in msgs) > 100

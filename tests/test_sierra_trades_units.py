"""Sierra Chart's trade list, part by part: the 10100/10101/10102 messages on the wire, the simulator's flat-to-flat
trades from its own fills (MAE/MFE, commission, flips, one trade made to differ), and the comparison with the
panel's trades (match by execution ids, else by times and quantity; imports; trades one side lacks)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from core.sierra_check import SierraTrade, compare
from core.sierra_trades import SierraTradeList
from core.tradingday import Period, period_start
from data.db import make_engine
from data.models import TradeAccount
from data.sierra_store import PanelTrade, SierraTradeStore
from dtc.messages import DTCMessage, HistoricalTradesRequest, HistoricalTradesResponse, decode_message, encode_message
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_messages_use_sierra_charts_numbers_and_field_names() -> None:
    request = HistoricalTradesRequest(RequestID=7, TradeAccount="Sim1", StartDateTime=1767222000)
    assert json.loads(encode_message(request)[:-1]) == {
        "Type": 10100, "RequestID": 7, "Symbol": "", "TradeAccount": "Sim1", "StartDateTime": 1767222000,
        "SubAccountIdentifier": 0, "CreateFlatToFlatTrades": 1,
    }  # fmt: skip
    final = decode_message(b'{"Type":10102,"RequestID":7,"IsFinalMessage":1}')
    assert isinstance(final, HistoricalTradesResponse) and final.IsFinalMessage == 1 and final.Symbol == ""
    reject = decode_message(b'{"Type":10101,"RequestID":7,"RejectText":"no"}')
    assert type(reject).__name__ == "HistoricalTradesReject"


class Clock:
    def __init__(self) -> None:
        self.now = T0.timestamp()

    def __call__(self) -> float:
        self.now += 1.0  # every fill and trade one second after the last
        return self.now


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Scenario(accounts=(AccountSpec("Sim1"),)), autoplay=False, clock=Clock())
    server.start()
    yield server
    server.stop()


def ask(port: int, request: dict[str, object]) -> list[dict[str, object]]:
    """Log on over a real socket, send ``request`` and read the 10101/10102 answer until its final message."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for message in ({"Type": 1, "ProtocolVersion": 8, "HeartbeatIntervalInSeconds": 30}, request):
            sock.sendall(json.dumps(message).encode() + b"\x00")
        buffer, out = b"", []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            buffer += sock.recv(65536)
            *frames, buffer = buffer.split(b"\x00")
            for frame in frames:
                message = json.loads(frame)
                if message["Type"] in (10101, 10102):
                    out.append(message)
                    if message["Type"] == 10101 or message.get("IsFinalMessage"):
                        return out
    raise AssertionError(f"no complete answer: {out}")


def test_simulator_answers_flat_to_flat_trades_with_excursions_commission_and_one_differing(simulator) -> None:  # type: ignore[no-untyped-def]
    simulator.set_instrument("ZZZ", 1.0, 1.0)  # one point = one dollar
    simulator.set_trades_commission(0.5)
    simulator.fill("Sim1", "ZZZ", "BUY", 2, 100.0, partials=[(1, 100.0), (1, 100.0)])
    simulator.price("ZZZ", 98.0)  # -$4 open: the first trade's MAE
    simulator.fill("Sim1", "ZZZ", "SELL", 3, 103.0)  # closes +$6 and flips short 1 @ 103
    simulator.price("ZZZ", 104.0)  # -$1: the second trade's MAE
    (close_id,) = simulator.fill("Sim1", "ZZZ", "BUY", 1, 101.0)  # +$2
    simulator.fill("Sim1", "ZZZ", "BUY", 1, 100.0)  # still open: not a trade
    simulator.set_trades_difference(close_id, "ClosedProfitLoss", 1.25)
    answer = ask(simulator.port, {"Type": 10100, "RequestID": 5, "TradeAccount": "Sim1", "StartDateTime": 0})
    keys = ("TradeType", "EntryQuantity", "ExitQuantity", "MaxOpenQuantity", "EntryPrice", "ExitPrice",
            "ClosedProfitLoss", "MaximumOpenPositionLoss", "MaximumOpenPositionProfit", "Commission",
            "OpenFillExecutionID", "CloseFillExecutionID", "IsFinalMessage", "RequestID")  # fmt: skip
    assert [tuple(m[k] for k in keys) for m in answer] == [
        (1, 2, 2, 2, 100.0, 103.0, 6.0, -4.0, 6.0, 2.0, "SIM-1", "SIM-3", 0, 5),
        (2, 1, 1, 1, 103.0, 101.0, 3.25, -1.0, 2.0, 1.0, "SIM-3", "SIM-4", 1, 5),
    ]
    assert answer[0]["EntryDateTime"] < answer[0]["ExitDateTime"] <= answer[1]["EntryDateTime"]
    later = ask(simulator.port, {"Type": 10100, "RequestID": 6, "TradeAccount": "Sim1",
                                 "StartDateTime": int(answer[1]["ExitDateTime"]) + 1})  # fmt: skip
    assert later == [{**later[0], "RequestID": 6, "IsFinalMessage": 1, "Symbol": ""}]  # none: a lone final one
    simulator.set_trades_reject("not here")
    assert ask(simulator.port, {"Type": 10100, "RequestID": 8, "TradeAccount": "Sim1"}) == [
        {"Type": 10101, "RequestID": 8, "RejectText": "not here"}
    ]


def sierra(symbol: str = "MES", entry: int = 0, exit_: int = 60, qty: str = "1", ids: tuple[str, str] = ("", ""),
           pnl: str = "5") -> SierraTrade:  # fmt: skip
    return SierraTrade(
        "Sim1", symbol, "LONG", T0 + timedelta(seconds=entry), T0 + timedelta(seconds=exit_), D(100), D(101), D(qty),
        D(qty), D(qty), D(pnl), D(0), D(pnl), D(0), ids[0], ids[1],
    )  # fmt: skip


def panel(trade_id: int, symbol: str = "MES", entry: float = 0, exit_: float = 60, qty: str = "1",
          ids: tuple[str, str] = ("", ""), pnl: str = "5") -> PanelTrade:  # fmt: skip
    return PanelTrade(
        trade_id, symbol, "LONG", D(qty), D(qty), D(100), D(101), T0 + timedelta(seconds=entry),
        T0 + timedelta(seconds=exit_), D(pnl), D(0), D(0), D(pnl), "", "", ids[0], ids[1],
    )  # fmt: skip


def test_comparison_matches_by_execution_ids_else_times_and_lists_what_one_side_lacks() -> None:
    first_seen = T0 - timedelta(hours=1)
    before = sierra(entry=-7200, exit_=-5000)
    by_ids = sierra(entry=0, exit_=60, ids=("E1", "E2"), pnl="6.25")
    by_time = sierra(entry=120, exit_=180, qty="2")
    only_sierra = sierra(symbol="MNQ", entry=300, exit_=360)
    own = [
        panel(1, entry=0.4, exit_=59.6, ids=("E1", "E2")),  # same fills; P&L differs by $1.25
        panel(2, entry=120.3, exit_=180.2, qty="2"),  # 304 history: whole seconds
        panel(3, entry=400, exit_=460),  # Sierra Chart does not list it
        panel(4, entry=900, exit_=960),  # closed after the request was sent: not "missing"
    ]
    result = compare([before, by_ids, by_time, only_sierra], own, first_seen, T0 + timedelta(seconds=600))
    assert result.imports == (before,)
    assert [(m.panel.id, [(d.field, d.panel, d.sierra) for d in m.differences]) for m in result.matches] == [
        (1, [("ClosedProfitLoss", D(5), D("6.25")), ("MaximumOpenPositionProfit", D(5), D("6.25"))]),
        (2, []),
    ]
    assert result.sierra_only == (only_sierra,)
    assert [p.id for p in result.panel_only] == [3]


def test_a_sub_cent_or_sub_tick_rounding_of_doubles_is_agreement() -> None:
    own = panel(1, ids=("E1", "E2"), pnl="5")
    theirs = sierra(ids=("E1", "E2"), pnl="5.0000000001")
    (match,) = compare([theirs], [own], T0 - timedelta(hours=1), T0 + timedelta(hours=1)).matches
    assert match.differences == ()


def test_scenario_steps_make_one_trade_differ_and_then_reject() -> None:
    scenario = Scenario.from_dict(
        {
            "accounts": [{"TradeAccount": "Sim1"}],
            "steps": [
                {"fill": {"account": "Sim1", "symbol": "MESZ25", "side": "BUY", "quantity": 1, "price": 6000}},
                {"fill": {"account": "Sim1", "symbol": "MESZ25", "side": "SELL", "quantity": 1, "price": 6001}},
                {"trades_difference": {"close_execution_id": "SIM-2", "field": "Commission", "amount": 0.62}},
            ],
        }
    )
    server = SimulatorServer(scenario, autoplay=True, clock=Clock())
    server.start()
    try:
        assert server.wait_until_idle(10)
        (trade,) = ask(server.port, {"Type": 10100, "RequestID": 1, "TradeAccount": "Sim1"})
        assert (trade["ClosedProfitLoss"], trade["Commission"], trade["CloseFillExecutionID"]) == (5.0, 0.62, "SIM-2")
    finally:
        server.stop()
    wrong = {"close_execution_id": "X", "field": "Nope", "amount": 1}
    with pytest.raises(ValueError, match=r"trades_difference\.field"):
        Scenario.from_dict({"accounts": [], "steps": [{"trades_difference": wrong}]})
    rejecting = Scenario.from_dict({"accounts": [], "steps": [{"trades_reject": {"text": "off"}}]})
    assert type(rejecting.steps[0].action).__name__ == "TradesRejectSpec"


def test_simulator_realizes_against_the_average_entry_of_the_open_contracts(simulator) -> None:  # type: ignore[no-untyped-def]
    simulator.set_instrument("ZZZ", 1.0, 1.0)
    simulator.fill("Sim1", "ZZZ", "BUY", 2, 100.0)
    simulator.fill("Sim1", "ZZZ", "SELL", 1, 104.0)  # +4; one left @ 100
    simulator.fill("Sim1", "ZZZ", "BUY", 1, 102.0)  # two @ 101 now
    simulator.fill("Sim1", "ZZZ", "SELL", 2, 103.0)  # +4
    (trade,) = ask(simulator.port, {"Type": 10100, "RequestID": 1, "TradeAccount": "Sim1"})
    assert trade["ClosedProfitLoss"] == 8.0 and trade["MaximumOpenPositionProfit"] == 8.0
    assert trade["EntryQuantity"] == 3 and trade["MaxOpenQuantity"] == 2
    assert round(trade["EntryPrice"], 6) == round(302 / 3, 6)  # every opening fill, like the panel's entry price
    assert round(trade["ExitPrice"], 6) == round(310 / 3, 6)


def _naive_compare(theirs: list[SierraTrade], own: list[PanelTrade], first_seen: datetime, asked_at: datetime,
                   start: datetime) -> tuple[list[tuple[str, int]], list[str], list[int]]:  # fmt: skip
    """The pairing rule spelled out as plainly as possible (each Sierra trade in order takes the first free panel
    trade by ids, else by time and quantity) — the oracle for the indexed ``compare``."""
    free = list(own)
    matches, sierra_only = [], []
    for s in theirs:
        if s.exit_time < first_seen:
            continue
        found = None
        if s.open_execution_id and s.close_execution_id:
            ids = (s.symbol, s.open_execution_id, s.close_execution_id)
            found = next((p for p in free if (p.symbol, p.open_execution_id, p.close_execution_id) == ids), None)
        if found is None:
            found = next(
                (p for p in free if p.symbol == s.symbol and p.qty == s.entry_quantity
                 and abs(p.entry_time - s.entry_time) <= timedelta(seconds=1)
                 and abs(p.exit_time - s.exit_time) <= timedelta(seconds=1)),
                None,
            )  # fmt: skip
        if found is None:
            if s.entry_time >= start:
                sierra_only.append(s.key)
            continue
        free.remove(found)
        matches.append((s.key, found.id))
    panel_only = [p.id for p in free if first_seen <= p.exit_time <= asked_at and p.entry_time >= start]
    return matches, sierra_only, panel_only


def _trade_specs(entries: int, durations: tuple[int, int]) -> st.SearchStrategy[list[tuple]]:  # type: ignore[type-arg]
    """(symbol, entry, duration, quantity, opening id, closing id) — few values each, so trades collide."""
    return st.lists(
        st.tuples(
            st.sampled_from(["MES", "MNQ"]), st.integers(0, entries), st.integers(*durations),
            st.sampled_from(["1", "2"]), st.sampled_from(["", "E1", "E2"]), st.sampled_from(["", "E3"]),
        ),
        max_size=14,
    )  # fmt: skip


@given(_trade_specs(8, (1, 3)), _trade_specs(16, (2, 6)))
@settings(max_examples=400, deadline=None)
def test_indexed_comparison_pairs_exactly_as_the_plain_rule(theirs_spec: list, own_spec: list) -> None:  # type: ignore[type-arg]
    """Crowded on purpose: many trades within a second or two of each other, repeated ids, half-second panel
    times (304 history), so which panel trade each Sierra trade takes is decided by the order rule."""
    theirs = [sierra(sym, entry=e, exit_=e + d * 30, qty=q, ids=(a, b)) for sym, e, d, q, a, b in theirs_spec]
    own = [
        panel(i + 1, sym, entry=e / 2, exit_=e / 2 + d * 15, qty=q, ids=(a, b))
        for i, (sym, e, d, q, a, b) in enumerate(own_spec)
    ]
    first_seen, asked_at, start = T0 - timedelta(seconds=1), T0 + timedelta(seconds=120), T0 + timedelta(seconds=1)
    result = compare(theirs, own, first_seen, asked_at, start)
    got = (
        [(m.sierra.key, m.panel.id) for m in result.matches],
        [s.key for s in result.sierra_only],
        [p.id for p in result.panel_only],
    )
    assert got == _naive_compare(theirs, own, first_seen, asked_at, start)


@pytest.mark.parametrize(
    "today",
    [datetime(2026, 1, 5, 15, tzinfo=UTC), datetime(2026, 2, 20, 15, tzinfo=UTC), datetime(2026, 6, 20, tzinfo=UTC)],
)
def test_the_request_starts_at_the_earliest_statistics_period_and_brings_its_trades(today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """From January to March the "3 months" period starts in the previous year, before the year to date: the
    trade list is asked from there, so a trade of that period is in Sierra Chart's answer (over a real socket)."""
    quarter, year = period_start(Period.QUARTER, today), period_start(Period.YEAR, today)
    assert quarter is not None and year is not None
    earliest = min(quarter, year)
    moment = [(earliest + timedelta(days=1)).timestamp()]
    server = SimulatorServer(Scenario(accounts=(AccountSpec("Sim1"),)), autoplay=False, clock=lambda: moment[0])
    server.start()
    engine = make_engine(tmp_path)
    try:
        server.fill("Sim1", "MESZ25", "BUY", 1, 6000.0)  # a day into the earliest period: to be backfilled
        moment[0] += 3600
        server.fill("Sim1", "MESZ25", "SELL", 1, 6001.0)
        sent: list[DTCMessage] = []
        trade_list = SierraTradeList(sent.append, None, SierraTradeStore(engine), None, now=lambda: today)  # type: ignore[arg-type]
        trade_list.request({"Sim1": ("SIM", today)})
        (request,) = sent
        assert isinstance(request, HistoricalTradesRequest)
        assert datetime.fromtimestamp(request.StartDateTime, UTC) == earliest
        (trade,) = ask(server.port, json.loads(encode_message(request)[:-1]))
        assert (trade["TradeAccount"], trade["ClosedProfitLoss"]) == ("Sim1", 5.0)
        assert trade["ExitDateTime"] == pytest.approx(moment[0])
    finally:
        engine.dispose()
        server.stop()


def test_only_trades_older_than_what_earlier_answers_covered_are_imported() -> None:
    """An earlier complete answer covered from ``covered_from``: it brought every trade that closed after that,
    so a trade listed again — in another form, with another identity — is not imported again."""
    day = timedelta(days=1)
    older = sierra(entry=-20 * 86400, exit_=-15 * 86400)
    cut = sierra(entry=-6 * 86400, exit_=-5 * 86400, qty="1")  # the same trade as one imported, cut
    result = compare([older, cut], [], T0, T0 + day, T0 - 30 * day, covered_from=T0 - 10 * day)
    assert result.imports == (older,) and result.sierra_only == () and result.matches == ()
    assert compare([older, cut], [], T0, T0 + day, T0 - 30 * day).imports == (older, cut)  # no answer before


def test_a_logon_long_after_the_compared_span_asks_from_its_end_so_the_span_has_no_gap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The trader's period now starts after the end of what was compared (the panel was not run for months): the
    request starts a week before that end, so what counts as compared — and what may be imported — never shrinks
    and never has a hole."""
    engine = make_engine(tmp_path)
    today = T0
    compared = (T0 - timedelta(days=200), T0 - timedelta(days=100))
    try:
        with Session(engine) as session:
            account = TradeAccount(account="Sim1", mode="SIM", first_seen=compared[0])
            account.sierra_checked_from, account.sierra_checked_until = compared
            session.add(account)
            session.commit()
        sent: list[DTCMessage] = []
        trade_list = SierraTradeList(sent.append, None, SierraTradeStore(engine), None, days=30, now=lambda: today)  # type: ignore[arg-type]
        trade_list.request({"Sim1": ("SIM", compared[0])})
        (request,) = sent
        assert isinstance(request, HistoricalTradesRequest)
        assert datetime.fromtimestamp(request.StartDateTime, UTC) == compared[1] - timedelta(days=7)
    finally:
        engine.dispose()

"""Property tests of the position accounting over random fill sequences (hypothesis)."""

from __future__ import annotations

import itertools
import random
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.accounting import Fill, replay
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.state import StateManager
from data.db import make_engine
from data.repository import PositionStore

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)
PV = D(5)  # MES
TICK = D("0.25")

quantities = st.integers(min_value=-5, max_value=5).filter(lambda q: q != 0)
ticks = st.integers(min_value=23_000, max_value=25_000)  # 5750.00 … 6250.00 in quarter points
fill_specs = st.lists(st.tuples(quantities, ticks, st.integers(0, 3)), min_size=1, max_size=40)


def make_fills(specs: list[tuple[int, int, int]], account: str = "Sim1") -> list[Fill]:
    return [
        Fill(f"X{i}", account, "MESZ25", D(q), D(t) * TICK, T0 + timedelta(seconds=i), D(c) * D("0.62") * abs(q))
        for i, (q, t, c) in enumerate(specs)
    ]


@given(fill_specs, ticks)
def test_realized_plus_open_equals_mark_to_market(specs: list[tuple[int, int, int]], mark_tick: int) -> None:
    fills = make_fills(specs)
    price = D(mark_tick) * TICK
    position, trades = replay(fills, PV)
    realized = sum((t.gross_pnl for t in trades), D(0))
    if position is not None:
        realized += position.realized_gross + position.open_pnl(price, PV)
    mark_to_market = sum(((price - f.price) * f.quantity * PV for f in fills), D(0))
    assert realized == mark_to_market
    commissions = sum((t.commissions for t in trades), D(0)) + (position.commissions if position else D(0))
    assert commissions == sum((f.commission for f in fills), D(0))


@given(fill_specs)
def test_quantity_is_conserved_through_flips(specs: list[tuple[int, int, int]]) -> None:
    fills = make_fills(specs)
    position, trades = replay(fills, PV)
    assert (position.quantity if position else 0) == sum(f.quantity for f in fills)
    for trade in trades:  # every trade closes what it opened
        assert trade.quantity > 0 and trade.gross_pnl - trade.commissions == trade.net_pnl
        assert trade.mae <= trade.gross_pnl <= trade.mfe


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fill_specs, st.data())
def test_store_incremental_with_restarts_and_duplicates_equals_replay(specs, data) -> None:  # type: ignore[no-untyped-def]
    fills = make_fills(specs)
    # deliver each fill once, plus random re-deliveries of earlier fills, with restarts in between
    delivery: list[Fill | None] = []
    for i, fill in enumerate(fills):
        delivery.append(fill)
        if data.draw(st.booleans()):
            delivery.append(fills[data.draw(st.integers(0, i))])
        if data.draw(st.integers(0, 9)) == 0:
            delivery.append(None)  # restart
    with tempfile.TemporaryDirectory() as tmp:
        store = PositionStore(make_engine(Path(tmp)))

        def fresh() -> StateManager:
            state = StateManager(store, InstrumentBook(), ModeClassifier())
            state.recover()
            return state

        state = fresh()
        for item in delivery:
            if item is None:
                state = fresh()
            else:
                state.apply_fill(item, publish=False)
        expected_position, expected_trades = replay(fills, PV)
        got = state.position("SIM", "Sim1", "MESZ25")
        if expected_position is None:
            assert got is None
        else:
            assert got is not None
            assert (got.quantity, got.cost_basis, got.realized_gross, got.commissions) == (
                expected_position.quantity,
                expected_position.cost_basis,
                expected_position.realized_gross,
                expected_position.commissions,
            )
        stored = store.trades("SIM", "Sim1")
        assert [(t.qty, t.realized_pnl, t.commissions) for t in stored] == [
            (t.quantity, t.net_pnl, t.commissions) for t in expected_trades
        ]


def test_sum_of_ten_thousand_trades_is_exact() -> None:
    rng = random.Random(20251120)
    expected = D(0)
    got = D(0)
    counter = itertools.count()
    for _ in range(10_000):
        qty = rng.randint(1, 5) * rng.choice((1, -1))
        entry = D(rng.randint(23_000, 25_000)) * TICK
        exit_ = D(rng.randint(23_000, 25_000)) * TICK
        commission = D("0.62") * abs(qty)
        fills = [
            Fill(f"R{next(counter)}", "Sim1", "MESZ25", D(qty), entry, T0, commission),
            Fill(f"R{next(counter)}", "Sim1", "MESZ25", D(-qty), exit_, T0, commission),
        ]
        (trade,) = replay(fills, PV)[1]
        got += trade.net_pnl
        expected += (exit_ - entry) * qty * PV - 2 * commission
    assert got == expected
    assert got == got.quantize(D("0.01"))  # whole cents: nothing lost to binary floating point

"""Issue 11's property: for random fill streams of one trading day — partial fills, scale-ins, scale-outs,
flips, several instruments, commissions, price paths between fills — what the window's "Today" figures hold
(realized from the stored fills + open at the last prices) equals the mark-to-market of all of today's fills:
Σ (last − fill price) × signed quantity × point value − Σ commissions. Real StateManager over a real SQLite
file; the figures are the ones the core publishes to the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import PriceBook, Quote
from core.state import StateManager
from core.tradingday import Period, period_start
from data.db import make_engine
from data.repository import PositionStore

# symbol, point value, tick, a base price
INSTRUMENTS = (
    ("MESZ25", D(5), D("0.25"), D(6000)),
    ("MNQZ25", D(2), D("0.25"), D(21000)),
    ("CLF26", D(1000), D("0.01"), D(60)),
)

step = st.tuples(
    st.integers(0, len(INSTRUMENTS) - 1),  # which instrument
    st.integers(-4, 4).filter(bool),  # signed contracts
    st.integers(-40, 40),  # price, ticks from the base
    st.sampled_from([D(0), D("0.62"), D("2.25")]),  # commission per contract
    st.lists(st.integers(-60, 60), max_size=3),  # marks after the fill, ticks from the base
)


def _day_start() -> datetime:
    now = datetime.now(UTC)
    start = period_start(Period.TODAY, now)
    assert start is not None
    return start


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=30), last=st.tuples(*(st.integers(-60, 60) for _ in INSTRUMENTS)))
def test_todays_realized_plus_open_is_the_mark_to_market_of_todays_fills(
    steps: list[tuple[int, int, int, D, list[int]]], last: tuple[int, ...]
) -> None:
    t0 = _day_start() + timedelta(seconds=1)
    with TemporaryDirectory() as folder:
        store = PositionStore(make_engine(Path(folder)))
        instruments = InstrumentBook()
        state = StateManager(store, instruments, ModeClassifier(), prices=PriceBook(), orders=OrderBook())
        state.set_scope("SIM", "Sim1")
        expected = D(0)
        for n, (which, qty, offset, fee, marks) in enumerate(steps):
            symbol, pv, tick, base = INSTRUMENTS[which]
            price = base + offset * tick
            at = t0 + timedelta(seconds=n)
            state.apply_fill(Fill(f"E{n}", "Sim1", symbol, D(qty), price, at, commission=fee * abs(qty)), publish=False)
            expected -= fee * abs(qty)
            for k, mark in enumerate(marks):
                state.on_price(Quote(symbol, base + mark * tick, datetime.now(UTC) + timedelta(microseconds=k), "dtc"))
        finals = {}
        for (symbol, _pv, tick, base), offset in zip(INSTRUMENTS, last, strict=True):
            finals[symbol] = base + offset * tick
            state.on_price(Quote(symbol, finals[symbol], datetime.now(UTC) + timedelta(seconds=1), "dtc"))
        for which, qty, offset, _fee, _marks in steps:
            symbol, pv, tick, base = INSTRUMENTS[which]
            expected += (finals[symbol] - (base + offset * tick)) * qty * pv
        today = state.snapshot().today
        state.close()
        store.engine.dispose()
    assert today.realized_pnl + (today.open_pnl or D(0)) == expected
    assert today.total_pnl == expected

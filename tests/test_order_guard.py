"""The stop guard's and the orphan cleanup's decisions (``core.order_guard``): plain cases and properties."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.order_guard import (
    GuardStop,
    OrphanAction,
    OrphanFacts,
    StopAction,
    StopFacts,
    decide_orphans,
    decide_stop,
    stop_price,
)

TICK = D("0.25")
LONG = StopFacts(
    quantity=D(2), avg_entry=D(6000), tick=TICK, distance_ticks=8, armed=True, missing_for=5.0, last_price=D(6001)
)


def test_an_armed_guard_submits_one_stop_at_the_distance_for_the_full_size() -> None:
    d = decide_stop(LONG)
    assert (d.action, d.price, d.quantity, d.side) == (StopAction.SUBMIT, D(5998), D(2), -1)
    short = decide_stop(replace(LONG, quantity=D(-3), last_price=D(5999)))
    assert (short.action, short.price, short.quantity, short.side) == (StopAction.SUBMIT, D(6002), D(3), 1)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"armed": False}, "stop guard not armed"),
        ({"trading_block": "trading is disabled for Sim1 (TradingIsDisabled)"}, "TradingIsDisabled"),
        ({"seen_open": False}, "did not see this position open"),
        ({"disputed": True}, "differs from Sierra Chart"),
        ({"confirmed": False}, "not confirmed"),
        ({"last_price": None}, "no price"),
        ({"price_stale": True}, "stale"),
        ({"last_price": D(5998)}, "through the market"),
        ({"last_price": D(5990)}, "through the market"),
        ({"sent_for_change": True}, "already sent"),
    ],
)
def test_every_safety_rule_turns_the_order_into_a_warning(change: dict, reason: str) -> None:
    d = decide_stop(replace(LONG, **change))
    assert d.action == StopAction.WARN and reason in d.reason


def test_nothing_happens_without_a_distance_flat_or_protected() -> None:
    assert decide_stop(replace(LONG, distance_ticks=None)).action == StopAction.NOTHING
    assert decide_stop(replace(LONG, quantity=D(0))).action == StopAction.NOTHING
    assert decide_stop(replace(LONG, other_stop_quantity=D(2))).action == StopAction.NOTHING
    partial = decide_stop(replace(LONG, other_stop_quantity=D(1)))
    assert partial.action == StopAction.WARN and "covers 1 of 2" in partial.reason


def test_an_unknown_tick_size_only_warns() -> None:
    d = decide_stop(replace(LONG, tick=D(0)))  # InstrumentBook's placeholder for a contract it knows nothing of
    assert d.action == StopAction.WARN and "tick size is unknown" in d.reason


def test_grace_period_and_pending_order_wait() -> None:
    assert decide_stop(replace(LONG, missing_for=1.0)).action == StopAction.WAIT
    pending = GuardStop("pending", D(5998), D(2), D(6000))
    assert decide_stop(replace(LONG, guard_stop=pending)).action == StopAction.WAIT
    unknown = decide_stop(replace(LONG, guard_stop=replace(pending, state="unknown")))
    assert unknown.action == StopAction.WARN and "no answer" in unknown.reason


def test_nothing_is_decided_while_the_working_orders_are_unknown() -> None:
    why = "Sierra Chart's open orders are not restated since the logon"
    assert decide_stop(replace(LONG, orders_unknown=why, since_logon=1.0)).action == StopAction.WAIT
    d = decide_stop(replace(LONG, orders_unknown=why, since_logon=10.0))
    assert d.action == StopAction.WARN and why in d.reason  # never SUBMIT: a stop of the trader's may be working
    working = GuardStop("working", D(5998), D(1), D(6000))  # would be resized to 2 if the orders were known
    held = decide_stop(replace(LONG, guard_stop=working, orders_unknown=why, since_logon=10.0))
    assert held.action == StopAction.WARN


def test_the_guards_stop_follows_the_position_size_and_a_new_entry() -> None:
    working = GuardStop("working", D(5998), D(2), D(6000))
    assert decide_stop(replace(LONG, guard_stop=working)).action == StopAction.NOTHING
    out = decide_stop(replace(LONG, quantity=D(1), guard_stop=working))  # scale-out: same entry, same price
    assert (out.action, out.price, out.quantity) == (StopAction.RESIZE, D(5998), D(1))
    trailed = replace(working, price=D("5999.5"))  # the trader moved it: a resize keeps the price
    kept = decide_stop(replace(LONG, quantity=D(1), guard_stop=trailed))
    assert (kept.action, kept.price) == (StopAction.RESIZE, D("5999.5"))
    scaled_in = replace(LONG, quantity=D(3), avg_entry=D(18002) / 3, last_price=D(6002), guard_stop=working)
    d = decide_stop(scaled_in)  # 6,000.67 − 2.00 → 5,998.67, down to the tick
    assert (d.action, d.price, d.quantity) == (StopAction.RESIZE, D("5998.5"), D(3))
    assert decide_stop(replace(scaled_in, cancel_replace_supported=False)).action == StopAction.WARN
    assert decide_stop(replace(scaled_in, price_stale=True)).action == StopAction.WARN


@given(
    avg=st.decimals(min_value=1, max_value=100_000, places=4),
    ticks=st.integers(min_value=1, max_value=400),
    tick=st.sampled_from([D("0.25"), D("0.01"), D("0.1"), D("0.5"), D("1"), D("0.03125")]),
    qty=st.integers(min_value=-50, max_value=50).filter(bool),
)
def test_the_stop_is_on_the_tick_and_at_least_the_distance_away(avg: D, ticks: int, tick: D, qty: int) -> None:
    price = stop_price(avg, D(qty), ticks, tick)
    assert (price / tick) == (price / tick).to_integral_value()
    distance = (avg - price) if qty > 0 else (price - avg)
    assert ticks * tick <= distance < (ticks + 1) * tick


@given(
    facts=st.builds(
        StopFacts,
        quantity=st.integers(min_value=-5, max_value=5).map(D),
        avg_entry=st.just(D(6000)),
        tick=st.sampled_from([TICK, D(0)]),  # 0: a contract the panel knows nothing of
        distance_ticks=st.one_of(st.none(), st.integers(min_value=1, max_value=40)),
        guard_stop=st.one_of(
            st.none(),
            st.builds(
                GuardStop,
                state=st.sampled_from(["pending", "working", "unknown"]),
                price=st.integers(min_value=5980, max_value=6020).map(D),
                quantity=st.integers(min_value=1, max_value=5).map(D),
                avg_entry=st.sampled_from([D(6000), D(5999)]),
            ),
        ),
        armed=st.booleans(),
        other_stop_quantity=st.integers(min_value=0, max_value=3).map(D),
        missing_for=st.floats(min_value=0, max_value=10),
        last_price=st.one_of(st.none(), st.integers(min_value=5980, max_value=6020).map(D)),
        price_stale=st.booleans(),
        confirmed=st.booleans(),
        disputed=st.booleans(),
        seen_open=st.booleans(),
        trading_block=st.sampled_from(["", "Allow Trading = No"]),
        sent_for_change=st.booleans(),
    )
)
def test_an_order_is_only_ever_sent_when_every_rule_allows_it(facts: StopFacts) -> None:
    d = decide_stop(facts)
    if d.action in (StopAction.SUBMIT, StopAction.RESIZE):
        assert facts.armed and facts.confirmed and facts.seen_open and not facts.disputed
        assert not facts.price_stale and not facts.trading_block and not facts.sent_for_change
        assert facts.last_price is not None and d.price is not None and d.quantity == abs(facts.quantity)
        assert facts.tick > 0 and (facts.guard_stop is None) == (d.action == StopAction.SUBMIT)
        assert d.price < facts.last_price if facts.quantity > 0 else d.price > facts.last_price


CLOSED = OrphanFacts(
    closed_sign=1,
    candidates=frozenset({"STP", "TGT"}),
    still_working=frozenset({"STP", "TGT", "NEW"}),
    quantity_now=D(0),
    flat_for=5.0,
    grace=2.0,
    armed=True,
)


def test_orphans_of_a_closed_position_are_cancelled_armed_and_offered_otherwise() -> None:
    d = decide_orphans(CLOSED)
    assert (d.action, d.order_ids) == (OrphanAction.CANCEL, ("STP", "TGT"))  # never "NEW"
    assert decide_orphans(replace(CLOSED, armed=False)).action == OrphanAction.OFFER
    assert decide_orphans(replace(CLOSED, trading_block="Allow Trading = No")).action == OrphanAction.OFFER
    assert decide_orphans(replace(CLOSED, disputed=True)).action == OrphanAction.OFFER
    assert decide_orphans(replace(CLOSED, flat_for=1.0)).action == OrphanAction.WAIT
    assert decide_orphans(replace(CLOSED, still_working=frozenset({"NEW"}))).action == OrphanAction.NOTHING


def test_a_flip_cancels_only_the_closed_sides_orders_and_a_reentry_keeps_them() -> None:
    flipped = decide_orphans(replace(CLOSED, quantity_now=D(-1)))
    assert (flipped.action, flipped.order_ids) == (OrphanAction.CANCEL, ("STP", "TGT"))
    assert decide_orphans(replace(CLOSED, quantity_now=D(2))).action == OrphanAction.NOTHING
    waiting = decide_orphans(replace(CLOSED, pending=frozenset({"STP", "TGT"})))
    assert waiting.action == OrphanAction.WAIT and waiting.order_ids == ()


def test_a_refused_cancel_is_offered_and_never_decided_again() -> None:
    refused = replace(CLOSED, failed=frozenset({"STP"}), failed_reason="the cancel was REJECTED")
    d = decide_orphans(refused)
    assert (d.action, d.order_ids) == (OrphanAction.CANCEL, ("TGT",))  # the other one is still cancelled
    d = decide_orphans(replace(refused, pending=frozenset({"TGT"})))  # the other one's cancel is on its way
    assert (d.action, d.order_ids) == (OrphanAction.OFFER, ("STP",))
    d = decide_orphans(replace(refused, still_working=frozenset({"STP"})))
    assert (d.action, d.order_ids) == (OrphanAction.OFFER, ("STP",)) and "REJECTED" in d.reason


def test_after_a_restart_the_feed_shows_the_guards_lines_again() -> None:
    from datetime import UTC, datetime

    from core.feed_history import note_for
    from data.models import PositionEvent

    line = "SIM Sim1 · stop guard · stop 5,998.00 MESZ25 REJECTED by Sierra Chart: Margin"
    event = PositionEvent(at=datetime.now(UTC), mode="SIM", account="Sim1", symbol="MESZ25", kind="stop_guard",
                          quantity_before=D(1), quantity_after=D(1), reason="rejected", source=line)  # fmt: skip
    note = note_for(event, TICK)
    assert (note.kind, note.text) == ("error", line)
    event.reason = "sent 208"
    assert note_for(event, TICK).kind == "order"

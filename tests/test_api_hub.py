"""The local API's hub on its own: marks thinned to ~10 a second and a tick, changes that are not marks, and the
bound of a client's queue. The whole path (app, simulator, sockets) is in ``test_local_api.py``."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D

from api import hub as hub_module
from api.hub import MARK_INTERVAL_S, StreamHub
from core import events as ev
from core.snapshots import PositionView

NOW = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


def view(price: str | None = None, **changes: object) -> PositionView:
    base = PositionView(
        mode="SIM",
        account="Sim1",
        symbol="MESZ25",
        quantity=D(2),
        avg_entry=D("6000.00"),
        entry_time=NOW,
        realized_in_trade=D(0),
        commissions=D(0),
        point_value=D(5),
        point_value_known=True,
        tick_size=D("0.25"),
        last_price=D(price) if price is not None else None,
        last_price_time=NOW if price is not None else None,
        open_pnl=(D(price) - D("6000.00")) * 2 * 5 if price is not None else None,
    )
    return replace(base, **changes)


def update(seq: int, *events: ev.Event) -> ev.Update:
    return ev.Update(seq, NOW, events=events)


def sent(hub: StreamHub, client) -> list[dict]:  # type: ignore[no-untyped-def]
    out = [json.loads(data) for _, data in client.queue]
    client.queue.clear()
    return out


def test_marks_at_most_every_interval_on_a_tick_and_the_last_price_always_follows() -> None:
    async def run() -> tuple[list[dict], float]:
        hub = StreamHub()
        hub.apply(update(1, ev.PositionOpened(view())))
        client, _ = hub.add_client("test")
        began = asyncio.get_running_loop().time()
        price = D("6000.00")
        for i in range(60):  # a price every 5 ms, one tick up each time, for 0.3 s
            price += D("0.25")
            hub.apply(update(2 + i, ev.MarksUpdated((view(str(price)),))))
            await asyncio.sleep(0.005)
        await asyncio.sleep(MARK_INTERVAL_S * 1.5)  # the held-back last mark follows
        elapsed = asyncio.get_running_loop().time() - began
        return sent(hub, client), elapsed

    events, elapsed = asyncio.run(run())
    marks = [e for e in events if e["type"] == "mark_updated"]
    assert 2 <= len(marks) <= elapsed / MARK_INTERVAL_S + 2
    assert marks[-1]["mark"]["last_price"] == "6015.00"  # 60 ticks up: the client ends on the last price
    assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + len(events)))


def test_the_same_price_again_sends_nothing_a_stale_price_or_a_confirmation_does() -> None:
    async def run() -> list[dict]:
        hub = StreamHub()
        hub.apply(update(1, ev.PositionOpened(view("6001.00"))))
        client, _ = hub.add_client("test")
        await asyncio.sleep(MARK_INTERVAL_S * 1.2)
        hub.apply(update(2, ev.MarksUpdated((view("6001.00"),))))  # the clock's re-publication: no change
        await asyncio.sleep(MARK_INTERVAL_S * 1.2)
        hub.apply(update(3, ev.MarksUpdated((view("6001.00", last_price_stale=True),))))
        await asyncio.sleep(MARK_INTERVAL_S * 1.2)
        hub.apply(update(4, ev.MarksUpdated((view("6001.00", last_price_stale=True, confirmed=False),))))
        await asyncio.sleep(MARK_INTERVAL_S * 1.2)
        return sent(hub, client)

    events = asyncio.run(run())
    assert [e["type"] for e in events] == ["mark_updated", "position_changed"]
    assert events[0]["mark"]["last_price_stale"] is True
    assert events[1]["position"]["confirmed"] is False


def test_a_full_queue_drops_only_that_client(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(hub_module, "MAX_QUEUED_EVENTS", 5)

    async def run() -> tuple[StreamHub, object, object]:
        hub = StreamHub()
        slow, _ = hub.add_client("slow")
        hub.apply(update(1, ev.PositionOpened(view())))
        fast, _ = hub.add_client("fast")
        for i in range(5):
            hub.apply(update(2 + i, ev.PositionChanged(view(quantity=D(3 + i)))))
            if i < 4:
                fast.queue.clear()  # this one keeps up
        return hub, slow, fast

    hub, slow, fast = asyncio.run(run())
    assert slow.ending is not None and slow.ending["type"] == "dropped" and not slow.queue  # type: ignore[attr-defined]
    assert fast.ending is None and len(fast.queue) == 1  # type: ignore[attr-defined]
    assert hub.dropped_clients == 1


def test_an_unknown_instrument_the_same_price_again_sends_nothing_a_new_price_does() -> None:
    """tick_size 0: the panel does not know the instrument's tick; a mark follows any change, not a repeat."""

    async def run() -> list[dict]:
        hub = StreamHub()
        unknown = {"tick_size": D(0)}
        hub.apply(update(1, ev.PositionOpened(view("6001.00", **unknown))))
        client, _ = hub.add_client("test")
        for i in range(4):  # the clock re-publishes the same price (once a second in the app)
            await asyncio.sleep(MARK_INTERVAL_S * 1.2)
            hub.apply(update(2 + i, ev.MarksUpdated((view("6001.00", **unknown),))))
        await asyncio.sleep(MARK_INTERVAL_S * 1.2)
        hub.apply(update(9, ev.MarksUpdated((view("6001.10", **unknown),))))  # any move: a mark
        await asyncio.sleep(MARK_INTERVAL_S * 1.2)
        return sent(hub, client)

    events = asyncio.run(run())
    assert [(e["type"], e["mark"]["last_price"]) for e in events] == [("mark_updated", "6001.10")]

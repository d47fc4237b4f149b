"""Working orders from ORDER_UPDATE (301): the bracket of a position, the stop at entry for R, orphans."""

from __future__ import annotations

from decimal import Decimal as D

from core.fills import FillFactory
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.resync import ResyncController
from core.router import MessageRouter
from core.settings import Settings
from core.state import StateManager
from data.db import make_engine
from data.repository import PositionStore
from dtc.messages import OrderUpdate


def build(settings: Settings) -> tuple[StateManager, MessageRouter, PositionStore]:
    store = PositionStore(make_engine(settings.data_dir))
    instruments = InstrumentBook()
    state = StateManager(store, instruments, ModeClassifier())
    router = MessageRouter(
        state,
        FillFactory(instruments, lambda _root: D(0)),
        ResyncController(lambda _m: None, state, store),
        instruments,
    )
    return state, router, store


def order(server_id: str, status: int, side: int, order_type: int, price: float | None, **extra: object) -> OrderUpdate:
    return OrderUpdate(ServerOrderID=server_id, TradeAccount="120005", Symbol="MESZ25", OrderStatus=status,
                       OrderUpdateReason=extra.pop("reason", 3), BuySell=side, OrderType=order_type, Price1=price,
                       OrderQuantity=2.0, **extra)  # type: ignore[arg-type]  # fmt: skip


def fill(server_id: str, side: int, qty: float, price: float, exec_id: str) -> OrderUpdate:
    return order(server_id, 7, side, 1, None, reason=4, LastFillQuantity=qty, LastFillPrice=price,
                 LastFillExecutionID=exec_id, FilledQuantity=qty)  # fmt: skip


def test_bracket_gives_stop_target_risk_and_r_then_orphans_are_flagged(settings: Settings) -> None:
    state, router, store = build(settings)
    # a bracket: stop and target wait for the parent entry order
    router.route(order("STP1", 3, 2, 3, 5990.00, ParentServerOrderID="ENT1"))
    router.route(order("TGT1", 3, 2, 2, 6020.00, ParentServerOrderID="ENT1", OCOLinkedOrderServerOrderID="STP1"))
    router.route(fill("ENT1", 1, 2, 6000.00, "X1"))  # long 2 @ 6000
    router.route(order("STP1", 4, 2, 3, 5990.00, ParentServerOrderID="ENT1"))  # children now working
    view = state.snapshot().positions[0]
    assert (view.stop_price, view.target_price) == (D("5990.0"), D("6020.0"))
    assert view.initial_risk == D(100)  # (6000 − 5990) × 2 × $5
    router.route(order("STP1", 4, 2, 3, 5995.00, ParentServerOrderID="ENT1"))  # trailing the stop up
    assert state.snapshot().positions[0].stop_price == D("5990.0")  # R keeps the stop at entry
    assert state.snapshot().orphan_orders == ()
    router.route(fill("TGT1", 2, 2, 6020.00, "X2"))  # target fills: +$200
    state.end_of_chunk()  # the DTC thread stores the chunk's fills when the chunk ends
    (trade,) = store.trades("LIVE", "120005")
    assert (trade.stop_price, trade.initial_risk, trade.r_multiple) == (D("5990.0"), D(100), D(2))
    # the platform did not cancel the stop: it is working on a flat position
    assert state.snapshot().orphan_orders == ("120005 MESZ25: stop sell @ 5,995.00 working on a flat position",)
    router.route(order("STP1", 8, 2, 3, 5995.00, reason=6))  # canceled
    assert state.snapshot().orphan_orders == ()

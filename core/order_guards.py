"""``OrderGuards``: the stop guard and the orphan cleanup at work (issue 17) — the only code that sends orders.

Runs on the DTC thread: ``tick`` (every ~100 ms) gathers the facts of every open position and of every position
that just closed, asks ``core.order_guard`` what to do, sends SUBMIT_NEW_SINGLE_ORDER (208), CANCEL_REPLACE_ORDER
(204) or CANCEL_ORDER (203) through ``send`` (the DTC client's queue), and follows the answers through
``on_order_update`` (ORDER_UPDATE 301). The GUI thread only queues requests (``arm``, ``cancel_orphans``).

Safety rules (README "Protective stop guard and orphan cleanup"): both features are off for every account at
start (arming is never stored); arming a LIVE account needs the trader's confirmation naming the account; a
logon with ``TradingIsSupported`` 0 or an account with ``TradingIsDisabled`` turns both into warnings only; every
order sent, every answer and every decision not to send is an audit event (``PositionEvent`` kind ``stop_guard``
or ``orphan_cleanup``) and a feed line — a decision once per position change and reason, not once per tick.

The guard's orders carry a ``ClientOrderID`` ``DTCP-<start>-<n>`` (unique for the trading session) and the
``FreeFormText`` "DTC Panel stop guard".
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from core.accounting import Position
from core.guard_views import (
    CLEANUP,
    FEATURES,
    STOP_GUARD,
    GuardConfig,
    GuardView,
    OrphanOffer,
    PositionGuard,
)
from core.instruments import InstrumentBook
from core.order_guard import (
    GuardStop,
    OrphanAction,
    OrphanFacts,
    StopAction,
    StopDecision,
    StopFacts,
    decide_orphans,
    decide_stop,
)
from core.orders import WorkingOrder
from core.state import StateManager
from core.units import format_price
from data.models import PositionEvent
from data.repository import PositionStore, StorageError
from dtc.messages import CancelOrder, CancelReplaceOrder, DTCMessage, LogonResponse, OrderUpdate, SubmitNewSingleOrder
from dtc.types import (
    BuySellEnum,
    OpenCloseTradeEnum,
    OrderStatusEnum,
    OrderTypeEnum,
    OrderUpdateReasonEnum,
    TimeInForceEnum,
)

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (mode, account, symbol)
FREE_FORM_TEXT = "DTC Panel stop guard"
ANSWER_TIMEOUT_SECONDS = 5.0
"""An order message of the guard (208, 204, 203) with no ORDER_UPDATE answer after this long is an alarm, once; it
is never sent again by itself (the order may work unseen)."""
UNSURE = frozenset({"unknown", "unconfirmed"})
"""States of a guard stop whose working is not known: no answer, or not restated since the logon."""
WORKING_STATUSES = frozenset(
    {
        OrderStatusEnum.ORDER_STATUS_PENDING_OPEN,
        OrderStatusEnum.ORDER_STATUS_OPEN,
        OrderStatusEnum.ORDER_STATUS_PENDING_CANCEL_REPLACE,
        OrderStatusEnum.ORDER_STATUS_PENDING_CANCEL,
        OrderStatusEnum.ORDER_STATUS_PARTIALLY_FILLED,
    }
)


@dataclass
class _GuardOrder:
    """One order the guard sent (a stop) or a cancel it sent (``kind`` "cancel")."""

    client_id: str
    key: Key
    kind: str
    state: str
    price: Decimal
    quantity: Decimal
    avg_entry: Decimal
    side: int
    server_id: str = ""
    target: tuple[Decimal, Decimal] | None = None
    """A resize in flight: (price, quantity) asked for with 204."""
    sent_at: float = 0.0
    """Monotonic seconds when the last message for it was sent (for ``ANSWER_TIMEOUT_SECONDS``)."""
    order_client_id: str = ""
    """A cancel: the ``ClientOrderID`` of the order it cancels (a cancel reject need not carry ServerOrderID)."""


@dataclass
class _Closed:
    """A position that closed (or flipped): its closing-side stop/target orders working just before."""

    closed_sign: int
    candidates: frozenset[str]
    at: float
    described: dict[str, str]
    client_ids: dict[str, str]
    sent: set[str] = field(default_factory=set)
    said: str = ""
    failed: dict[str, str] = field(default_factory=dict)
    """ServerOrderID → why its cancel failed (refused, or no answer): offered, never cancelled by itself again."""


def describe_order(o: WorkingOrder, tick: Decimal | None) -> str:
    kind = "stop" if o.is_stop else "target"
    side = "buy" if o.side > 0 else "sell"
    size = f" {o.quantity.normalize():f}" if o.quantity is not None else ""
    return f"{kind} {side}{size} @ {format_price(o.price, tick)}"


class OrderGuards:
    """The stop guard and the orphan cleanup of every account. ``send`` queues a message for the DTC thread;
    ``clock`` is monotonic seconds. Listeners (``subscribe``) get a ``GuardView`` whenever it changes."""

    def __init__(
        self,
        state: StateManager,
        store: PositionStore,
        instruments: InstrumentBook,
        send: Callable[[DTCMessage], None],
        config: GuardConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._state, self._store, self._instruments, self._send = state, store, instruments, send
        self.config = config or GuardConfig()
        self._clock = clock
        self.stop_armed: set[str] = set()
        self.cleanup_armed: set[str] = set()
        self.trading_supported: bool | None = None
        """LOGON_RESPONSE.TradingIsSupported of the current connection; ``None`` while not logged on."""
        self.cancel_replace_supported = True
        self._requests: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._listeners: list[Callable[[GuardView], None]] = []
        self._sent_view: GuardView | None = None
        self._prefix = f"DTCP-{int(time.time())}-"
        self._next = 1
        self._orders: dict[str, _GuardOrder] = {}  # by ClientOrderID (cancels by "cancel:<ServerOrderID>")
        self._stop_of: dict[Key, str] = {}
        self._by_server: dict[str, str] = {}
        self._sig: dict[Key, tuple[Decimal, Decimal, datetime]] = {}
        self._change: dict[Key, int] = {}
        self._sent_change: dict[Key, int] = {}
        self._missing_since: dict[Key, float] = {}
        self._said: dict[Key, str] = {}
        self._alarm: dict[Key, str] = {}
        self._cards: dict[Key, PositionGuard] = {}
        self._closed: dict[tuple[str, str], _Closed] = {}
        self._brackets: dict[tuple[str, str], tuple[int, dict[str, WorkingOrder]]] = {}
        self._refusal = ""
        self._logged_on_at: float | None = None
        self._restate_said = False
        self._restated = False
        """Sierra Chart's open orders (OPEN_ORDERS_REQUEST 300) were answered completely since the logon."""

    # --- GUI thread: requests ----------------------------------------------------------------------

    def subscribe(self, listener: Callable[[GuardView], None]) -> None:
        self._listeners.append(listener)

    def arm(self, feature: str, account: str, armed: bool, confirmed_account: str = "") -> None:
        """Queue arming (``armed``) or disarming of ``feature`` (``STOP_GUARD``/``CLEANUP``) for ``account``.
        A LIVE account is armed only when ``confirmed_account`` names it (the confirmation dialog's answer)."""
        self._requests.put(lambda: self._arm(feature, account, armed, confirmed_account))

    def set_config(self, config: GuardConfig) -> None:
        """New distances or grace periods (the settings dialog), from the next tick on."""
        self._requests.put(lambda: setattr(self, "config", config))

    def cancel_orphans(self, account: str, symbol: str) -> None:
        """Queue the trader's one click on "Cancel orphaned orders" of (account, symbol)."""
        self._requests.put(lambda: self._cancel_offered(account, symbol))

    # --- DTC thread ----------------------------------------------------------------------------------

    def on_logon(self, msg: LogonResponse) -> None:
        """A successful logon: the order book is empty until Sierra Chart restates its open orders, so every
        stop of the guard is unknown until then (``_settle_unknown``)."""
        self._logged_on_at = self._clock()
        self._restated = self._restate_said = False
        self._mark_unknown()
        self.trading_supported = bool(msg.TradingIsSupported)
        self.cancel_replace_supported = bool(msg.OrderCancelReplaceSupported)
        if not self.trading_supported:
            text = (
                "Sierra Chart's logon says TradingIsSupported 0 (Allow Trading = No): "
                "the stop guard and the orphan cleanup only warn"
            )
            self._record(None, "", "", STOP_GUARD, "warnings only", text, "warning")

    def on_disconnected(self) -> None:
        """The link dropped: stops sent without an answer are unknown (never sent again for that position change);
        cancels without an answer are forgotten (after the reconnect the still-working orphans are decided again)."""
        self.trading_supported = None
        self._logged_on_at = None
        self._restated = False
        for cid, order in list(self._orders.items()):
            if order.kind == "cancel":
                del self._orders[cid]
        self._mark_unknown()
        for case in self._closed.values():
            case.sent.clear()

    def _mark_unknown(self) -> None:
        """Working stops of the guard are "unconfirmed" until Sierra Chart's open orders restate them (a stop may
        be cancelled or filled while the link is down); a stop still awaiting its answer stays pending."""
        for order in self._orders.values():
            if order.kind == "stop" and order.state == "working":
                order.state = "unconfirmed"

    def _settle_unknown(self) -> None:
        """Sierra Chart's open orders were restated completely: a stop of the guard that worked before the link
        dropped and is not among them is not working at Sierra Chart — forgotten, and an alarm on the position's
        card and in the feed (nothing is sent again for the same position change)."""
        for order in list(self._orders.values()):
            if order.kind == "stop" and order.state == "unconfirmed":
                order.state = "lost"
                self._forget(order)
                key = order.key
                tick = self._instruments.lookup(key[2]).tick_size
                text = (
                    f"{key[0]} {key[1]} · stop guard · its stop {format_price(order.price, tick)} {key[2]} "
                    f"(ClientOrderID {order.client_id}) is NOT working at Sierra Chart after the reconnect (not in "
                    "its open orders) — the position has no stop of the guard"
                )
                self._alarm[key] = "STOP GONE: not in Sierra Chart's open orders after the reconnect"
                self._record(self._state.position(*key), key[1], key[2], STOP_GUARD, "not working", text, "error")

    def on_order_update(self, msg: OrderUpdate) -> None:
        """An ORDER_UPDATE (301): follow the guard's own orders and the cancels it sent."""
        restated = bool(msg.RequestID) and msg.OrderUpdateReason == OrderUpdateReasonEnum.OPEN_ORDERS_REQUEST_RESPONSE
        restated = restated and (bool(msg.NoOrders) or msg.MessageNumber >= msg.TotalNumMessages)
        if not msg.NoOrders:
            self._follow(msg)
        if restated and not self._restated:  # the last message of the 300's answer: the book is complete
            self._restated = True
            self._settle_unknown()

    def _follow(self, msg: OrderUpdate) -> None:
        cid = msg.ClientOrderID if msg.ClientOrderID in self._orders else self._by_server.get(msg.ServerOrderID, "")
        stop = self._orders.get(cid)
        if stop is not None and stop.kind == "stop":
            self._stop_answer(stop, msg)
        cancel = self._orders.get(f"cancel:{msg.ServerOrderID}") if msg.ServerOrderID else None
        if cancel is None and msg.OrderUpdateReason == OrderUpdateReasonEnum.ORDER_CANCEL_REJECTED:
            # a reject is only sure to carry the ClientOrderID (dtc-protocol §7.6): the cancelled order's
            cancel = next(
                (o for o in self._orders.values() if o.kind == "cancel" and o.order_client_id == msg.ClientOrderID),
                None,
            ) if msg.ClientOrderID and not msg.ServerOrderID else None  # fmt: skip
        if cancel is not None:
            self._cancel_answer(cancel, msg)

    def tick(self) -> None:
        """Carry out queued requests, then decide for every position (and every just-closed one)."""
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                break
            request()
        positions, confirmed, disputed, seen = self._state.order_guard_facts()
        now = self._clock()
        self._check_answers(now)
        self._note_closes(positions, now)
        cards: dict[Key, PositionGuard] = {}
        for key, position in positions.items():
            card = self._guard_position(key, position, confirmed.get(key, False), key in disputed, key in seen, now)
            if card is not None:
                cards[key] = card
        self._cards = cards
        for key in [k for k in self._sig if k not in positions]:  # closed: a reopening is a new position
            for table in (self._sig, self._missing_since, self._said, self._alarm):
                table.pop(key, None)
        offers = self._cleanup(positions, disputed, now)
        self._publish(offers)

    # --- stop guard ------------------------------------------------------------------------------------

    def _trading_block(self, account: str) -> str:
        """Why no order may be sent for ``account`` now ("" when one may)."""
        if self.trading_supported is False:
            return "Sierra Chart does not support trading on this connection (Allow Trading = No)"
        unknown = self._orders_unknown()
        if unknown:
            return unknown
        if account in self._disabled_accounts():
            return f"trading is disabled for {account} (TradingIsDisabled)"
        return ""

    def _check_answers(self, now: float) -> None:
        """An order message without an answer after ``ANSWER_TIMEOUT_SECONDS``: one alarm; the stop is "unknown"
        (a late answer or the restated open orders settle it), an orphan's cancel is offered to the trader.
        Nothing is sent again by itself."""
        for order in list(self._orders.values()):
            if order.state != "pending" or now - order.sent_at < ANSWER_TIMEOUT_SECONDS:
                continue
            key, waited = order.key, f"{ANSWER_TIMEOUT_SECONDS:.0f} s"
            if order.kind == "cancel":
                order.state = "unanswered"
                case = self._closed.get(key[1:])
                what = case.described.get(order.server_id, order.server_id) if case else order.server_id
                if case is not None:
                    case.sent.discard(order.server_id)
                    case.failed[order.server_id] = "no answer from Sierra Chart to the cancel"
                text = (
                    f"{key[1]} {key[2]} · orphan cleanup: no answer from Sierra Chart to the cancel of {what} "
                    f"(ServerOrderID {order.server_id}) within {waited} — not sent again; offered to you"
                )
                self._record(None, key[1], key[2], CLEANUP, "no answer", text, "error")
                continue
            what = "the resize of its stop" if order.target is not None else "stop"
            order.state, order.target = "unknown", None
            tick = self._instruments.lookup(key[2]).tick_size
            text = (
                f"{key[0]} {key[1]} · stop guard · no answer from Sierra Chart to {what} "
                f"{format_price(order.price, tick)} {key[2]} ClientOrderID {order.client_id} within {waited} — "
                "unknown whether it works; not sent again"
            )
            self._alarm[key] = f"NO ANSWER from Sierra Chart to {what} {order.client_id}"
            self._record(self._state.position(*key), key[1], key[2], STOP_GUARD, "no answer", text, "error")

    def _orders_unknown(self) -> str:
        """Why Sierra Chart's working orders are not known ("" when its open orders were restated since the
        logon): the panel's order book is cleared at each logon (``core/router.py``)."""
        if self.trading_supported is None:
            return "not logged on to Sierra Chart"
        if not self._restated:
            return "Sierra Chart's open orders are not restated since the logon"
        return ""

    def _disabled_accounts(self) -> frozenset[str]:
        return frozenset(a.account for a in self._state.scope.account_views() if a.trading_disabled)

    def _guard_position(
        self, key: Key, position: Position, confirmed: bool, disputed: bool, seen: bool, now: float
    ) -> PositionGuard | None:
        _, account, symbol = key
        sig = (position.quantity, position.avg_entry, position.entry_time)  # a new trade has a new entry time
        if self._sig.get(key) != sig:  # a position change: one more chance to act, and a clean slate to say
            self._sig[key] = sig
            self._change[key] = self._change.get(key, 0) + 1
            self._said.pop(key, None)
            self._alarm.pop(key, None)
        distance = self.config.distance(account, symbol)
        if distance is None:
            return None
        sign = 1 if position.quantity > 0 else -1
        ours = self._orders.get(self._stop_of.get(key, ""))
        closing = [
            o
            for o in self._state.orders.orders_for(account, symbol)
            if o.side == -sign and o.is_stop and not o.pending_child
        ]
        if ours is not None and ours.side != -sign:  # the position flipped: the old stop is not this one's
            ours = None
            self._stop_of.pop(key, None)
        if ours is None:
            ours = self._take_back(key, position, closing)
        mine = {ours.server_id, ours.client_id} - {""} if ours is not None else set()
        # every working closing-side stop but the one the guard follows protects the position, a stop the guard
        # placed for an earlier position of this symbol too (never a second stop beside it)
        other = sum(
            (o.quantity or Decimal(0) for o in closing if not {o.server_order_id, o.client_order_id} & mine),
            Decimal(0),
        )
        if ours is None and other == 0:
            self._missing_since.setdefault(key, now)
        else:
            self._missing_since.pop(key, None)
        best = self._state.prices.best(symbol)
        tick = self._instruments.lookup(symbol).tick_size
        facts = StopFacts(
            quantity=position.quantity,
            avg_entry=position.avg_entry,
            tick=tick,
            distance_ticks=distance,
            armed=account in self.stop_armed,
            guard_stop=GuardStop(ours.state, ours.price, ours.quantity, ours.avg_entry) if ours else None,
            other_stop_quantity=other,
            missing_for=now - self._missing_since.get(key, now),
            grace=self.config.stop_grace,
            last_price=best[0].price if best else None,
            price_stale=bool(best and best[1]),
            confirmed=confirmed,
            disputed=disputed,
            seen_open=seen,
            trading_block=self._trading_block(account),
            sent_for_change=self._sent_change.get(key) == self._change[key],
            cancel_replace_supported=self.cancel_replace_supported,
            orders_unknown=self._orders_unknown(),
            since_logon=now - self._logged_on_at if self._logged_on_at is not None else 0.0,
        )
        decision = decide_stop(facts)
        if decision.action == StopAction.SUBMIT:
            self._submit(key, position, decision)
        elif decision.action == StopAction.RESIZE and ours is not None:
            self._resize(ours, position, decision)
        elif decision.action == StopAction.WARN and self._said.get(key) != decision.reason:
            self._said[key] = decision.reason
            what = self._stop_text(key, decision)
            self._record(position, account, symbol, STOP_GUARD, "not sent", f"{what}: {decision.reason}", "unprotected")
        return self._card(key, decision, ours, tick)

    def _take_back(self, key: Key, position: Position, closing: list[WorkingOrder]) -> _GuardOrder | None:
        """A stop the guard placed for an earlier position of ``key`` on this side (a flip and a flip back) that
        is still working: the guard follows it again instead of sending another."""
        working = {o.server_order_id for o in closing}  # closing side of this position only
        for order in self._orders.values():
            if order.kind == "stop" and order.key == key and order.state == "working" and order.server_id in working:
                self._stop_of[key] = order.client_id
                tick = self._instruments.lookup(key[2]).tick_size
                text = (
                    f"{key[0]} {key[1]} · stop guard · its stop {order.quantity.normalize():f} @ "
                    f"{format_price(order.price, tick)} {key[2]} (ServerOrderID {order.server_id}) still works: "
                    "it protects the position again, no other stop sent"
                )
                self._record(position, key[1], key[2], STOP_GUARD, "taken back", text, "order")
                return order
        return None

    def _stop_text(self, key: Key, d: StopDecision) -> str:
        tick = self._instruments.lookup(key[2]).tick_size
        side = "BUY" if d.side > 0 else "SELL"
        size = f"{d.quantity.normalize():f}" if d.quantity is not None else "?"
        return f"{key[0]} {key[1]} · stop guard · {side} STOP {size} {key[2]} @ {format_price(d.price, tick)}"

    def _card(self, key: Key, d: StopDecision, ours: _GuardOrder | None, tick: Decimal) -> PositionGuard:
        alarm = self._alarm.get(key)
        armed = "ARMED" if key[1] in self.stop_armed else "not armed"
        if alarm:
            level, text = "alarm", alarm
        elif d.action == StopAction.WARN and (self._orders_unknown() or (ours and ours.state in UNSURE)):
            level, text = "warn", f"STOP UNKNOWN — {d.reason}"
        elif d.action == StopAction.WARN:
            level, text = "warn", f"NO STOP — {d.reason}"
        elif d.action == StopAction.WAIT:
            level, text = "wait", f"Stop guard ({armed}): {d.reason}"
        elif ours is not None and ours.state == "working":
            level = "ok"
            size = f"{ours.quantity.normalize():f}"
            text = f"Stop guard ({armed}): its stop {size} @ {format_price(ours.price, tick)} working"
        elif d.action in (StopAction.SUBMIT, StopAction.RESIZE):
            level, text = "wait", f"Stop guard ({armed}): order sent, waiting for Sierra Chart"
        else:
            level, text = "ok", f"Stop guard ({armed}): protected"
        return PositionGuard(key[0], key[1], key[2], level, text)

    def _new_id(self) -> str:
        cid = f"{self._prefix}{self._next}"
        self._next += 1
        return cid

    def _submit(self, key: Key, position: Position, d: StopDecision) -> None:
        assert d.price is not None and d.quantity is not None
        cid = self._new_id()
        message = SubmitNewSingleOrder(
            Symbol=key[2],
            TradeAccount=key[1],
            ClientOrderID=cid,
            OrderType=OrderTypeEnum.ORDER_TYPE_STOP,
            BuySell=BuySellEnum.BUY if d.side > 0 else BuySellEnum.SELL,
            Price1=float(d.price),
            Quantity=float(d.quantity),
            TimeInForce=TimeInForceEnum.TIF_GOOD_TILL_CANCELED,
            IsAutomatedOrder=1,
            FreeFormText=FREE_FORM_TEXT,
            OpenOrClose=OpenCloseTradeEnum.TRADE_CLOSE,
        )
        self._orders[cid] = _GuardOrder(
            cid, key, "stop", "pending", d.price, d.quantity, position.avg_entry, d.side, sent_at=self._clock()
        )
        self._stop_of[key] = cid
        self._sent_change[key] = self._change[key]
        self._send(message)
        text = f"{self._stop_text(key, d)} sent (SUBMIT_NEW_SINGLE_ORDER, ClientOrderID {cid})"
        self._record(position, key[1], key[2], STOP_GUARD, "sent 208", text, "order")

    def _resize(self, ours: _GuardOrder, position: Position, d: StopDecision) -> None:
        assert d.price is not None and d.quantity is not None
        message = CancelReplaceOrder(
            ServerOrderID=ours.server_id,
            ClientOrderID=ours.client_id,
            Price1=float(d.price),
            Quantity=float(d.quantity),
            Price1IsSet=1,
            Price2IsSet=0,
            TimeInForce=TimeInForceEnum.TIF_GOOD_TILL_CANCELED,
            TradeAccount=ours.key[1],
        )
        ours.state, ours.target, ours.sent_at = "pending", (d.price, d.quantity), self._clock()
        ours.avg_entry = position.avg_entry
        self._sent_change[ours.key] = self._change[ours.key]
        self._send(message)
        text = (
            f"{self._stop_text(ours.key, d)} — resize of its stop {ours.quantity.normalize():f} sent "
            f"(CANCEL_REPLACE_ORDER, ServerOrderID {ours.server_id})"
        )
        self._record(position, ours.key[1], ours.key[2], STOP_GUARD, "sent 204", text, "order")

    def _stop_answer(self, order: _GuardOrder, msg: OrderUpdate) -> None:
        key, reason = order.key, msg.OrderUpdateReason
        if self._alarm.get(key, "").startswith("NO ANSWER"):  # a late answer: what it says is shown instead
            del self._alarm[key]
        if msg.ServerOrderID and not order.server_id:
            order.server_id = msg.ServerOrderID
            self._by_server[msg.ServerOrderID] = order.client_id
        position = self._state.position(*key)
        tick = self._instruments.lookup(key[2]).tick_size
        what = f"{key[0]} {key[1]} · stop guard · stop {format_price(order.price, tick)} {key[2]}"
        info = f": {msg.InfoText}" if msg.InfoText else ""
        if reason == OrderUpdateReasonEnum.NEW_ORDER_REJECTED:
            order.state = "rejected"
            self._forget(order)
            text = f"{what} REJECTED by Sierra Chart{info} — the position has NO protective stop"
            self._alarm[key] = f"STOP REJECTED{info}"
            self._record(position, key[1], key[2], STOP_GUARD, "rejected", text, "error")
        elif reason == OrderUpdateReasonEnum.ORDER_CANCEL_REPLACE_REJECTED:
            order.state, order.target = "working", None
            text = f"{what}: resize REJECTED by Sierra Chart{info}"
            self._alarm[key] = f"STOP RESIZE REJECTED{info}"
            self._record(position, key[1], key[2], STOP_GUARD, "resize rejected", text, "error")
        elif reason == OrderUpdateReasonEnum.ORDER_CANCEL_REPLACE_COMPLETE:
            price = Decimal(str(msg.Price1)) if msg.Price1 else (order.target or (order.price,))[0]
            quantity = Decimal(str(msg.OrderQuantity)) if msg.OrderQuantity else order.quantity
            order.state, order.price, order.quantity, order.target = "working", price, quantity, None
            text = f"{what}: Sierra Chart resized it to {quantity.normalize():f} @ {format_price(price, tick)}"
            self._record(position, key[1], key[2], STOP_GUARD, "resized", text, "order")
        elif reason in (OrderUpdateReasonEnum.ORDER_FILLED, OrderUpdateReasonEnum.ORDER_FILLED_PARTIALLY):
            if msg.OrderStatus == OrderStatusEnum.ORDER_STATUS_FILLED:
                order.state = "filled"
                self._forget(order)
            self._record(position, key[1], key[2], STOP_GUARD, "filled", f"{what} filled", "order")
        elif reason == OrderUpdateReasonEnum.ORDER_CANCELED or msg.OrderStatus == OrderStatusEnum.ORDER_STATUS_CANCELED:
            order.state = "canceled"
            self._forget(order)
            self._record(position, key[1], key[2], STOP_GUARD, "canceled", f"{what} canceled{info}", "order")
        elif msg.OrderStatus in WORKING_STATUSES:
            was = order.state
            order.state = "working" if order.target is None else "pending"
            if reason == OrderUpdateReasonEnum.OPEN_ORDERS_REQUEST_RESPONSE:  # restated: as Sierra Chart has it
                order.price = Decimal(str(msg.Price1)) if msg.Price1 else order.price
                order.quantity = Decimal(str(msg.OrderQuantity)) if msg.OrderQuantity else order.quantity
                if was != "working":
                    text = f"{what} {order.quantity.normalize():f} restated working by Sierra Chart after the logon"
                    self._record(position, key[1], key[2], STOP_GUARD, "restated", text, "order")
            elif was != "working":
                text = (
                    f"{what} {order.quantity.normalize():f} accepted by Sierra Chart (ServerOrderID {order.server_id})"
                )
                self._record(position, key[1], key[2], STOP_GUARD, "accepted", text, "order")

    def _forget(self, order: _GuardOrder) -> None:
        if self._stop_of.get(order.key) == order.client_id:
            del self._stop_of[order.key]

    # --- orphan cleanup ----------------------------------------------------------------------------------

    def _note_closes(self, positions: dict[Key, Position], now: float) -> None:
        """Remember, per (account, symbol), the closing-side brackets of each open position; when it closes or
        flips, they become the candidates of the cleanup."""
        open_now = {(k[1], k[2]): p for k, p in positions.items()}
        for pair, (sign, brackets) in list(self._brackets.items()):
            position = open_now.get(pair)
            if position is not None and (position.quantity > 0) == (sign > 0):
                continue
            del self._brackets[pair]
            if brackets:
                tick = self._instruments.lookup(pair[1]).tick_size
                described = {oid: describe_order(o, tick) for oid, o in brackets.items()}
                client_ids = {oid: o.client_order_id for oid, o in brackets.items()}
                self._closed[pair] = _Closed(sign, frozenset(brackets), now, described, client_ids)
        for pair, position in open_now.items():
            if self._orders_unknown() and pair in self._brackets:
                continue  # the book was cleared at the logon: keep the brackets last seen until it is restated
            sign = 1 if position.quantity > 0 else -1
            brackets = {
                o.server_order_id: o
                for o in self._state.orders.orders_for(*pair)
                if o.side == -sign and (o.is_stop or o.is_target) and not o.pending_child
            }
            self._brackets[pair] = (sign, brackets)

    def _cleanup(self, positions: dict[Key, Position], disputed: frozenset[Key], now: float) -> tuple[OrphanOffer, ...]:
        open_now = {(k[1], k[2]): p.quantity for k, p in positions.items()}
        offers = []
        unknown = self._orders_unknown()
        for pair, case in list(self._closed.items()):
            account, symbol = pair
            if unknown:  # the book was cleared at the logon: no decision (and no case dropped) until restated
                lines = tuple(case.described[i] for i in sorted(case.candidates))
                offers.append(OrphanOffer(account, symbol, lines, f"on hold: {unknown}"))
                continue
            working = self._working_ids(pair)
            decision = decide_orphans(
                self._orphan_facts(pair, case, working, open_now.get(pair, Decimal(0)), disputed, now - case.at)
            )
            if decision.action == OrphanAction.NOTHING:
                if decision.reason and case.candidates & working:
                    self._record(None, account, symbol, CLEANUP, "kept", f"{account} {symbol} · orphan cleanup: "
                                 f"orders kept: {decision.reason}", "warning")  # fmt: skip
                del self._closed[pair]
                continue
            lines = tuple(case.described[i] for i in sorted(case.candidates & working))
            if decision.action == OrphanAction.CANCEL:
                self._send_cancels(account, symbol, case, decision.order_ids, "armed")
                offers.append(OrphanOffer(account, symbol, lines, "cancelling (orphan cleanup armed)", True))
            elif decision.action == OrphanAction.OFFER:
                if case.said != decision.reason:
                    case.said = decision.reason
                    text = f"{account} {symbol} · orphan cleanup: {'; '.join(lines)} still working on a closed " \
                           f"position — not cancelled: {decision.reason}"  # fmt: skip
                    self._record(None, account, symbol, CLEANUP, "offered", text, "unprotected")
                offers.append(OrphanOffer(account, symbol, lines, decision.reason))
            else:
                offers.append(OrphanOffer(account, symbol, lines, decision.reason, bool(case.sent)))
        return tuple(offers)

    def _cancel_offered(self, account: str, symbol: str) -> None:
        """The trader clicked "Cancel orphaned orders": decided again as if cleanup were armed (no grace period;
        a refused or unanswered cancel is tried once more) — cancelled only when ``decide_orphans`` would cancel
        now; otherwise (a new position on the same side holds them, the position is disputed, trading is blocked,
        the orders are not known since the logon, none is working any more) nothing is sent and the feed says why."""
        case = self._closed.get((account, symbol))
        if case is None:
            return
        positions, _, disputed, _ = self._state.order_guard_facts()
        pair = (account, symbol)
        quantity = next((p.quantity for k, p in positions.items() if k[1:] == pair), Decimal(0))
        decision = decide_orphans(
            self._orphan_facts(pair, case, self._working_ids(pair), quantity, disputed, None)
        )
        if decision.action != OrphanAction.CANCEL:
            why = decision.reason.removeprefix("not cancelled: ") or "none of them is working any more"
            if decision.action == OrphanAction.WAIT:
                why = "the cancels already sent await Sierra Chart's answer"
            self._record(None, account, symbol, CLEANUP, "not sent", f"{account} {symbol} · orphan cleanup: "
                         f"cancel not sent: {why}", "warning")  # fmt: skip
            return
        self._send_cancels(account, symbol, case, decision.order_ids, "trader")

    def _working_ids(self, pair: tuple[str, str]) -> frozenset[str]:
        return frozenset(o.server_order_id for o in self._state.orders.orders_for(*pair))

    def _orphan_facts(
        self,
        pair: tuple[str, str],
        case: _Closed,
        working: frozenset[str],
        quantity_now: Decimal,
        disputed: frozenset[Key],
        flat_for: float | None,
    ) -> OrphanFacts:
        """The facts of one closed position's leftovers. ``flat_for`` None: the trader's click, decided as if
        cleanup were armed, with no grace period, and a refused or unanswered cancel tried once more."""
        account = pair[0]
        by_trader = flat_for is None
        return OrphanFacts(
            closed_sign=case.closed_sign,
            candidates=case.candidates,
            still_working=working,
            quantity_now=quantity_now,
            flat_for=float("inf") if flat_for is None else flat_for,
            grace=0.0 if by_trader else self.config.cleanup_grace,
            armed=by_trader or account in self.cleanup_armed,
            trading_block=self._trading_block(account),
            disputed=any(k[1:] == pair for k in disputed),
            pending=frozenset(case.sent),
            failed=frozenset() if by_trader else frozenset(case.failed),
            failed_reason="" if by_trader else "; ".join(sorted(set(case.failed.values()))),
        )

    def _send_cancels(self, account: str, symbol: str, case: _Closed, ids: tuple[str, ...], who: str) -> None:
        for oid in ids:
            if oid in case.sent:
                continue
            case.sent.add(oid)
            case.failed.pop(oid, None)  # the trader's click tries once more
            self._orders[f"cancel:{oid}"] = _GuardOrder(
                f"cancel:{oid}", ("", account, symbol), "cancel", "pending", Decimal(0), Decimal(0), Decimal(0), 0, oid,
                sent_at=self._clock(), order_client_id=case.client_ids.get(oid, ""),
            )
            self._send(CancelOrder(ServerOrderID=oid, ClientOrderID=case.client_ids.get(oid, ""), TradeAccount=account))
            text = (
                f"{account} {symbol} · orphan cleanup: CANCEL_ORDER sent for {case.described.get(oid, oid)} "
                f"(ServerOrderID {oid}; {'armed' if who == 'armed' else 'by the trader'})"
            )
            self._record(None, account, symbol, CLEANUP, "sent 203", text, "order")

    def _cancel_answer(self, order: _GuardOrder, msg: OrderUpdate) -> None:
        _, account, symbol = order.key
        case = self._closed.get((account, symbol))
        what = case.described.get(order.server_id, order.server_id) if case else order.server_id
        info = f": {msg.InfoText}" if msg.InfoText else ""
        if msg.OrderUpdateReason == OrderUpdateReasonEnum.ORDER_CANCEL_REJECTED:
            del self._orders[order.client_id]
            if case is not None:  # offered from now on, never sent again by itself (no cancel flood)
                case.sent.discard(order.server_id)
                case.failed[order.server_id] = f"the cancel was REJECTED by Sierra Chart{info}"
            text = (
                f"{account} {symbol} · orphan cleanup: cancel of {what} REJECTED by Sierra Chart{info} — the order "
                "is still working; not cancelled automatically again"
            )
            self._record(None, account, symbol, CLEANUP, "cancel rejected", text, "error")
        elif msg.OrderStatus == OrderStatusEnum.ORDER_STATUS_CANCELED or msg.OrderUpdateReason in (
            OrderUpdateReasonEnum.ORDER_CANCELED,
            OrderUpdateReasonEnum.ORDER_FILLED,
        ):
            del self._orders[order.client_id]
            done = (
                "canceled" if msg.OrderStatus == OrderStatusEnum.ORDER_STATUS_CANCELED else "filled before the cancel"
            )
            text = f"{account} {symbol} · orphan cleanup: {what} {done}"
            self._record(None, account, symbol, CLEANUP, done[:32], text, "order")

    # --- arming --------------------------------------------------------------------------------------

    def _arm(self, feature: str, account: str, armed: bool, confirmed_account: str) -> None:
        name = FEATURES.get(feature)
        if name is None or not account:
            return
        target = self.stop_armed if feature == STOP_GUARD else self.cleanup_armed
        mode = self._state.mode_of(account)
        if not armed:
            if account in target:
                target.discard(account)
                self._record(None, account, "", feature, "disarmed", f"{mode} {account} · {name} disarmed", "warning")
            return
        if mode == "LIVE" and confirmed_account != account:
            self._refusal = f"{name} not armed for LIVE {account}: the confirmation naming the account is missing"
            self._record(None, account, "", feature, "arming refused", f"{mode} {account} · {self._refusal}", "error")
            return
        if account not in target:
            target.add(account)
            self._refusal = ""
            how = " after the trader's confirmation" if mode == "LIVE" else ""
            self._record(None, account, "", feature, "armed", f"{mode} {account} · {name} ARMED{how}", "warning")

    # --- records and publication ---------------------------------------------------------------------

    def _record(
        self, position: Position | None, account: str, symbol: str, feature: str, reason: str, text: str, kind: str
    ) -> None:
        """One audit event (``PositionEvent`` kind ``feature``) and one feed line (``kind``)."""
        quantity = position.quantity if position is not None else Decimal(0)
        event = PositionEvent(
            at=datetime.now(UTC),
            mode=self._state.mode_of(account) if account else "",
            account=account,
            symbol=symbol,
            kind=feature,
            quantity_before=quantity,
            quantity_after=quantity,
            avg_entry_after=position.avg_entry if position is not None else None,
            reason=reason[:32],
            source=text[:128],
        )
        try:
            self._store.add_event(event)
        except StorageError as exc:
            self._state.notify("error", f"audit event not stored ({text}): {exc}")
        log.info("%s", text)
        self._state.notify(kind, text)

    def _restate_overdue(self) -> bool:
        """Logged on for longer than the stop guard's grace period and the open orders still not restated (the
        300 rejected with 302, or unanswered); said once per logon in the feed."""
        if self._logged_on_at is None or self._restated:
            return False
        if self._clock() - self._logged_on_at < self.config.stop_grace:
            return False
        if not self._restate_said:
            self._restate_said = True
            text = (
                "Sierra Chart's open orders are not restated since the logon (OPEN_ORDERS_REQUEST rejected or "
                "unanswered): the stop guard and the orphan cleanup send nothing until they are"
            )
            self._record(None, "", "", STOP_GUARD, "orders unknown", text, "warning")
        return True

    def view(self) -> GuardView:
        return self._sent_view or GuardView()

    def _publish(self, offers: tuple[OrphanOffer, ...]) -> None:
        note = ""
        if self.trading_supported is False:
            note = "Sierra Chart does not support trading on this connection (Allow Trading = No): guards only warn"
        elif self._restate_overdue():
            note = "Sierra Chart's open orders are not restated since the logon: the guards send nothing until they are"
        view = GuardView(
            stop_armed=frozenset(self.stop_armed),
            cleanup_armed=frozenset(self.cleanup_armed),
            distances=tuple(sorted(self.config.distances.items())),
            positions=tuple(self._cards[k] for k in sorted(self._cards)),
            offers=offers,
            trading_note=note,
            disabled_accounts=self._disabled_accounts(),
            refusal=self._refusal,
        )
        if view == self._sent_view:
            return
        self._sent_view = view
        for listener in list(self._listeners):
            listener(view)

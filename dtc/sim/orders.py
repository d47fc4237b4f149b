"""Working orders in the simulator, answered like Sierra Chart: SUBMIT_NEW_SINGLE_ORDER (208), CANCEL_ORDER (203)
and CANCEL_REPLACE_ORDER (204) in, ORDER_UPDATE (301) out.

- 208 accepted → 301 ``OrderUpdateReason`` 2 NEW_ORDER_ACCEPTED, ``OrderStatus`` 4 OPEN, with the server's
  ``ServerOrderID`` and the client's ``ClientOrderID``; rejected → 301 reason 8 NEW_ORDER_REJECTED, status 9
  REJECTED, ``InfoText`` saying why (as Sierra Chart does for a bad order, trading not allowed, or an
  injected reject);
- 203 → 301 reason 6 ORDER_CANCELED, status 8 CANCELED; an unknown or finished order → reason 9
  ORDER_CANCEL_REJECTED with ``InfoText``; a refused cancel of a working order → reason 9 with the order's
  real status (4 OPEN), side and ids (or, ``cancel_reject_bare``, only ``ClientOrderID`` and ``InfoText``);
- 204 → 301 reason 7 ORDER_CANCEL_REPLACE_COMPLETE with the new ``Price1``/``OrderQuantity``; unknown → reason 10;
- a working order the test (or scenario) fills → the fill's 301 (reason 4, this order's ids) and the 306;
- 300 → the working orders (reason 1 OPEN_ORDERS_REQUEST_RESPONSE, ``TotalNumMessages``), or one ``NoOrders``.

Faults (``OrderFaults``): reject every new order or every cancel with a text, delay every answer, refuse trading
altogether.
Every order message received is kept (``received``) so tests assert what "Sierra Chart" got. Orders are not
saved by ``dtc.sim.persist`` (a restarted simulator has no working orders). Loop thread only.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import msgspec

from dtc import messages as m
from dtc.sim.wire import buysell
from dtc.types import BuySellEnum, OrderStatusEnum, OrderTypeEnum, OrderUpdateReasonEnum

PRICED_TYPES = frozenset(
    {
        OrderTypeEnum.ORDER_TYPE_LIMIT,
        OrderTypeEnum.ORDER_TYPE_STOP,
        OrderTypeEnum.ORDER_TYPE_STOP_LIMIT,
        OrderTypeEnum.ORDER_TYPE_MARKET_IF_TOUCHED,
        OrderTypeEnum.ORDER_TYPE_LIMIT_IF_TOUCHED,
    }
)


@dataclasses.dataclass
class OrderFaults:
    """How the simulator treats order messages (changed on the loop thread only)."""

    reject: str | None = None
    """Set: every SUBMIT_NEW_SINGLE_ORDER (208) is rejected (301 reason 8) with this ``InfoText``."""
    delay: float = 0.0
    """Seconds (already speed-scaled) before any answer to 208/203/204 is sent."""
    trading_allowed: bool = True
    """False: LOGON_RESPONSE says ``TradingIsSupported`` 0 and 208/203/204 are rejected (Allow Trading = No)."""
    disabled_accounts: set[str] = dataclasses.field(default_factory=set)
    """Accounts reported with ``TradingIsDisabled`` 1 (401, 600); their new orders are rejected."""
    cancel_reject: str | None = None
    """Set: every CANCEL_ORDER (203) is rejected (301 reason 9) with this ``InfoText``; the order stays working."""
    open_orders_reject: str | None = None
    """Set: OPEN_ORDERS_REQUEST (300) is answered with OPEN_ORDERS_REJECT (302) with this ``RejectText``."""
    cancel_reject_bare: bool = False
    """The cancel reject carries only ``ClientOrderID``, ``TradeAccount`` and ``InfoText`` (no ``ServerOrderID``,
    status or side): all a client may rely on (dtc-protocol §7.6)."""


@dataclasses.dataclass
class SimOrder:
    """One working order: ``side`` "BUY"/"SELL", ``price`` points (``Price1``), ``quantity`` contracts."""

    server_order_id: str
    client_order_id: str
    account: str
    symbol: str
    side: str
    order_type: int
    price: float
    quantity: float
    time_in_force: int
    received: float
    parent: str = ""
    free_form_text: str = ""


def order_update(o: SimOrder, reason: int, status: int, info: str = "") -> m.OrderUpdate:
    """Unsolicited ORDER_UPDATE (301) of a working, canceled or replaced order (no fill fields)."""
    return m.OrderUpdate(
        RequestID=0,
        TotalNumMessages=1,
        MessageNumber=1,
        Symbol=o.symbol,
        ServerOrderID=o.server_order_id,
        ClientOrderID=o.client_order_id,
        TradeAccount=o.account,
        OrderStatus=status,
        OrderUpdateReason=reason,
        OrderType=o.order_type,
        BuySell=buysell(o.side),
        Price1=o.price,
        TimeInForce=o.time_in_force,
        OrderQuantity=o.quantity,
        FilledQuantity=0.0,
        RemainingQuantity=o.quantity,
        InfoText=info,
        ParentServerOrderID=o.parent,
        FreeFormText=o.free_form_text,
        OrderReceivedDateTime=int(o.received),
        LatestTransactionDateTime=time.time(),
    )


def reject_update(req: m.SubmitNewSingleOrder, info: str) -> m.OrderUpdate:
    """301 reason 8 NEW_ORDER_REJECTED for a 208 (no ``ServerOrderID``: the order never existed)."""
    return m.OrderUpdate(
        Symbol=req.Symbol,
        Exchange=req.Exchange,
        ClientOrderID=req.ClientOrderID,
        TradeAccount=req.TradeAccount,
        OrderStatus=OrderStatusEnum.ORDER_STATUS_REJECTED,
        OrderUpdateReason=OrderUpdateReasonEnum.NEW_ORDER_REJECTED,
        OrderType=req.OrderType,
        BuySell=req.BuySell,
        Price1=req.Price1,
        OrderQuantity=req.Quantity,
        InfoText=info,
        LatestTransactionDateTime=time.time(),
    )


def _fault_reject(account: str, faults: OrderFaults, what: str) -> str | None:
    """The ``InfoText`` of a refusal that applies to every order message of ``account`` (``None``: none)."""
    if not faults.trading_allowed:
        return f"{what} rejected. Trading is not allowed on this server (Allow Trading = No)"
    if account in faults.disabled_accounts:
        return f"{what} rejected. Trading is disabled for trade account {account}"
    return None


class SimOrderBook:
    """The simulator's working orders and the answers to order messages. ``new_server_id()`` hands out the
    world's next ``ServerOrderID`` (shared with fills, so ids never collide)."""

    def __init__(self, new_server_id: Callable[[], str]) -> None:
        self.orders: dict[str, SimOrder] = {}
        self.faults = OrderFaults()
        self.received: list[dict[str, object]] = []
        """Every 208/203/204 received, oldest first: its JSON fields (``Type`` first)."""
        self._new_server_id = new_server_id
        self._client_ids: set[str] = set()

    # --- client messages --------------------------------------------------------------------------

    def submit(self, req: m.SubmitNewSingleOrder) -> list[m.OrderUpdate]:
        """208 → accepted (301 reason 2, status OPEN) or rejected (301 reason 8 with ``InfoText``)."""
        reason = _fault_reject(req.TradeAccount, self.faults, "Order")
        if reason is None:
            reason = self._invalid(req)
        if reason is None and self.faults.reject is not None:
            reason = self.faults.reject
        if reason is not None:
            return [reject_update(req, reason)]
        self._client_ids.add(req.ClientOrderID)
        order = self.add(
            req.TradeAccount,
            req.Symbol,
            "BUY" if req.BuySell == BuySellEnum.BUY else "SELL",
            req.OrderType,
            req.Price1,
            req.Quantity,
            client_order_id=req.ClientOrderID,
            time_in_force=req.TimeInForce,
            free_form_text=req.FreeFormText,
        )
        return [order_update(order, OrderUpdateReasonEnum.NEW_ORDER_ACCEPTED, OrderStatusEnum.ORDER_STATUS_OPEN)]

    def _invalid(self, req: m.SubmitNewSingleOrder) -> str | None:
        if not req.TradeAccount:
            return "Order rejected. TradeAccount is not set"
        if not req.Symbol:
            return "Order rejected. Symbol is not set"
        if not req.ClientOrderID:
            return "Order rejected. ClientOrderID is not set"
        if req.ClientOrderID in self._client_ids:
            return f"Order rejected. Duplicate ClientOrderID {req.ClientOrderID}"
        if req.BuySell not in (BuySellEnum.BUY, BuySellEnum.SELL):
            return "Order rejected. BuySell is not set"
        if not req.Quantity or req.Quantity <= 0:
            return "Order rejected. Quantity is not valid"
        if req.OrderType in PRICED_TYPES and not req.Price1 > 0:
            return "Order rejected. Price1 is not valid"
        return None

    def cancel(self, req: m.CancelOrder) -> list[m.OrderUpdate]:
        """203 → 301 reason 6 (canceled) or reason 9 (cancel rejected, with ``InfoText``)."""
        order = self._find(req.ServerOrderID, req.ClientOrderID)
        refused = _fault_reject(order.account if order else req.TradeAccount, self.faults, "Cancel")
        refused = refused or self.faults.cancel_reject
        if order is None or refused is not None:
            info = refused or f"Cancel rejected. Order {req.ServerOrderID or req.ClientOrderID} is not working"
            if order is not None and not self.faults.cancel_reject_bare:  # still working: its real status and side
                reason = OrderUpdateReasonEnum.ORDER_CANCEL_REJECTED
                return [order_update(order, reason, OrderStatusEnum.ORDER_STATUS_OPEN, info)]
            server_id = "" if self.faults.cancel_reject_bare else req.ServerOrderID
            reason = OrderUpdateReasonEnum.ORDER_CANCEL_REJECTED
            return [self._cancel_reject(server_id, req.ClientOrderID, req.TradeAccount, info, reason)]
        del self.orders[order.server_order_id]
        return [order_update(order, OrderUpdateReasonEnum.ORDER_CANCELED, OrderStatusEnum.ORDER_STATUS_CANCELED)]

    def replace(self, req: m.CancelReplaceOrder) -> list[m.OrderUpdate]:
        """204 → 301 reason 7 with the new price/quantity, or reason 10 (rejected, with ``InfoText``)."""
        order = self._find(req.ServerOrderID, req.ClientOrderID)
        refused = _fault_reject(order.account if order else req.TradeAccount, self.faults, "Cancel/replace")
        if order is not None and refused is None and req.Quantity < 0:
            refused = "Cancel/replace rejected. Quantity is not valid"
        if order is None or refused is not None:
            info = refused or f"Cancel/replace rejected. Order {req.ServerOrderID} is not working"
            reason = OrderUpdateReasonEnum.ORDER_CANCEL_REPLACE_REJECTED
            return [self._cancel_reject(req.ServerOrderID, req.ClientOrderID, req.TradeAccount, info, reason)]
        if req.Price1IsSet and req.Price1 > 0:
            order.price = req.Price1
        if req.Quantity:
            order.quantity = req.Quantity
        return [
            order_update(order, OrderUpdateReasonEnum.ORDER_CANCEL_REPLACE_COMPLETE, OrderStatusEnum.ORDER_STATUS_OPEN)
        ]

    @staticmethod
    def _cancel_reject(server_id: str, client_id: str, account: str, info: str, reason: int) -> m.OrderUpdate:
        return m.OrderUpdate(
            ServerOrderID=server_id,
            ClientOrderID=client_id,
            TradeAccount=account,
            OrderStatus=OrderStatusEnum.ORDER_STATUS_UNSPECIFIED,
            OrderUpdateReason=reason,
            InfoText=info,
            LatestTransactionDateTime=time.time(),
        )

    def _find(self, server_id: str, client_id: str) -> SimOrder | None:
        if server_id:
            return self.orders.get(server_id)
        return next((o for o in self.orders.values() if client_id and o.client_order_id == client_id), None)

    # --- the trader's (or the test's) side -----------------------------------------------------------

    def add(
        self,
        account: str,
        symbol: str,
        side: str,
        order_type: int,
        price: float,
        quantity: float,
        *,
        client_order_id: str = "",
        time_in_force: int = 2,
        parent: str = "",
        free_form_text: str = "",
    ) -> SimOrder:
        """A new working order (as if entered in Sierra Chart when ``client_order_id`` is empty)."""
        server_id = self._new_server_id()
        order = SimOrder(
            server_order_id=server_id,
            client_order_id=client_order_id or f"SC-{server_id}",
            account=account,
            symbol=symbol,
            side=side,
            order_type=int(order_type),
            price=float(price),
            quantity=float(quantity),
            time_in_force=int(time_in_force),
            received=time.time(),
            parent=parent,
            free_form_text=free_form_text,
        )
        self.orders[server_id] = order
        return order

    def find(self, order_id: str) -> SimOrder | None:
        """A working order by ``ServerOrderID`` or ``ClientOrderID``."""
        return self.orders.get(order_id) or next(
            (o for o in self.orders.values() if o.client_order_id == order_id), None
        )

    def remove(self, order_id: str) -> SimOrder | None:
        """Take working order ``order_id`` (ServerOrderID or ClientOrderID) out of the book; None if none works."""
        order = self.find(order_id)
        if order is not None:
            del self.orders[order.server_order_id]
        return order

    def open_orders(self, request_id: int, account: str) -> list[m.OrderUpdate]:
        """300 → every working order of ``account`` ("" = all) as a reason-1 batch, or one ``NoOrders``."""
        rows = [o for o in self.orders.values() if account in ("", o.account)]
        if not rows:
            return [
                m.OrderUpdate(
                    RequestID=request_id,
                    TotalNumMessages=1,
                    MessageNumber=1,
                    NoOrders=1,
                    TradeAccount=account,
                    OrderUpdateReason=OrderUpdateReasonEnum.OPEN_ORDERS_REQUEST_RESPONSE,
                )
            ]
        out = []
        for i, o in enumerate(rows, 1):
            msg = order_update(o, OrderUpdateReasonEnum.OPEN_ORDERS_REQUEST_RESPONSE, OrderStatusEnum.ORDER_STATUS_OPEN)
            out.append(msgspec.structs.replace(msg, RequestID=request_id, TotalNumMessages=len(rows), MessageNumber=i))
        return out

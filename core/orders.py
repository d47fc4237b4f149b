"""Working orders from ORDER_UPDATE (301): the bracket (stop and target) of each position.

An order is working while its ``OrderStatus`` is pending-open, pending-child, open, pending cancel/replace
or partially filled; filled, canceled and rejected orders leave the book; a refused cancel or cancel/replace
(reason 9/10) that does not restate the order (``OrderStatus`` 0 or no ``BuySell``) leaves it as it was. A stop
is a STOP or STOP_LIMIT order on the closing side of the position; a target a LIMIT order on the closing side.
Linking by ``ParentServerOrderID``/``OCOLinkedOrderServerOrderID`` is kept for display; the side decides the role.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

from dtc.messages import OrderUpdate
from dtc.types import BuySellEnum, OrderStatusEnum, OrderTypeEnum, OrderUpdateReasonEnum
from dtc.values import wire_decimal

WORKING = frozenset(
    {
        OrderStatusEnum.ORDER_STATUS_PENDING_OPEN,
        OrderStatusEnum.ORDER_STATUS_PENDING_CHILD,
        OrderStatusEnum.ORDER_STATUS_OPEN,
        OrderStatusEnum.ORDER_STATUS_PENDING_CANCEL_REPLACE,
        OrderStatusEnum.ORDER_STATUS_PENDING_CANCEL,
        OrderStatusEnum.ORDER_STATUS_PARTIALLY_FILLED,
    }
)
STOP_TYPES = frozenset({OrderTypeEnum.ORDER_TYPE_STOP, OrderTypeEnum.ORDER_TYPE_STOP_LIMIT})


@dataclass(frozen=True)
class WorkingOrder:
    """A working order. ``side`` +1 buy / −1 sell; ``price`` = ``Price1`` (points)."""

    server_order_id: str
    account: str
    symbol: str
    side: int
    order_type: int
    price: Decimal | None
    quantity: Decimal | None
    parent_id: str = ""
    oco_id: str = ""
    pending_child: bool = False
    """A bracket child waiting for its parent to fill (``ORDER_STATUS_PENDING_CHILD``)."""
    client_order_id: str = ""
    """``ClientOrderID`` as Sierra Chart reported it (sent back in CANCEL_ORDER 203 by the orphan cleanup)."""

    @property
    def is_stop(self) -> bool:
        return self.order_type in STOP_TYPES

    @property
    def is_target(self) -> bool:
        return self.order_type == OrderTypeEnum.ORDER_TYPE_LIMIT


class OrderBook:
    """Working orders by ``ServerOrderID``; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._orders: dict[str, WorkingOrder] = {}

    def clear(self) -> None:
        """Forget every order (on reconnect, before the OPEN_ORDERS_REQUEST answer restates them)."""
        with self._lock:
            self._orders.clear()

    def on_order_update(self, msg: OrderUpdate) -> bool:
        """Apply one 301; returns True if the set of working orders changed."""
        if not msg.ServerOrderID or msg.NoOrders:
            return False
        refused = msg.OrderUpdateReason in (
            OrderUpdateReasonEnum.ORDER_CANCEL_REJECTED,
            OrderUpdateReasonEnum.ORDER_CANCEL_REPLACE_REJECTED,
        )
        vague = msg.OrderStatus == OrderStatusEnum.ORDER_STATUS_UNSPECIFIED or (
            msg.OrderStatus in WORKING and msg.BuySell not in (BuySellEnum.BUY, BuySellEnum.SELL)
        )
        if refused and vague:
            return False  # a refused cancel (or replace) without the order's details: the order is unchanged
        with self._lock:
            changed = False
            if msg.PreviousServerOrderID and msg.PreviousServerOrderID in self._orders:
                del self._orders[msg.PreviousServerOrderID]
                changed = True
            if msg.OrderStatus in WORKING and msg.BuySell in (BuySellEnum.BUY, BuySellEnum.SELL):
                order = WorkingOrder(
                    server_order_id=msg.ServerOrderID,
                    account=msg.TradeAccount,
                    symbol=msg.Symbol,
                    side=1 if msg.BuySell == BuySellEnum.BUY else -1,
                    order_type=msg.OrderType,
                    price=wire_decimal(msg.Price1),
                    quantity=wire_decimal(msg.RemainingQuantity if msg.RemainingQuantity else msg.OrderQuantity),
                    parent_id=msg.ParentServerOrderID,
                    oco_id=msg.OCOLinkedOrderServerOrderID,
                    pending_child=msg.OrderStatus == OrderStatusEnum.ORDER_STATUS_PENDING_CHILD,
                    client_order_id=msg.ClientOrderID,
                )
                changed = changed or self._orders.get(order.server_order_id) != order
                self._orders[order.server_order_id] = order
            elif msg.ServerOrderID in self._orders:
                del self._orders[msg.ServerOrderID]
                changed = True
            return changed

    def orders_for(self, account: str, symbol: str) -> list[WorkingOrder]:
        with self._lock:
            return [o for o in self._orders.values() if o.account == account and o.symbol == symbol]

    def bracket(self, account: str, symbol: str, position_sign: int) -> tuple[Decimal | None, Decimal | None]:
        """(stop, target) prices working on the closing side of a position with sign ``position_sign``.

        With several on one side, the one with the largest quantity is taken; ties keep the first seen.
        """
        closing = [o for o in self.orders_for(account, symbol) if o.side == -position_sign and o.price is not None]
        stops = [o for o in closing if o.is_stop]
        targets = [o for o in closing if o.is_target]
        stop = max(stops, key=lambda o: o.quantity or 0).price if stops else None
        target = max(targets, key=lambda o: o.quantity or 0).price if targets else None
        return stop, target

    def orphans(self, open_keys: set[tuple[str, str]]) -> list[WorkingOrder]:
        """Stops/targets working (not waiting for a parent) on an (account, symbol) with no open position."""
        with self._lock:
            return [
                o
                for o in self._orders.values()
                if (o.is_stop or o.is_target) and not o.pending_child and (o.account, o.symbol) not in open_keys
            ]

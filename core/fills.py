"""Turning DTC fill messages into validated ``Fill`` objects.

A fill is an ``ORDER_UPDATE`` (301) with ``OrderUpdateReason`` 4 (filled) or 5 (partially filled), or a
``HISTORICAL_ORDER_FILL_RESPONSE`` (304). Absurd values (NaN, infinities, DBL_MAX/INT_MAX sentinels,
zero or negative quantities, unknown sides) raise ``InvalidMessage``; the caller logs and skips the message.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from core.accounting import Fill
from core.instruments import InstrumentBook, snap_to_tick, symbol_root
from core.twins import DERIVED_SOURCE
from dtc.messages import HistoricalOrderFillResponse, OrderUpdate
from dtc.timeconv import to_utc
from dtc.types import FILL_REASONS, BuySellEnum
from dtc.values import wire_decimal

MAX_ABS_PRICE = 1e9
MAX_QUANTITY = 1e6


class InvalidMessage(ValueError):
    """A decoded message whose values make no sense for a trading panel; ``str()`` says why."""


def _price(value: float | None, what: str) -> Decimal:
    price = wire_decimal(value, limit=MAX_ABS_PRICE)
    if price is None:
        raise InvalidMessage(f"{what} is missing or absurd ({value!r})")
    return price


def _quantity(value: float | None, what: str) -> Decimal:
    if value is None or not math.isfinite(value) or value <= 0 or value >= MAX_QUANTITY:
        raise InvalidMessage(f"{what} must be a positive number of contracts, got {value!r}")
    return _exact(value)


def _exact(value: float) -> Decimal:
    """The shortest decimal that round-trips ``value`` (``1.0`` → ``1``, ``0.1`` → ``0.1``)."""
    return Decimal(int(value)) if float(value).is_integer() else Decimal(repr(float(value)))


def _side(buy_sell: int) -> int:
    if buy_sell == BuySellEnum.BUY:
        return 1
    if buy_sell == BuySellEnum.SELL:
        return -1
    raise InvalidMessage(f"BuySell must be 1 or 2, got {buy_sell!r}")


class FillFactory:
    """Builds ``Fill`` objects: snaps prices to the instrument's tick and adds commission from settings.

    ``commission_per_contract(root)`` returns the commission per contract per side (account currency).
    """

    def __init__(self, instruments: InstrumentBook, commission_per_contract: Callable[[str], Decimal]) -> None:
        self._instruments = instruments
        self._commission = commission_per_contract

    def _make(
        self,
        *,
        execution_id: str,
        account: str,
        symbol: str,
        side: int,
        quantity: Decimal,
        price: Decimal,
        time: datetime | None,
        server_order_id: str,
        source: str,
    ) -> Fill:
        if not account:
            raise InvalidMessage("fill without TradeAccount")
        if not symbol:
            raise InvalidMessage("fill without Symbol")
        instrument = self._instruments.lookup(symbol)
        if instrument.tick_size > 0:
            price = snap_to_tick(price, instrument.tick_size)
        commission = self._commission(symbol_root(symbol)) * quantity
        return Fill(
            execution_id=execution_id,
            account=account,
            symbol=symbol,
            quantity=quantity * side,
            price=price,
            time=time or datetime.now(UTC),
            commission=commission,
            server_order_id=server_order_id,
            source=source,
        )

    def from_order_update(self, msg: OrderUpdate) -> Fill:
        """A fill from a 301 whose ``OrderUpdateReason`` is 4 or 5 (``LastFill*`` fields).

        Without ``LastFillExecutionID`` the identity is derived deterministically from
        (``ServerOrderID``, ``FilledQuantity``) and the source is ``core.twins.DERIVED_SOURCE``, so the
        same execution found later in history (304) is recognised. Raises ``InvalidMessage``.
        """
        if msg.OrderUpdateReason not in FILL_REASONS:
            raise InvalidMessage(f"ORDER_UPDATE reason {msg.OrderUpdateReason} is not a fill")
        quantity = _quantity(msg.LastFillQuantity, "LastFillQuantity")
        price = _price(msg.LastFillPrice, "LastFillPrice")
        execution_id = msg.LastFillExecutionID
        source = "301"
        if not execution_id:
            if not msg.ServerOrderID or msg.FilledQuantity is None or not math.isfinite(msg.FilledQuantity):
                raise InvalidMessage("fill without LastFillExecutionID, ServerOrderID or FilledQuantity")
            execution_id = f"{msg.ServerOrderID}:{_exact(msg.FilledQuantity)}"
            source = DERIVED_SOURCE  # matched with its history record (core.twins), stored once
        return self._make(
            execution_id=execution_id,
            account=msg.TradeAccount,
            symbol=msg.Symbol,
            side=_side(msg.BuySell),
            quantity=quantity,
            price=price,
            time=to_utc(msg.LastFillDateTime),
            server_order_id=msg.ServerOrderID,
            source=source,
        )

    def from_historical(self, msg: HistoricalOrderFillResponse) -> Fill:
        """A fill from a 304 (``Price``, ``Quantity``, ``UniqueExecutionID``). Raises ``InvalidMessage``."""
        if not msg.UniqueExecutionID:
            raise InvalidMessage("historical fill without UniqueExecutionID")
        return self._make(
            execution_id=msg.UniqueExecutionID,
            account=msg.TradeAccount,
            symbol=msg.Symbol,
            side=_side(msg.BuySell),
            quantity=_quantity(msg.Quantity, "Quantity"),
            price=_price(msg.Price, "Price"),
            time=to_utc(msg.DateTime),
            server_order_id=msg.ServerOrderID,
            source="304",
        )

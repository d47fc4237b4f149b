"""Scenario step kinds for market data and fault injection, and the scenario's instrument table.

Each spec is a frozen dataclass with a ``from_dict(data, where)`` parser registered in
``dtc.sim.scenario.STEP_KINDS``. Units: prices and ticks in points, tick values in the instrument currency per
contract, quantities in contracts, durations in seconds (divided by the playback speed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dtc.sim.validate import boolean, integer, mapping, number, optional_text, text

LOGON_RESULTS = (1, 2, 3, 4)
"""LOGON_RESPONSE.Result values: 1 success, 2 error, 3 error/no reconnect, 4 reconnect elsewhere."""


def exchange_of(symbol: str) -> str:
    """The exchange suffix of a Sierra-style symbol ("MESZ25-CME" → "CME"), else ""."""
    head, sep, tail = symbol.rpartition("-")
    return tail if sep and head else ""


@dataclass(frozen=True)
class InstrumentSpec:
    """Contract facts served as SECURITY_DEFINITION_RESPONSE (507).

    ``tick`` is the minimum price increment (points), ``tick_value`` the value of one tick per contract
    (``currency``), ``price`` an optional starting last price (points) for market data and price walks.
    """

    symbol: str
    tick: float
    tick_value: float
    description: str = ""
    exchange: str = ""
    currency: str = "USD"
    price: float | None = None

    @classmethod
    def create(
        cls,
        symbol: Any,
        tick: Any,
        tick_value: Any,
        description: Any = "",
        exchange: Any = None,
        currency: Any = "USD",
        price: Any = None,
        where: str = "instrument",
    ) -> InstrumentSpec:
        """Validate loose input (JSON or API arguments); raises ``ValueError`` naming ``where``."""
        name = text(symbol, f"{where} symbol")
        return cls(
            symbol=name,
            tick=number(tick, f"{where}.tick", positive=True),
            tick_value=number(tick_value, f"{where}.tick_value", positive=True),
            description=optional_text(description, f"{where}.description"),
            exchange=exchange_of(name) if exchange is None else optional_text(exchange, f"{where}.exchange"),
            currency=text(currency, f"{where}.currency"),
            price=None if price is None else number(price, f"{where}.price", positive=True),
        )

    @classmethod
    def from_dict(cls, symbol: str, data: Any, where: str) -> InstrumentSpec:
        keys = {"tick", "tick_value", "description", "exchange", "currency", "price"}
        d = mapping(data, where, keys, {"tick", "tick_value"})
        return cls.create(
            symbol,
            d["tick"],
            d["tick_value"],
            d.get("description", ""),
            d.get("exchange"),
            d.get("currency", "USD"),
            d.get("price"),
            where,
        )


@dataclass(frozen=True)
class DropSpec:
    """Close every client socket without LOGOFF; ``mid_frame`` first sends half of a 301/306 frame."""

    mid_frame: bool = False

    @classmethod
    def from_dict(cls, data: Any, where: str = "drop") -> DropSpec:
        d = mapping(data, where, {"mid_frame"}, set())
        return cls(mid_frame=boolean(d.get("mid_frame", False), f"{where}.mid_frame"))


@dataclass(frozen=True)
class SilenceSpec:
    """Send nothing to any client for ``seconds`` (playback continues meanwhile), then resume."""

    seconds: float

    @classmethod
    def from_dict(cls, data: Any, where: str = "silence") -> SilenceSpec:
        d = mapping(data, where, {"seconds"}, {"seconds"})
        return cls(seconds=number(d["seconds"], f"{where}.seconds", positive=True))


@dataclass(frozen=True)
class SetPositionSpec:
    """An outside position change (no fill): signed ``quantity`` (contracts) at ``average_price`` (points).

    ``notify`` sends an unsolicited POSITION_UPDATE (306); otherwise only 305 reveals it.
    """

    account: str
    symbol: str
    quantity: float
    average_price: float
    notify: bool = True

    @classmethod
    def create(
        cls,
        account: Any,
        symbol: Any,
        quantity: Any,
        average_price: Any,
        notify: Any = True,
        where: str = "set_position",
    ) -> SetPositionSpec:
        qty = number(quantity, f"{where}.quantity")
        price = number(average_price, f"{where}.average_price")
        if qty != 0 and price <= 0:
            raise ValueError(f"{where}.average_price: must be > 0 for a non-flat position, got {price!r}")
        if price < 0:
            raise ValueError(f"{where}.average_price: must be >= 0, got {price!r}")
        return cls(
            account=text(account, f"{where}.account"),
            symbol=text(symbol, f"{where}.symbol"),
            quantity=qty,
            average_price=price if qty else 0.0,
            notify=boolean(notify, f"{where}.notify"),
        )

    @classmethod
    def from_dict(cls, data: Any, where: str = "set_position") -> SetPositionSpec:
        keys = {"account", "symbol", "quantity", "average_price"}
        d = mapping(data, where, keys | {"notify"}, keys)
        return cls.create(d["account"], d["symbol"], d["quantity"], d["average_price"], d.get("notify", True), where)


@dataclass(frozen=True)
class DuplicateFillSpec:
    """Send the identical ORDER_UPDATE (301) of an earlier fill again (default: the most recent one)."""

    execution_id: str = ""

    @classmethod
    def from_dict(cls, data: Any, where: str = "duplicate_fill") -> DuplicateFillSpec:
        d = mapping(data, where, {"execution_id"}, set())
        return cls(execution_id=optional_text(d.get("execution_id", ""), f"{where}.execution_id"))


@dataclass(frozen=True)
class LogoffSpec:
    """Send LOGOFF (5) {Reason, DoNotReconnect} to every client, then close the connections."""

    reason: str = "Simulated logoff"
    do_not_reconnect: bool = False

    @classmethod
    def from_dict(cls, data: Any, where: str = "logoff") -> LogoffSpec:
        d = mapping(data, where, {"reason", "do_not_reconnect"}, set())
        return cls(
            reason=optional_text(d.get("reason", cls.reason), f"{where}.reason"),
            do_not_reconnect=boolean(d.get("do_not_reconnect", False), f"{where}.do_not_reconnect"),
        )


@dataclass(frozen=True)
class HeartbeatsSpec:
    """Stop (``enabled`` false) or resume sending HEARTBEAT (3); everything else still flows."""

    enabled: bool

    @classmethod
    def from_dict(cls, data: Any, where: str = "heartbeats") -> HeartbeatsSpec:
        d = mapping(data, where, {"enabled"}, {"enabled"})
        return cls(enabled=boolean(d["enabled"], f"{where}.enabled"))


@dataclass(frozen=True)
class LogonResultSpec:
    """Answer later LOGON_REQUESTs with ``result`` (see ``LOGON_RESULTS``); not 1 → close after the 2."""

    result: int
    text: str = ""
    reconnect_address: str = ""

    @classmethod
    def create(
        cls, result: Any, text_: Any = "", reconnect_address: Any = "", where: str = "logon_result"
    ) -> LogonResultSpec:
        value = integer(result, f"{where}.result")
        if value not in LOGON_RESULTS:
            raise ValueError(f"{where}.result: expected one of {list(LOGON_RESULTS)}, got {value!r}")
        return cls(
            result=value,
            text=optional_text(text_, f"{where}.text"),
            reconnect_address=optional_text(reconnect_address, f"{where}.reconnect_address"),
        )

    @classmethod
    def from_dict(cls, data: Any, where: str = "logon_result") -> LogonResultSpec:
        d = mapping(data, where, {"result", "text", "reconnect_address"}, {"result"})
        return cls.create(d["result"], d.get("text", ""), d.get("reconnect_address", ""), where)


@dataclass(frozen=True)
class PositionsRejectSpec:
    """While ``text`` is set, CURRENT_POSITIONS_REQUEST (305) gets CURRENT_POSITIONS_REJECT (307); null clears."""

    text: str | None

    @classmethod
    def from_dict(cls, data: Any, where: str = "positions_reject") -> PositionsRejectSpec:
        d = mapping(data, where, {"text"}, {"text"})
        return cls(text=None if d["text"] is None else text(d["text"], f"{where}.text"))


@dataclass(frozen=True)
class PriceSpec:
    """A trade of ``volume`` contracts at ``price`` (points): sets the last price, 107 to subscribers."""

    symbol: str
    price: float
    volume: float = 1.0

    @classmethod
    def from_dict(cls, data: Any, where: str = "price") -> PriceSpec:
        d = mapping(data, where, {"symbol", "price", "volume"}, {"symbol", "price"})
        return cls(
            symbol=text(d["symbol"], f"{where}.symbol"),
            price=number(d["price"], f"{where}.price", positive=True),
            volume=number(d.get("volume", 1), f"{where}.volume", positive=True),
        )


@dataclass(frozen=True)
class WalkLeg:
    """One symbol of a price walk: ``start`` (default: its last price), ``tick`` (default: the instrument's),
    optional ``end`` the walk steers to (reached at the last update when within 2 ticks per update)."""

    symbol: str
    start: float | None = None
    tick: float | None = None
    end: float | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> WalkLeg:
        d = mapping(data, where, {"symbol", "start", "tick", "end"}, {"symbol"})

        def opt(key: str) -> float | None:
            return None if d.get(key) is None else number(d[key], f"{where}.{key}", positive=True)

        return cls(symbol=text(d["symbol"], f"{where}.symbol"), start=opt("start"), tick=opt("tick"), end=opt("end"))


@dataclass(frozen=True)
class PriceWalkSpec:
    """A seeded random walk: ``count`` updates ``interval`` seconds apart (the first after one interval);
    each update moves every leg by -2..+2 ticks and trades 1 contract there (107 to subscribers).

    JSON: ``{"symbol", "start"?, "tick"?, "end"?, "count", "interval", "seed"}`` for one symbol, or
    ``{"symbols": [{"symbol", "start"?, "tick"?, "end"?}, ...], "count", "interval", "seed"}`` to move several
    symbols together. The same seed always gives the same moves.
    """

    legs: tuple[WalkLeg, ...]
    count: int
    interval: float
    seed: int = 0

    @classmethod
    def from_dict(cls, data: Any, where: str = "price_walk") -> PriceWalkSpec:
        common = {"count", "interval", "seed"}
        if isinstance(data, dict) and "symbols" in data:
            d = mapping(data, where, common | {"symbols"}, common - {"seed"} | {"symbols"})
            if not isinstance(d["symbols"], list) or not d["symbols"]:
                raise ValueError(f"{where}.symbols: expected a non-empty list of {{symbol, start?, tick?, end?}}")
            legs = tuple(WalkLeg.from_dict(x, f"{where}.symbols[{i}]") for i, x in enumerate(d["symbols"]))
        else:
            d = mapping(data, where, common | {"symbol", "start", "tick", "end"}, {"symbol", "count", "interval"})
            legs = (WalkLeg.from_dict({k: v for k, v in d.items() if k not in common}, where),)
        names = [leg.symbol for leg in legs]
        if len(set(names)) != len(names):
            raise ValueError(f"{where}.symbols: duplicate symbol in {names}")
        return cls(
            legs=legs,
            count=integer(d["count"], f"{where}.count", minimum=1),
            interval=number(d["interval"], f"{where}.interval", positive=True),
            seed=integer(d.get("seed", 0), f"{where}.seed"),
        )


ADJUSTABLE = (
    "EntryPrice",
    "ExitPrice",
    "EntryQuantity",
    "ExitQuantity",
    "ClosedProfitLoss",
    "MaximumOpenPositionLoss",
    "MaximumOpenPositionProfit",
    "Commission",
)
"""HISTORICAL_TRADES_RESPONSE fields a scenario may make differ."""


@dataclass(frozen=True)
class TradesRejectSpec:
    """Step ``trades_reject``: while ``text`` is set, 10100 gets 10101 with it; null clears."""

    text: str | None

    @classmethod
    def from_dict(cls, data: Any, where: str = "trades_reject") -> TradesRejectSpec:
        d = mapping(data, where, {"text"}, {"text"})
        return cls(text=None if d["text"] is None else text(d["text"], f"{where}.text"))


@dataclass(frozen=True)
class TradesDifferenceSpec:
    """Step ``trades_difference``: Sierra's figure ``field`` of the trade closed by ``close_execution_id``
    differs from the fills' by ``amount`` (account currency, points or contracts, as the field is)."""

    close_execution_id: str
    field: str
    amount: float

    @classmethod
    def create(cls, close_execution_id: Any, field_name: Any, amount: Any, where: str) -> TradesDifferenceSpec:
        name = text(field_name, f"{where}.field")
        if name not in ADJUSTABLE:
            raise ValueError(f"{where}.field: expected one of {list(ADJUSTABLE)}, got {name!r}")
        return cls(text(close_execution_id, f"{where}.close_execution_id"), name, number(amount, f"{where}.amount"))

    @classmethod
    def from_dict(cls, data: Any, where: str = "trades_difference") -> TradesDifferenceSpec:
        keys = {"close_execution_id", "field", "amount"}
        d = mapping(data, where, keys, keys)
        return cls.create(d["close_execution_id"], d["field"], d["amount"], where)


@dataclass(frozen=True)
class OrderRejectSpec:
    """While ``text`` is set, every SUBMIT_NEW_SINGLE_ORDER (208) is rejected (301 reason 8, this InfoText)."""

    text: str | None

    @classmethod
    def from_dict(cls, data: Any, where: str = "order_reject") -> OrderRejectSpec:
        d = mapping(data, where, {"text"}, {"text"})
        return cls(text=None if d["text"] is None else text(d["text"], f"{where}.text"))


@dataclass(frozen=True)
class OrderDelaySpec:
    """Answer 208/203/204 only ``seconds`` after they arrive (0: at once)."""

    seconds: float

    @classmethod
    def from_dict(cls, data: Any, where: str = "order_delay") -> OrderDelaySpec:
        d = mapping(data, where, {"seconds"}, {"seconds"})
        return cls(seconds=number(d["seconds"], f"{where}.seconds"))


@dataclass(frozen=True)
class FillStopSpec:
    """Fill the working stop of (``account``, ``symbol``) — e.g. the panel's protective stop — at its price."""

    account: str
    symbol: str

    @classmethod
    def from_dict(cls, data: Any, where: str = "fill_stop") -> FillStopSpec:
        d = mapping(data, where, {"account", "symbol"}, {"account", "symbol"})
        return cls(account=text(d["account"], f"{where}.account"), symbol=text(d["symbol"], f"{where}.symbol"))


ORDER_TYPES = {"limit": 2, "stop": 3}


@dataclass(frozen=True)
class PlaceOrderSpec:
    """A working order the trader enters in Sierra Chart: ``type`` "stop" or "limit", ``side`` BUY/SELL,
    ``price`` points, ``quantity`` contracts; an unsolicited 301 to every client."""

    account: str
    symbol: str
    side: str
    order_type: int
    price: float
    quantity: float

    @classmethod
    def from_dict(cls, data: Any, where: str = "place_order") -> PlaceOrderSpec:
        keys = {"account", "symbol", "side", "type", "price", "quantity"}
        d = mapping(data, where, keys, keys)
        side, kind = d["side"], d["type"]
        if side not in ("BUY", "SELL"):
            raise ValueError(f"{where}.side: expected BUY or SELL, got {side!r}")
        if kind not in ORDER_TYPES:
            raise ValueError(f"{where}.type: expected one of {sorted(ORDER_TYPES)}, got {kind!r}")
        return cls(
            account=text(d["account"], f"{where}.account"),
            symbol=text(d["symbol"], f"{where}.symbol"),
            side=side,
            order_type=ORDER_TYPES[kind],
            price=number(d["price"], f"{where}.price", positive=True),
            quantity=number(d["quantity"], f"{where}.quantity", positive=True),
        )

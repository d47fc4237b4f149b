"""DTC market data as a price source, and security definitions for the instrument book.

Market data: MARKET_DATA_REQUEST (101) per traded symbol, quotes from
MARKET_DATA_SNAPSHOT (104) and trade updates (107, and 112 in its named or positional ``F`` form).

Sierra Chart rejects CME Group, EUREX, NASDAQ and CBOE symbols with MARKET_DATA_REJECT (103); a rejected
symbol is not asked for again on that connection and its prices must come from the CSV source. Runs on the
DTC thread. SymbolIDs are allocated per connection, counting up from 1, and never reused on it (not after a
reject either): a trade still in flight for an earlier symbol must never be taken for a newer one's price.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal

from core.prices import Quote
from dtc.messages import (
    DTCMessage,
    MarketDataReject,
    MarketDataRequest,
    MarketDataSnapshot,
    MarketDataUpdateTrade,
    MarketDataUpdateTradeCompact,
    SecurityDefinitionForSymbolRequest,
    SecurityDefinitionReject,
    SecurityDefinitionResponse,
)
from dtc.timeconv import to_utc
from dtc.values import wire_decimal

log = logging.getLogger(__name__)


class MarketDataFeed:
    """Subscribes to symbols and turns market data messages into ``Quote``s for ``on_quote``."""

    def __init__(self, send: Callable[[DTCMessage], None], on_quote: Callable[[Quote], None]) -> None:
        self._send = send
        self._on_quote = on_quote
        self._enabled = False
        self._ids: dict[str, int] = {}
        self._symbols: dict[int, str] = {}  # every SymbolID given on this connection, rejected ones included
        self._next_id = 1
        self._rejected: dict[str, str] = {}
        self._held: dict[int, list[float]] = {}  # SymbolID → [last price, its time, low, high] since the flush

    @property
    def rejected(self) -> dict[str, str]:
        """Symbol → the server's reject text, for this connection."""
        return dict(self._rejected)

    def on_logon(self, market_data_supported: bool) -> None:
        self._enabled = market_data_supported
        self._ids.clear()
        self._symbols.clear()
        self._next_id = 1
        self._rejected.clear()

    def on_disconnect(self) -> None:
        self._enabled = False

    def ensure(self, symbols: Iterable[str]) -> None:
        """Subscribe to every symbol not yet subscribed or rejected on this connection."""
        if not self._enabled:
            return
        for symbol in symbols:
            if not symbol or symbol in self._ids or symbol in self._rejected:
                continue
            symbol_id = self._next_id
            self._next_id += 1
            self._ids[symbol] = symbol_id
            self._symbols[symbol_id] = symbol
            self._send(MarketDataRequest(RequestAction=1, SymbolID=symbol_id, Symbol=symbol))

    def handle(self, message: DTCMessage) -> None:
        """Route one of 103/104/107/112 (anything else is ignored)."""
        if type(message) is MarketDataUpdateTrade and message.F is None:  # the hot path: a named-JSON 107
            self._hold(message.SymbolID, message.Price, message.DateTime)
            return
        self.flush()
        if isinstance(message, MarketDataReject):
            symbol = self._symbols.get(message.SymbolID, f"SymbolID {message.SymbolID}")
            self._rejected[symbol] = message.RejectText
            self._ids.pop(symbol, None)
            log.info("market data for %s rejected: %s (use the price CSV)", symbol, message.RejectText)
        elif isinstance(message, MarketDataSnapshot):
            self._emit(
                message.SymbolID,
                message.LastTradePrice,
                message.LastTradeDateTime,
                wire_decimal(message.SessionHighPrice),
                wire_decimal(message.SessionLowPrice),
            )
        elif isinstance(message, MarketDataUpdateTrade):
            if message.F is not None and len(message.F) >= 5:
                symbol_id, _side, price, _volume, when = message.F[:5]
                self._emit(symbol_id, price, when)
            else:
                self._emit(message.SymbolID, message.Price, message.DateTime)
        elif isinstance(message, MarketDataUpdateTradeCompact):
            if message.F is not None and len(message.F) >= 5:
                symbol_id, _side, price, _volume, when = message.F[:5]  # Sierra's observed order
                self._emit(symbol_id, price, when)
            else:
                self._emit(message.SymbolID, message.Price, message.DateTime)

    def _hold(self, symbol_id: int, price: float | None, when: float) -> None:
        """Keep a 107 trade until ``flush``: per SymbolID the last price and time and the low and the high."""
        if price is None or not -1e12 < price < 1e12:  # also false for NaN
            return
        held = self._held.get(symbol_id)
        if held is None:
            self._held[symbol_id] = [price, when, price, price]
            return
        held[0] = price
        held[1] = max(held[1], when)
        if price < held[2]:
            held[2] = price
        elif price > held[3]:
            held[3] = price

    def flush(self) -> None:
        """Turn the held trades into quotes: the low and the high (when not the last), then the last, stamped
        with the newest trade time. Called before any other message is routed and at the end of each chunk."""
        if not self._held:
            return
        held, self._held = self._held, {}
        for symbol_id, (last, when, low, high) in held.items():
            for price in sorted({low, high} - {last}):
                self._emit(symbol_id, price, when)
            self._emit(symbol_id, last, when)

    def _emit(
        self, symbol_id: object, price: object, when: object, high: Decimal | None = None, low: Decimal | None = None
    ) -> None:
        symbol = self._symbols.get(symbol_id) if isinstance(symbol_id, int) else None
        value = wire_decimal(price)
        if symbol is None or value is None:
            return
        stamp = to_utc(when) if isinstance(when, int | float) else None
        self._on_quote(Quote(symbol, value, stamp or datetime.now(UTC), "dtc", high=high, low=low))


class SecurityDefinitions:
    """Asks SECURITY_DEFINITION_FOR_SYMBOL_REQUEST (506) once per traded symbol when the server supports it,
    and registers SECURITY_DEFINITION_RESPONSE (507) facts in the ``InstrumentBook``: tick size =
    ``MinPriceIncrement`` (points), point value = ``CurrencyValuePerIncrement`` / ``MinPriceIncrement``, in
    ``Currency`` (the symbol's currency, which may differ from the account's)."""

    def __init__(
        self, send: Callable[[DTCMessage], None], define: Callable[[str, Decimal, Decimal, str], None]
    ) -> None:
        self._send = send
        self._define = define
        self._enabled = False
        self._requested: dict[int, str] = {}
        self._asked: set[str] = set()
        self._next_id = 1_000_000  # apart from the resync RequestIDs on the same connection

    def on_logon(self, supported: bool) -> None:
        self._enabled = supported
        self._requested.clear()
        self._asked.clear()

    def ensure(self, symbols: Iterable[str]) -> None:
        if not self._enabled:
            return
        for symbol in symbols:
            if symbol and symbol not in self._asked:
                self._asked.add(symbol)
                self._next_id += 1
                self._requested[self._next_id] = symbol
                self._send(SecurityDefinitionForSymbolRequest(RequestID=self._next_id, Symbol=symbol))

    def handle(self, message: SecurityDefinitionResponse | SecurityDefinitionReject) -> None:
        symbol = self._requested.pop(message.RequestID, None)
        if isinstance(message, SecurityDefinitionReject):
            log.info("no security definition for %s: %s", symbol or message.RequestID, message.RejectText)
            return
        tick = wire_decimal(message.MinPriceIncrement)
        tick_value = wire_decimal(message.CurrencyValuePerIncrement)
        name = message.Symbol or symbol
        if not name or tick is None or tick_value is None or tick <= 0 or tick_value <= 0:
            return
        # float32 on Sierra's side: snap to a sane number of digits before dividing
        tick = tick.quantize(Decimal("1e-9")).normalize()
        tick_value = tick_value.quantize(Decimal("1e-6")).normalize()
        self._define(name, tick_value / tick, tick, message.Currency)
        log.info(
            "%s: tick %s, point value %s %s (from Sierra Chart)", name, tick, tick_value / tick, message.Currency
        )

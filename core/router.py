"""``MessageRouter``: DTC message type → handler. Knows nothing about panels.

Runs on the DTC thread. Live fills go to ``StateManager.stage_fill`` (stored together when the received chunk
ends), missed fills (304) to ``StateManager.apply_fills`` in groups; position reports, accounts and balances to
their ``StateManager`` methods; batch bookkeeping to ``ResyncController``. Bad input — a frame that does not
decode, an unknown ``Type``, a message with absurd values — is logged with its reason, counted, and skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.accounting import Fill, InvalidFill
from core.fills import FillFactory, InvalidMessage
from core.instruments import InstrumentBook
from core.market_data import MarketDataFeed, SecurityDefinitions
from core.order_guards import OrderGuards
from core.prices import Quote
from core.resync import ResyncController
from core.sierra_trades import SierraTradeList
from core.state import StateManager
from dtc.messages import (
    AccountBalanceReject,
    AccountBalanceUpdate,
    CurrentPositionsReject,
    DTCMessage,
    GeneralLogMessage,
    Heartbeat,
    HistoricalOrderFillResponse,
    HistoricalOrderFillsReject,
    HistoricalTradesReject,
    HistoricalTradesResponse,
    LogonResponse,
    MarketDataReject,
    MarketDataSnapshot,
    MarketDataUpdateTrade,
    MarketDataUpdateTradeCompact,
    OpenOrdersReject,
    OrderUpdate,
    PositionUpdate,
    SecurityDefinitionReject,
    SecurityDefinitionResponse,
    TradeAccountResponse,
    UnknownMessage,
    UserMessage,
)
from dtc.timeconv import to_utc
from dtc.types import FILL_REASONS, LogonStatusEnum, OrderUpdateReasonEnum
from dtc.values import wire_decimal

log = logging.getLogger(__name__)

HISTORY_GROUP = 2000
"""Missed fills (304) stored per transaction."""
LOUD_LOG_LIMIT = 50
"""Each kind of bad input is logged at WARNING this many times, then at DEBUG (still counted)."""


def _money(value: float | None) -> Decimal | None:
    """Account-currency amounts may exceed a price's sentinel bound; 1e15 is still a sentinel."""
    return wire_decimal(value, limit=1e15)


class MessageRouter:
    """Dispatches decoded DTC messages. ``bad_input`` counts skipped input by kind."""

    def __init__(
        self,
        state: StateManager,
        fills: FillFactory,
        resync: ResyncController,
        instruments: InstrumentBook,
        feed: MarketDataFeed | None = None,
        definitions: SecurityDefinitions | None = None,
        trade_list: SierraTradeList | None = None,
        guards: OrderGuards | None = None,
    ) -> None:
        self._state = state
        self.guards = guards
        """The stop guard and orphan cleanup (issue 17): told of every logon and ORDER_UPDATE."""
        self._fills = fills
        self._resync = resync
        self._instruments = instruments
        self._feed = feed
        self._definitions = definitions
        self._trade_list = trade_list
        self._deferred: list[Fill] = []
        self._history: dict[int, list[Fill]] = {}
        resync.on_history_done = self.flush_deferred
        self.bad_input: Counter[str] = Counter()
        self.routed: Counter[str] = Counter()
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            LogonResponse: self._on_logon_response,
            Heartbeat: lambda _m: None,
            OrderUpdate: self._on_order_update,
            HistoricalOrderFillResponse: self._on_historical_fill,
            PositionUpdate: self._on_position_update,
            TradeAccountResponse: self._on_trade_account,
            AccountBalanceUpdate: self._on_balance,
            OpenOrdersReject: self._on_reject,
            CurrentPositionsReject: self._on_reject,
            HistoricalOrderFillsReject: self._on_reject,
            AccountBalanceReject: self._on_reject,
            UserMessage: lambda m: log.info("Sierra Chart message: %s", m.UserMessage),
            GeneralLogMessage: lambda m: log.info("Sierra Chart log: %s", m.MessageText),
            UnknownMessage: self._on_unknown,
        }
        if feed is not None:
            for cls in (MarketDataReject, MarketDataSnapshot, MarketDataUpdateTrade, MarketDataUpdateTradeCompact):
                self._handlers[cls] = feed.handle
        if trade_list is not None:  # Sierra Chart's own trade list (10101/10102)
            self._handlers[HistoricalTradesResponse] = trade_list.on_response
            self._handlers[HistoricalTradesReject] = trade_list.on_reject
        if definitions is not None:
            self._handlers[SecurityDefinitionResponse] = definitions.handle
            self._handlers[SecurityDefinitionReject] = definitions.handle

    def _watch(self, symbols: set[str]) -> None:
        """Ask for prices and contract facts of ``symbols`` (no-ops for ones already asked)."""
        if self._definitions is not None:
            self._definitions.ensure(symbols)
        if self._feed is not None:
            self._feed.ensure(symbols)

    def end_of_chunk(self) -> None:
        """The received chunk is done: apply the prices held back during it (the client's ``on_chunk_end``)."""
        if self._feed is not None:
            self._feed.flush()

    def skip(self, kind: str, reason: str) -> None:
        """Count and log one skipped piece of input (``kind`` groups the counter, ``reason`` is logged)."""
        self.bad_input[kind] += 1
        level = logging.WARNING if self.bad_input[kind] <= LOUD_LOG_LIMIT else logging.DEBUG
        log.log(level, "skipped %s: %s", kind, reason)

    def route(self, message: DTCMessage | UnknownMessage) -> None:
        if self._feed is not None and type(message) is not MarketDataUpdateTrade:
            self._feed.flush()  # held prices are older than this message: apply them first
        handler = self._handlers.get(type(message))
        self.routed[type(message).__name__] += 1
        if handler is None:
            return  # a known message this panel has no use for (e.g. 501 exchange list)
        try:
            handler(message)
        except (InvalidMessage, InvalidFill) as exc:
            self.skip(f"invalid {type(message).__name__}", str(exc))
        except (ArithmeticError, ValueError, TypeError, LookupError, AttributeError) as exc:
            # a message this code did not foresee: the DTC thread must not die from input (ARCHITECTURE §9)
            kind = f"unhandled {type(message).__name__}"
            if self.bad_input[kind] == 0:
                log.exception("error while handling %s; the message is skipped", type(message).__name__)
            self.skip(kind, f"{exc.__class__.__name__}: {exc}")

    # --- handlers -----------------------------------------------------------------------------------

    def _on_unknown(self, message: UnknownMessage) -> None:
        if self._trade_list is not None:
            self._trade_list.on_unknown_type(message.Type)
        self.skip("unknown Type", f"message Type {message.Type} is not handled")

    def _on_logon_response(self, message: LogonResponse) -> None:
        if message.Result == LogonStatusEnum.LOGON_SUCCESS:
            self._state.orders.clear()
            if self._feed is not None:
                self._feed.on_logon(bool(message.MarketDataSupported))
            if self._definitions is not None:
                self._definitions.on_logon(bool(message.SecurityDefinitionsSupported))
            self._resync.on_logon()
            if self.guards is not None:
                self.guards.on_logon(message)
            if self._trade_list is not None:
                self._trade_list.on_logon()
            self._watch(self._state.open_symbols())

    def _on_order_update(self, message: OrderUpdate) -> None:
        if message.RequestID and message.OrderUpdateReason == OrderUpdateReasonEnum.OPEN_ORDERS_REQUEST_RESPONSE:
            self._resync.on_batch_part(message.RequestID, message.MessageNumber, message.TotalNumMessages)
        if message.OrderUpdateReason in FILL_REASONS:
            fill = self._fills.from_order_update(message)
            if self._resync.history_pending:
                self._deferred.append(fill)  # applied after the missed (older) fills
            else:
                self._state.stage_fill(fill)  # stored with the rest of its chunk (end_of_chunk)
            self._watch({fill.symbol})
        if self._state.orders.on_order_update(message):
            self._state.on_orders_changed(message.TradeAccount, message.Symbol)
        if self.guards is not None:
            self.guards.on_order_update(message)

    def _on_historical_fill(self, message: HistoricalOrderFillResponse) -> None:
        """Collect a 304 batch and apply it, oldest first, when its last message arrives."""
        batch = self._history.setdefault(message.RequestID, [])
        try:
            if not message.NoOrderFills:
                batch.append(self._fills.from_historical(message))
        finally:
            if message.MessageNumber >= message.TotalNumberMessages or message.NoOrderFills:
                fills = sorted(self._history.pop(message.RequestID, []), key=lambda f: f.time)
                log.info("historical fills (request %d): %d received", message.RequestID, len(fills))
                self._apply_history(fills)
            self._resync.on_batch_part(message.RequestID, message.MessageNumber, message.TotalNumberMessages)

    def flush_deferred(self) -> None:
        """Apply the live fills held back while history was outstanding, in arrival order."""
        deferred, self._deferred = self._deferred, []
        for request_id in list(self._history):  # an unfinished batch (disconnect, timeout): keep its fills
            self._apply_history(sorted(self._history.pop(request_id), key=lambda f: f.time))
        if deferred:
            self._state.apply_fills(deferred)

    def _apply_history(self, fills: list[Fill]) -> None:
        """Missed fills, oldest first, in groups of ``HISTORY_GROUP`` (one transaction each)."""
        for i in range(0, len(fills), HISTORY_GROUP):
            self._state.apply_fills(fills[i : i + HISTORY_GROUP], publish=False)

    def _on_position_update(self, message: PositionUpdate) -> None:
        try:
            if message.NoPositions:
                self._state.on_no_positions(message.TradeAccount)
                return
            if not message.TradeAccount or not message.Symbol:
                raise InvalidMessage("POSITION_UPDATE without TradeAccount or Symbol")
            qty = _money(message.Quantity if message.Quantity is not None else 0.0)
            avg = _money(message.AveragePrice if message.AveragePrice is not None else 0.0)
            if qty is None or avg is None:
                raise InvalidMessage(f"absurd Quantity/AveragePrice {message.Quantity!r}/{message.AveragePrice!r}")
            self._state.on_broker_position(
                message.TradeAccount,
                message.Symbol,
                qty,
                avg,
                solicited=bool(message.RequestID),
                entry_time=to_utc(message.EntryDateTime),
            )
            self._implied_price(message, qty, avg)
        finally:
            if message.RequestID:
                self._resync.on_batch_part(message.RequestID, message.MessageNumber, message.TotalNumberMessages)

    def _implied_price(self, message: PositionUpdate, qty: Decimal, avg: Decimal) -> None:
        """Fallback price source: the price implied by ``OpenProfitLoss`` of a non-flat 306."""
        open_pnl = _money(message.OpenProfitLoss)
        point_value = self._instruments.lookup(message.Symbol).point_value
        if qty == 0 or not open_pnl or point_value <= 0:
            return
        price = avg + open_pnl / (qty * point_value)
        self._state.on_price(Quote(message.Symbol, price, datetime.now(UTC), "position"))

    def _on_trade_account(self, message: TradeAccountResponse) -> None:
        done = message.MessageNumber >= message.TotalNumberMessages
        self._resync.on_trade_account(message.RequestID, message.TradeAccount, bool(message.TradingIsDisabled), done)

    def _on_balance(self, message: AccountBalanceUpdate) -> None:
        if message.NoAccountBalances or not message.TradeAccount:
            return
        self._state.on_balance(
            message.TradeAccount,
            _money(message.CashBalance),
            message.AccountCurrency,
            _money(message.OpenPositionsProfitLoss),
            _money(message.DailyProfitLoss),
            bool(message.TradingIsDisabled),
            _money(message.SecuritiesValue),
            _money(message.BalanceAvailableForNewPositions),
            _money(message.MarginRequirement),
        )

    def _on_reject(
        self, message: OpenOrdersReject | CurrentPositionsReject | HistoricalOrderFillsReject | AccountBalanceReject
    ) -> None:
        self._resync.on_reject(message.RequestID, message.RejectText)

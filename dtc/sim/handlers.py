"""Answers to client requests, Sierra-style, from the ground truth (``dtc.sim.world``).

400 → 401s; 601 → 600s/602; 305 → 306s (or 307 while a positions reject is injected); 300 → one 301
NoOrders; 303 → 304s/308; 506 → 507/509; 101 → 104 (+ subscription for later 107s) or 103. Runs on the
loop thread; returns the messages to send, never sends itself. 10100 → 10102s/10101: ``dtc.sim.trades``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dtc import messages as m
from dtc.sim.connection import Client, Faults
from dtc.sim.market import restriction_text
from dtc.sim.orders import SimOrderBook
from dtc.sim.steps import InstrumentSpec
from dtc.sim.trades import TradesHandler
from dtc.sim.wire import balance_update, fill_response, market_snapshot, position_update, security_definition
from dtc.sim.world import World
from dtc.timeconv import epoch_seconds

log = logging.getLogger("dtc.sim.server")

SUBSCRIBE, UNSUBSCRIBE, SNAPSHOT = 1, 2, 3


@dataclass(frozen=True)
class HistoryRequest:
    """One answered HISTORICAL_ORDER_FILLS_REQUEST (303): what was asked and how many 304 fills were sent."""

    trade_account: str
    start_date_time: int
    number_of_days: int
    fills_sent: int


class RequestHandlers:
    """Maps request types to handlers; ``instruments`` is shared with (and may be extended by) the server."""

    def __init__(self, world: World, faults: Faults, instruments: Mapping[str, InstrumentSpec]) -> None:
        self._world, self._faults, self._instruments = world, faults, instruments
        self.history_requests: list[HistoryRequest] = []
        self.orders = SimOrderBook(world.new_order_id)
        """Working orders and the answers to 208/203/204 (``dtc.sim.orders``): 300 lists them; 401 and 600
        report their accounts' TradingIsDisabled."""
        self.trades = TradesHandler(world, instruments)
        """10100 → 10102s/10101 (Sierra Chart's own flat-to-flat trade list), with its fault injection."""
        self._table: dict[type, Callable[[Client, Any], list[m.DTCMessage]]] = {
            m.TradeAccountsRequest: self._accounts,
            m.AccountBalanceRequest: self._balances,
            m.CurrentPositionsRequest: self._positions,
            m.OpenOrdersRequest: self._open_orders,
            m.HistoricalOrderFillsRequest: self._fills,
            m.SecurityDefinitionForSymbolRequest: self._security_definition,
            m.MarketDataRequest: self._market_data,
            m.HistoricalTradesRequest: lambda _client, req: self.trades.handle(req),
        }

    def handle(self, client: Client, msg: m.DTCMessage) -> list[m.DTCMessage] | None:
        """The reply to ``msg`` (possibly empty), or None when the simulator does not handle its type."""
        handler = self._table.get(type(msg))
        return None if handler is None else handler(client, msg)

    def _accounts(self, _client: Client, req: m.TradeAccountsRequest) -> list[m.DTCMessage]:
        """400 → one 401 per account (a single one with an empty TradeAccount when there are none)."""
        names = [a.TradeAccount for a in self._world.accounts()] or [""]
        return [
            m.TradeAccountResponse(
                TotalNumberMessages=len(names),
                MessageNumber=i,
                TradeAccount=name,
                RequestID=req.RequestID,
                TradingIsDisabled=int(name in self.orders.faults.disabled_accounts),
            )
            for i, name in enumerate(names, 1)
        ]

    def _balances(self, _client: Client, req: m.AccountBalanceRequest) -> list[m.DTCMessage]:
        """601 → one 600 per (requested) account; 602 for an unknown account."""
        accounts = self._world.accounts(req.TradeAccount)
        if req.TradeAccount and not accounts:
            return [
                m.AccountBalanceReject(RequestID=req.RequestID, RejectText=f"Unknown trade account: {req.TradeAccount}")
            ]
        if not accounts:
            return [m.AccountBalanceUpdate(RequestID=req.RequestID, NoAccountBalances=1)]
        disabled = self.orders.faults.disabled_accounts
        return [
            balance_update(a, req.RequestID, len(accounts), i, a.TradeAccount in disabled)
            for i, a in enumerate(accounts, 1)
        ]

    def _positions(self, _client: Client, req: m.CurrentPositionsRequest) -> list[m.DTCMessage]:
        """305 → 306 per traded (account, symbol), flat ones at 0; one NoPositions 306 when there are none;
        307 while a positions reject is injected."""
        if self._faults.positions_reject is not None:
            return [m.CurrentPositionsReject(RequestID=req.RequestID, RejectText=self._faults.positions_reject)]
        rows = self._world.positions(req.TradeAccount)
        if not rows:
            return [
                m.PositionUpdate(
                    RequestID=req.RequestID,
                    TotalNumberMessages=1,
                    MessageNumber=1,
                    Symbol="",
                    TradeAccount=req.TradeAccount,
                    NoPositions=1,
                    Quantity=0.0,
                    AveragePrice=0.0,
                )
            ]
        return [
            position_update(acct, sym, pos, req.RequestID, len(rows), i) for i, (acct, sym, pos) in enumerate(rows, 1)
        ]

    def _open_orders(self, _client: Client, req: m.OpenOrdersRequest) -> list[m.DTCMessage]:
        """300 → the working orders (``dtc.sim.orders``), or a single 301 with NoOrders 1."""
        if self.orders.faults.open_orders_reject is not None:
            return [m.OpenOrdersReject(RequestID=req.RequestID, RejectText=self.orders.faults.open_orders_reject)]
        return list(self.orders.open_orders(req.RequestID, req.TradeAccount))

    def _fills(self, _client: Client, req: m.HistoricalOrderFillsRequest) -> list[m.DTCMessage]:
        """303 → one 304 per stored fill since StartDateTime (s or µs) or NumberOfDays; 308 when invalid."""
        start = epoch_seconds(req.StartDateTime) if req.StartDateTime else None
        if start is None and req.NumberOfDays > 0:
            start = time.time() - req.NumberOfDays * 86400
        if not req.TradeAccount or start is None:
            text = "TradeAccount is not set" if not req.TradeAccount else "StartDateTime or NumberOfDays is not set"
            return [m.HistoricalOrderFillsReject(RequestID=req.RequestID, RejectText=text)]
        if self._faults.history_reject is not None:
            return [m.HistoricalOrderFillsReject(RequestID=req.RequestID, RejectText=self._faults.history_reject)]
        fills = self._world.fills(req.TradeAccount, start, req.ServerOrderID)
        self.history_requests.append(
            HistoryRequest(req.TradeAccount, int(req.StartDateTime), int(req.NumberOfDays), len(fills))
        )
        if not fills:
            return [
                m.HistoricalOrderFillResponse(RequestID=req.RequestID, TradeAccount=req.TradeAccount, NoOrderFills=1)
            ]
        return [fill_response(f, req.RequestID, len(fills), i) for i, f in enumerate(fills, 1)]

    def _security_definition(self, _client: Client, req: m.SecurityDefinitionForSymbolRequest) -> list[m.DTCMessage]:
        """506 → 507 from the instrument table; 509 for an unknown symbol."""
        spec = self._instruments.get(req.Symbol)
        if spec is None:
            text = "Symbol is not set" if not req.Symbol else f"Symbol not found: {req.Symbol}"
            return [m.SecurityDefinitionReject(RequestID=req.RequestID, RejectText=text)]
        return [security_definition(req.RequestID, spec)]

    def _market_data(self, client: Client, req: m.MarketDataRequest) -> list[m.DTCMessage]:
        """101: 1 subscribe → 104 then 107 per trade; 2 unsubscribe → nothing; 3 snapshot → 104; else 103."""
        if req.RequestAction == UNSUBSCRIBE:
            symbol = client.subscriptions.pop(req.SymbolID, None)
            log.info("client %s: market data unsubscribe SymbolID %d (%s)", client.peer, req.SymbolID, symbol)
            return []
        reject = ""
        if req.RequestAction not in (SUBSCRIBE, SNAPSHOT):
            reject = f"RequestAction {req.RequestAction} is not supported by the simulator"
        elif req.SymbolID <= 0:
            reject = "SymbolID is not set"
        elif not req.Symbol:
            reject = "Symbol is not set"
        else:
            reject = restriction_text(req.Symbol, req.Exchange, self._faults.market_data_rejected) or ""
        if reject:
            log.info("client %s: market data for %r rejected: %s", client.peer, req.Symbol, reject)
            return [m.MarketDataReject(SymbolID=req.SymbolID, RejectText=reject)]
        if req.RequestAction == SUBSCRIBE:
            client.subscriptions[req.SymbolID] = req.Symbol
            log.info("client %s: market data subscribe %s as SymbolID %d", client.peer, req.Symbol, req.SymbolID)
        spec = self._instruments.get(req.Symbol)
        return [market_snapshot(req.SymbolID, self._world.quote(req.Symbol), spec.tick if spec else None)]

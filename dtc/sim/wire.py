"""Builders of the DTC messages the simulator sends, shaped like Sierra Chart's (every field present).

Pure functions of ground-truth values (``dtc.sim.world``): prices in points, quantities in contracts,
money in the account currency. Time fields follow dtc-protocol §9: ``LastFillDateTime`` epoch ms,
``DateTime``/``EntryDateTime``/``OrderReceivedDateTime`` whole UTC seconds, market-data times UTC seconds
with fraction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import msgspec

from dtc import messages as m
from dtc.sim.scenario import AccountSpec
from dtc.sim.steps import InstrumentSpec
from dtc.sim.world import FillRecord, Position, Quote
from dtc.types import PROTOCOL_VERSION, BuySellEnum, OrderStatusEnum, OrderUpdateReasonEnum

SERVER_NAME = "DTC Panel simulator"
SECURITY_TYPE_FUTURES = 1
LOGON_TEXTS = {
    1: "Logon successful",
    2: "Logon failed (simulated)",
    3: "Logon failed: do not reconnect (simulated)",
    4: "Reconnect to another server (simulated)",
}


_UNSET_ABSENT = (m.MarketDataSnapshot, m.MarketDataUpdateTrade, m.SecurityDefinitionResponse)
"""Messages whose unset (None) fields are left out, as DTC JSON should; others keep Sierra's full field set."""
_encoder = msgspec.json.Encoder()


def frame(msg: m.DTCMessage) -> bytes:
    """One JSON frame with its 0x00 terminator; a JSON-Compact-only ``F`` key is never sent."""
    if not hasattr(msg, "F") and not isinstance(msg, _UNSET_ABSENT):
        return m.encode_message(msg)
    d = msgspec.to_builtins(msg)
    if isinstance(msg, _UNSET_ABSENT):
        d = {k: v for k, v in d.items() if v is not None}
    d.pop("F", None)
    return _encoder.encode(d) + b"\x00"


def encode_all(msgs: Iterable[m.DTCMessage]) -> bytes:
    """Concatenated frames (each with its 0x00 terminator)."""
    return b"".join(frame(x) for x in msgs)


def heartbeat() -> bytes:
    """HEARTBEAT (3) frame as Sierra sends it in named JSON (no JSON-Compact "F" key)."""
    return msgspec.json.encode({"Type": 3, "NumDroppedMessages": 0, "CurrentDateTime": int(time.time())}) + b"\x00"


def buysell(side: str) -> int:
    return int(BuySellEnum.BUY if side == "BUY" else BuySellEnum.SELL)


def logon_response(
    result: int = 1, text: str = "", reconnect_address: str = "", trading_supported: bool = True
) -> m.LogonResponse:
    """LOGON_RESPONSE (2): market data and security definitions supported, and trading unless
    ``trading_supported`` is False (Allow Trading = No)."""
    return m.LogonResponse(
        ProtocolVersion=PROTOCOL_VERSION,
        Result=result,
        ResultText=text or LOGON_TEXTS.get(result, ""),
        ReconnectAddress=reconnect_address,
        ServerName=SERVER_NAME,
        TradingIsSupported=int(trading_supported),
        OCOOrdersSupported=0,
        OrderCancelReplaceSupported=1,
        SecurityDefinitionsSupported=1,
        HistoricalPriceDataSupported=0,
        MarketDepthIsSupported=0,
        BracketOrdersSupported=0,
        UsesMultiplePositionsPerSymbolAndTradeAccount=0,
        MarketDataSupported=1,
    )


def position_update(
    account: str, symbol: str, pos: Position, request_id: int = 0, total: int = 1, number: int = 1
) -> m.PositionUpdate:
    """POSITION_UPDATE (306) with every field present; unsolicited when ``request_id`` is 0."""
    return m.PositionUpdate(
        RequestID=request_id,
        TotalNumberMessages=total,
        MessageNumber=number,
        Symbol=symbol,
        Quantity=pos.quantity,
        AveragePrice=pos.average_price,
        TradeAccount=account,
        Unsolicited=int(request_id == 0),
        MarginRequirement=0.0,
        EntryDateTime=int(pos.entry_time),
        OpenProfitLoss=0.0,
        HighPriceDuringPosition=0.0,
        LowPriceDuringPosition=0.0,
        QuantityLimit=0.0,
        MaxPotentialPostionQuantity=0.0,
    )


def balance_update(
    a: AccountSpec, request_id: int = 0, total: int = 1, number: int = 1, trading_disabled: bool = False
) -> m.AccountBalanceUpdate:
    """ACCOUNT_BALANCE_UPDATE (600), money in the account currency; unsolicited when ``request_id`` is 0;
    ``trading_disabled``: Sierra Chart's risk settings lock the account (``TradingIsDisabled``, every 600)."""
    available, value = a.BalanceAvailableForNewPositions, a.SecuritiesValue
    return m.AccountBalanceUpdate(
        RequestID=request_id,
        CashBalance=a.CashBalance,
        BalanceAvailableForNewPositions=a.CashBalance - a.MarginRequirement if available is None else available,
        AccountCurrency=a.AccountCurrency,
        TradeAccount=a.TradeAccount,
        SecuritiesValue=a.CashBalance + a.OpenPositionsProfitLoss if value is None else value,
        MarginRequirement=a.MarginRequirement,
        TotalNumberMessages=total,
        MessageNumber=number,
        Unsolicited=int(request_id == 0),
        OpenPositionsProfitLoss=a.OpenPositionsProfitLoss,
        DailyProfitLoss=a.DailyProfitLoss,
        DailyNetLossLimit=0.0,
        TrailingAccountValueToLimitPositions=0.0,
        MarginRequirementFull=0.0,
        MarginRequirementFullPositionsOnly=0.0,
        PeakMarginRequirement=0.0,
        TradingIsDisabled=int(trading_disabled),
    )


def fill_order_update(f: FillRecord) -> m.OrderUpdate:
    """Unsolicited ORDER_UPDATE (301) of one fill piece (a market day order); identical for the same record."""
    n = f.server_order_id.rpartition("-")[2]
    return m.OrderUpdate(
        RequestID=0,
        TotalNumMessages=1,
        MessageNumber=1,
        Symbol=f.symbol,
        ServerOrderID=f.server_order_id,
        ClientOrderID=f.client_order_id or f"SIMCL-{n}",
        TradeAccount=f.account,
        OrderStatus=OrderStatusEnum.ORDER_STATUS_FILLED if f.final else OrderStatusEnum.ORDER_STATUS_PARTIALLY_FILLED,
        OrderUpdateReason=OrderUpdateReasonEnum.ORDER_FILLED
        if f.final
        else OrderUpdateReasonEnum.ORDER_FILLED_PARTIALLY,
        OrderType=1,
        BuySell=buysell(f.side),
        TimeInForce=1,
        OrderQuantity=f.order_quantity,
        FilledQuantity=f.filled_quantity,
        RemainingQuantity=round(f.order_quantity - f.filled_quantity, 10),
        AverageFillPrice=f.average_fill_price,
        LastFillPrice=f.price,
        LastFillQuantity=f.quantity,
        LastFillDateTime=round(f.time * 1000),
        LastFillExecutionID=f.execution_id,
        OrderReceivedDateTime=int(f.order_time),
        LatestTransactionDateTime=f.time,
    )


def fill_response(f: FillRecord, request_id: int, total: int, number: int) -> m.HistoricalOrderFillResponse:
    """HISTORICAL_ORDER_FILL_RESPONSE (304) of one stored fill; ``DateTime`` whole UTC seconds."""
    return m.HistoricalOrderFillResponse(
        RequestID=request_id,
        TotalNumberMessages=total,
        MessageNumber=number,
        Symbol=f.symbol,
        ServerOrderID=f.server_order_id,
        BuySell=buysell(f.side),
        Price=f.price,
        DateTime=int(f.time),
        Quantity=f.quantity,
        UniqueExecutionID=f.execution_id,
        TradeAccount=f.account,
        PositionQuantity=f.position_quantity,
    )


def security_definition(request_id: int, spec: InstrumentSpec) -> m.SecurityDefinitionResponse:
    """SECURITY_DEFINITION_RESPONSE (507): tick size (points) and tick value (currency per contract)."""
    decimals = len(f"{spec.tick:.10f}".rstrip("0").partition(".")[2])
    return m.SecurityDefinitionResponse(
        RequestID=request_id,
        Symbol=spec.symbol,
        Exchange=spec.exchange,
        SecurityType=SECURITY_TYPE_FUTURES,
        Description=spec.description,
        MinPriceIncrement=spec.tick,
        PriceDisplayFormat=decimals,
        CurrencyValuePerIncrement=spec.tick_value,
        IsFinalMessage=1,
        DisplayPriceMultiplier=1.0,
        ExchangeSymbol=spec.symbol.rpartition("-")[0] or spec.symbol,
        Currency=spec.currency,
    )


def market_snapshot(symbol_id: int, quote: Quote | None, tick: float | None) -> m.MarketDataSnapshot:
    """MARKET_DATA_SNAPSHOT (104): last trade, session open/high/low/volume, bid = last, ask = last + tick.

    Without any trade yet the price fields are null (unset), as DTC allows.
    """
    if quote is None:
        return m.MarketDataSnapshot(SymbolID=symbol_id)
    ask = quote.last + tick if tick else quote.last
    return m.MarketDataSnapshot(
        SymbolID=symbol_id,
        SessionOpenPrice=quote.open,
        SessionHighPrice=quote.high,
        SessionLowPrice=quote.low,
        SessionVolume=quote.session_volume,
        SessionNumTrades=quote.trades,
        BidPrice=quote.last,
        AskPrice=round(ask, 10),
        BidQuantity=1.0,
        AskQuantity=1.0,
        LastTradePrice=quote.last,
        LastTradeVolume=quote.volume,
        LastTradeDateTime=quote.time,
        BidAskDateTime=quote.time,
    )


def trade_update(symbol_id: int, quote: Quote) -> m.MarketDataUpdateTrade:
    """MARKET_DATA_UPDATE_TRADE (107) of the quote's last trade; ``DateTime`` UTC seconds with fraction."""
    return m.MarketDataUpdateTrade(
        SymbolID=symbol_id, AtBidOrAsk=quote.at_bid_or_ask, Price=quote.last, Volume=quote.volume, DateTime=quote.time
    )

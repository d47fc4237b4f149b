"""Typed DTC messages (JSON encoding) and their decoder/encoder.

Each message is an immutable ``msgspec.Struct`` whose field names are the DTC JSON keys (the C++ field
names of the v8 header) and whose ``Type`` tag is the DTC message number. Unknown JSON keys are ignored;
missing keys and ``null`` values take the protocol default (0 / empty), as the DTC spec tells a reader to do;
text that is not UTF-8 is read as 8-bit (Windows-1252). Prices and quantities that Sierra Chart may leave
unset are ``float | None``.

Units: prices in the instrument's price units (points), quantities in contracts, ``*DateTime`` fields as the
protocol sends them (see ``dtc.timeconv`` for normalising to UTC seconds).
"""

from __future__ import annotations

from typing import Any, ClassVar, Union

import msgspec

from dtc.relax import eight_bit_text, without_nulls
from dtc.types import PROTOCOL_VERSION, MessageType

MT = MessageType


class DTCMessage(msgspec.Struct, frozen=True, tag_field="Type", kw_only=True):
    """Base class of every typed DTC message; ``Type`` is written first on encode."""

    TYPE: ClassVar[MessageType]


def _tag(t: MessageType) -> dict[str, Any]:
    return {"tag": int(t)}


# --- 2.1 authentication / connection -------------------------------------------------------------


class LogonRequest(DTCMessage, **_tag(MT.LOGON_REQUEST)):
    ProtocolVersion: int = PROTOCOL_VERSION
    Username: str = ""
    Password: str = ""
    GeneralTextData: str = ""
    Integer_1: int = 0
    Integer_2: int = 0
    HeartbeatIntervalInSeconds: int = 10
    TradeAccount: str = ""
    HardwareIdentifier: str = ""
    ClientName: str = ""

    def __repr__(self) -> str:  # never show the password in logs or exceptions
        return (
            f"LogonRequest(Username={self.Username!r}, Password='***', "
            f"HeartbeatIntervalInSeconds={self.HeartbeatIntervalInSeconds}, ClientName={self.ClientName!r})"
        )

    __str__ = __repr__


class LogonResponse(DTCMessage, **_tag(MT.LOGON_RESPONSE)):
    ProtocolVersion: int = 0
    Result: int = 0
    ResultText: str = ""
    ReconnectAddress: str = ""
    Integer_1: int = 0
    ServerName: str = ""
    MarketDepthUpdatesBestBidAndAsk: int = 0
    TradingIsSupported: int = 0
    OCOOrdersSupported: int = 0
    OrderCancelReplaceSupported: int = 1
    SymbolExchangeDelimiter: str = ""
    SecurityDefinitionsSupported: int = 0
    HistoricalPriceDataSupported: int = 0
    ResubscribeWhenMarketDataFeedAvailable: int = 0
    MarketDepthIsSupported: int = 1
    OneHistoricalPriceDataRequestPerConnection: int = 0
    BracketOrdersSupported: int = 0
    UsesMultiplePositionsPerSymbolAndTradeAccount: int = 0
    MarketDataSupported: int = 1


class Heartbeat(DTCMessage, **_tag(MT.HEARTBEAT)):
    """HEARTBEAT (3). ``F`` holds the positional values when the server uses JSON Compact."""

    NumDroppedMessages: int = 0
    CurrentDateTime: int = 0
    F: tuple[Any, ...] | None = None


class Logoff(DTCMessage, **_tag(MT.LOGOFF)):
    Reason: str = ""
    DoNotReconnect: int = 0


class EncodingRequest(DTCMessage, **_tag(MT.ENCODING_REQUEST)):
    ProtocolVersion: int = PROTOCOL_VERSION
    Encoding: int = 2
    ProtocolType: str = "DTC"


class EncodingResponse(DTCMessage, **_tag(MT.ENCODING_RESPONSE)):
    ProtocolVersion: int = PROTOCOL_VERSION
    Encoding: int = 2
    ProtocolType: str = "DTC"


# --- 2.3 order entry (C→S): only the panel's protective stop and its cancels (core/order_guards.py) ---------


class SubmitNewSingleOrder(DTCMessage, **_tag(MT.SUBMIT_NEW_SINGLE_ORDER)):
    """SUBMIT_NEW_SINGLE_ORDER (208), fields as in the v8 header's ``s_SubmitNewSingleOrder``.

    ``ClientOrderID`` must be unique for the trading session; ``OrderType`` OrderTypeEnum (3 = stop, trigger
    ``Price1`` in points); ``BuySell`` 1 buy / 2 sell; ``Quantity`` contracts; ``TimeInForce`` TimeInForceEnum;
    ``OpenOrClose`` OpenCloseTradeEnum (2 = close; servers ignore it for futures); ``IsAutomatedOrder`` 1 for
    an order no person clicked."""

    Symbol: str = ""
    Exchange: str = ""
    TradeAccount: str = ""
    ClientOrderID: str = ""
    OrderType: int = 0
    BuySell: int = 0
    Price1: float = 0.0
    Price2: float = 0.0
    Quantity: float = 0.0
    TimeInForce: int = 0
    GoodTillDateTime: int = 0
    IsAutomatedOrder: int = 0
    IsParentOrder: int = 0
    FreeFormText: str = ""
    OpenOrClose: int = 0


class CancelOrder(DTCMessage, **_tag(MT.CANCEL_ORDER)):
    """CANCEL_ORDER (203): the working order ``ServerOrderID`` of ``TradeAccount``."""

    ServerOrderID: str = ""
    ClientOrderID: str = ""
    TradeAccount: str = ""


class CancelReplaceOrder(DTCMessage, **_tag(MT.CANCEL_REPLACE_ORDER)):
    """CANCEL_REPLACE_ORDER (204): new ``Price1`` (points) and ``Quantity`` (contracts) of a working order;
    ``Price1IsSet``/``Price2IsSet`` 1 = the price is meant (0 = keep it)."""

    ServerOrderID: str = ""
    ClientOrderID: str = ""
    Price1: float = 0.0
    Price2: float = 0.0
    Quantity: float = 0.0
    Price1IsSet: int = 1
    Price2IsSet: int = 0
    TimeInForce: int = 0
    GoodTillDateTime: int = 0
    TradeAccount: str = ""


# --- 2.4 trading state ---------------------------------------------------------------------------


class OpenOrdersRequest(DTCMessage, **_tag(MT.OPEN_ORDERS_REQUEST)):
    RequestID: int = 0
    RequestAllOrders: int = 1
    ServerOrderID: str = ""
    TradeAccount: str = ""


class OrderUpdate(DTCMessage, **_tag(MT.ORDER_UPDATE)):
    """ORDER_UPDATE (301): every order event; a fill when ``OrderUpdateReason`` is 4 or 5.

    ``LastFillDateTime`` is milliseconds in the current header (seconds in 2020 headers).
    """

    RequestID: int = 0
    TotalNumMessages: int = 1
    MessageNumber: int = 1
    Symbol: str = ""
    Exchange: str = ""
    PreviousServerOrderID: str = ""
    ServerOrderID: str = ""
    ClientOrderID: str = ""
    ExchangeOrderID: str = ""
    OrderStatus: int = 0
    OrderUpdateReason: int = 0
    OrderType: int = 0
    BuySell: int = 0
    Price1: float | None = None
    Price2: float | None = None
    TimeInForce: int = 0
    GoodTillDateTime: int = 0
    OrderQuantity: float | None = None
    FilledQuantity: float | None = None
    RemainingQuantity: float | None = None
    AverageFillPrice: float | None = None
    LastFillPrice: float | None = None
    LastFillDateTime: int | float = 0
    LastFillQuantity: float | None = None
    LastFillExecutionID: str = ""
    TradeAccount: str = ""
    InfoText: str = ""
    NoOrders: int = 0
    ParentServerOrderID: str = ""
    OCOLinkedOrderServerOrderID: str = ""
    OpenOrClose: int = 0
    PreviousClientOrderID: str = ""
    FreeFormText: str = ""
    OrderReceivedDateTime: int = 0
    LatestTransactionDateTime: float = 0.0
    Username: str = ""


class OpenOrdersReject(DTCMessage, **_tag(MT.OPEN_ORDERS_REJECT)):
    RequestID: int = 0
    RejectText: str = ""


class HistoricalOrderFillsRequest(DTCMessage, **_tag(MT.HISTORICAL_ORDER_FILLS_REQUEST)):
    RequestID: int = 0
    ServerOrderID: str = ""
    NumberOfDays: int = 0
    TradeAccount: str = ""
    StartDateTime: int = 0


class HistoricalOrderFillResponse(DTCMessage, **_tag(MT.HISTORICAL_ORDER_FILL_RESPONSE)):
    """HISTORICAL_ORDER_FILL_RESPONSE (304): one stored fill; ``DateTime`` in UTC seconds."""

    RequestID: int = 0
    TotalNumberMessages: int = 1
    MessageNumber: int = 1
    Symbol: str = ""
    Exchange: str = ""
    ServerOrderID: str = ""
    BuySell: int = 0
    Price: float | None = None
    DateTime: int | float = 0
    Quantity: float | None = None
    UniqueExecutionID: str = ""
    TradeAccount: str = ""
    OpenClose: int = 0
    NoOrderFills: int = 0
    InfoText: str = ""
    HighPriceDuringPosition: float | None = None
    LowPriceDuringPosition: float | None = None
    PositionQuantity: float | None = None
    Username: str = ""
    ExchangeOrderID: str = ""
    SenderSubID: str = ""


class CurrentPositionsRequest(DTCMessage, **_tag(MT.CURRENT_POSITIONS_REQUEST)):
    RequestID: int = 0
    TradeAccount: str = ""


class PositionUpdate(DTCMessage, **_tag(MT.POSITION_UPDATE)):
    """POSITION_UPDATE (306): the server's position for (TradeAccount, Symbol); ``Quantity`` signed."""

    RequestID: int = 0
    TotalNumberMessages: int = 1
    MessageNumber: int = 1
    Symbol: str = ""
    Exchange: str = ""
    Quantity: float | None = None
    AveragePrice: float | None = None
    PositionIdentifier: str = ""
    TradeAccount: str = ""
    NoPositions: int = 0
    Unsolicited: int = 0
    MarginRequirement: float | None = None
    EntryDateTime: int = 0
    OpenProfitLoss: float | None = None
    HighPriceDuringPosition: float | None = None
    LowPriceDuringPosition: float | None = None
    QuantityLimit: float | None = None
    MaxPotentialPostionQuantity: float | None = None


class CurrentPositionsReject(DTCMessage, **_tag(MT.CURRENT_POSITIONS_REJECT)):
    RequestID: int = 0
    RejectText: str = ""


class HistoricalOrderFillsReject(DTCMessage, **_tag(MT.HISTORICAL_ORDER_FILLS_REJECT)):
    RequestID: int = 0
    RejectText: str = ""


# --- 2.5 accounts and balances -------------------------------------------------------------------


class TradeAccountsRequest(DTCMessage, **_tag(MT.TRADE_ACCOUNTS_REQUEST)):
    RequestID: int = 0


class TradeAccountResponse(DTCMessage, **_tag(MT.TRADE_ACCOUNT_RESPONSE)):
    TotalNumberMessages: int = 1
    MessageNumber: int = 1
    TradeAccount: str = ""
    RequestID: int = 0
    TradingIsDisabled: int = 0


class ExchangeListResponse(DTCMessage, **_tag(MT.EXCHANGE_LIST_RESPONSE)):
    RequestID: int = 0
    Exchange: str = ""
    IsFinalMessage: int = 0
    Description: str = ""


class AccountBalanceUpdate(DTCMessage, **_tag(MT.ACCOUNT_BALANCE_UPDATE)):
    """ACCOUNT_BALANCE_UPDATE (600); money fields in ``AccountCurrency``."""

    RequestID: int = 0
    CashBalance: float | None = None
    BalanceAvailableForNewPositions: float | None = None
    AccountCurrency: str = ""
    TradeAccount: str = ""
    SecuritiesValue: float | None = None
    MarginRequirement: float | None = None
    TotalNumberMessages: int = 1
    MessageNumber: int = 1
    NoAccountBalances: int = 0
    Unsolicited: int = 0
    OpenPositionsProfitLoss: float | None = None
    DailyProfitLoss: float | None = None
    InfoText: str = ""
    TransactionIdentifier: int = 0
    DailyNetLossLimit: float | None = None
    TrailingAccountValueToLimitPositions: float | None = None
    DailyNetLossLimitReached: int = 0
    IsUnderRequiredMargin: int = 0
    ClosePositionsAtEndOfDay: int = 0
    TradingIsDisabled: int = 0
    Description: str = ""
    IsUnderRequiredAccountValue: int = 0
    TransactionDateTime: int = 0
    MarginRequirementFull: float | None = None
    MarginRequirementFullPositionsOnly: float | None = None
    PeakMarginRequirement: float | None = None
    IntroducingBroker: str = ""


class AccountBalanceRequest(DTCMessage, **_tag(MT.ACCOUNT_BALANCE_REQUEST)):
    RequestID: int = 0
    TradeAccount: str = ""


class AccountBalanceReject(DTCMessage, **_tag(MT.ACCOUNT_BALANCE_REJECT)):
    RequestID: int = 0
    RejectText: str = ""


class SecurityDefinitionForSymbolRequest(DTCMessage, **_tag(MT.SECURITY_DEFINITION_FOR_SYMBOL_REQUEST)):
    RequestID: int = 0
    Symbol: str = ""
    Exchange: str = ""


class SecurityDefinitionResponse(DTCMessage, **_tag(MT.SECURITY_DEFINITION_RESPONSE)):
    """SECURITY_DEFINITION_RESPONSE (507): ``MinPriceIncrement`` is the tick size (points) and
    ``CurrencyValuePerIncrement`` the value of one tick per contract (account currency)."""

    RequestID: int = 0
    Symbol: str = ""
    Exchange: str = ""
    SecurityType: int = 0
    Description: str = ""
    MinPriceIncrement: float | None = None
    PriceDisplayFormat: int = 0
    CurrencyValuePerIncrement: float | None = None
    IsFinalMessage: int = 1
    DisplayPriceMultiplier: float | None = None
    ExchangeSymbol: str = ""
    Currency: str = ""
    ContractSize: float | None = None


class SecurityDefinitionReject(DTCMessage, **_tag(MT.SECURITY_DEFINITION_REJECT)):
    RequestID: int = 0
    RejectText: str = ""


# --- 2.2 market data (prices in points; DateTime fields per dtc-protocol §9) -------------------------


class MarketDataRequest(DTCMessage, **_tag(MT.MARKET_DATA_REQUEST)):
    """MARKET_DATA_REQUEST (101): ``RequestAction`` 1 subscribe, 2 unsubscribe, 3 snapshot."""

    RequestAction: int = 1
    SymbolID: int = 0
    Symbol: str = ""
    Exchange: str = ""
    IntervalForSnapshotUpdatesInMilliseconds: int = 0


class MarketDataReject(DTCMessage, **_tag(MT.MARKET_DATA_REJECT)):
    SymbolID: int = 0
    RejectText: str = ""


class MarketDataSnapshot(DTCMessage, **_tag(MT.MARKET_DATA_SNAPSHOT)):
    """MARKET_DATA_SNAPSHOT (104). Unset values may be absent, null, or DBL_MAX sentinels."""

    SymbolID: int = 0
    SessionSettlementPrice: float | None = None
    SessionOpenPrice: float | None = None
    SessionHighPrice: float | None = None
    SessionLowPrice: float | None = None
    SessionVolume: float | None = None
    SessionNumTrades: int = 0
    OpenInterest: int = 0
    BidPrice: float | None = None
    AskPrice: float | None = None
    AskQuantity: float | None = None
    BidQuantity: float | None = None
    LastTradePrice: float | None = None
    LastTradeVolume: float | None = None
    LastTradeDateTime: float = 0.0
    BidAskDateTime: float = 0.0
    SessionSettlementDateTime: int = 0
    TradingSessionDate: int = 0
    TradingStatus: int = 0
    MarketDepthUpdateDateTime: float = 0.0


class MarketDataUpdateTrade(DTCMessage, **_tag(MT.MARKET_DATA_UPDATE_TRADE)):
    """MARKET_DATA_UPDATE_TRADE (107); ``DateTime`` in UTC seconds with fraction."""

    SymbolID: int = 0
    AtBidOrAsk: int = 0
    Price: float | None = None
    Volume: float | None = None
    DateTime: float = 0.0
    F: tuple[Any, ...] | None = None


class MarketDataUpdateTradeCompact(DTCMessage, **_tag(MT.MARKET_DATA_UPDATE_TRADE_COMPACT)):
    """MARKET_DATA_UPDATE_TRADE_COMPACT (112); ``DateTime`` in UTC seconds. In JSON Compact the values come
    positionally in ``F`` as [SymbolID, AtBidOrAsk, Price, Volume, DateTime] (Sierra's observed order)."""

    Price: float | None = None
    Volume: float | None = None
    DateTime: float = 0.0
    SymbolID: int = 0
    AtBidOrAsk: int = 0
    F: tuple[Any, ...] | None = None


class MarketDataUpdateBidAsk(DTCMessage, **_tag(MT.MARKET_DATA_UPDATE_BID_ASK)):
    SymbolID: int = 0
    BidPrice: float | None = None
    BidQuantity: float | None = None
    AskPrice: float | None = None
    AskQuantity: float | None = None
    DateTime: float = 0.0
    F: tuple[Any, ...] | None = None


class MarketDataUpdateBidAskCompact(DTCMessage, **_tag(MT.MARKET_DATA_UPDATE_BID_ASK_COMPACT)):
    BidPrice: float | None = None
    BidQuantity: float | None = None
    AskPrice: float | None = None
    AskQuantity: float | None = None
    DateTime: float = 0.0
    SymbolID: int = 0
    F: tuple[Any, ...] | None = None


class UserMessage(DTCMessage, **_tag(MT.USER_MESSAGE)):
    UserMessage: str = ""
    IsPopupMessage: int = 1


class GeneralLogMessage(DTCMessage, **_tag(MT.GENERAL_LOG_MESSAGE)):
    MessageText: str = ""


# --- Sierra Chart custom: its own flat-to-flat trade list (dtc-protocol §15) ---------------------------


class HistoricalTradesRequest(DTCMessage, **_tag(MT.HISTORICAL_TRADES_REQUEST)):
    """HISTORICAL_TRADES_REQUEST (10100, Sierra Chart custom): the trades of ``TradeAccount`` (``Symbol`` empty =
    every symbol) from ``StartDateTime`` (t_DateTime: UTC seconds); ``CreateFlatToFlatTrades`` 1 asks for
    flat-to-flat trades (else one trade per opening/closing fill pair)."""

    RequestID: int = 0
    Symbol: str = ""
    TradeAccount: str = ""
    StartDateTime: int = 0
    SubAccountIdentifier: int = 0
    CreateFlatToFlatTrades: int = 1


class HistoricalTradesReject(DTCMessage, **_tag(MT.HISTORICAL_TRADES_REJECT)):
    """HISTORICAL_TRADES_REJECT (10101, Sierra Chart custom)."""

    RequestID: int = 0
    RejectText: str = ""


class HistoricalTradesResponse(DTCMessage, **_tag(MT.HISTORICAL_TRADES_RESPONSE)):
    """HISTORICAL_TRADES_RESPONSE (10102, Sierra Chart custom): one trade; the last of the answer has
    ``IsFinalMessage`` 1 (sent alone, without trade fields, when there are none).

    ``EntryDateTime``/``ExitDateTime`` t_DateTimeWithMilliseconds (UTC seconds with a fraction); prices points;
    ``TradeType`` BuySellEnum (1 buy = long, 2 sell = short); quantities contracts; ``ClosedProfitLoss``,
    ``MaximumOpenPositionLoss``, ``MaximumOpenPositionProfit``, ``Commission`` account currency."""

    RequestID: int = 0
    IsFinalMessage: int = 0
    Symbol: str = ""
    TradeAccount: str = ""
    EntryDateTime: float = 0.0
    ExitDateTime: float = 0.0
    EntryPrice: float | None = None
    ExitPrice: float | None = None
    TradeType: int = 0
    EntryQuantity: float | None = None
    ExitQuantity: float | None = None
    MaxOpenQuantity: float | None = None
    ClosedProfitLoss: float | None = None
    MaximumOpenPositionLoss: float | None = None
    MaximumOpenPositionProfit: float | None = None
    Commission: float | None = None
    OpenFillExecutionID: str = ""
    CloseFillExecutionID: str = ""
    SubAccountIdentifier: int = 0


MESSAGE_CLASSES: tuple[type[DTCMessage], ...] = (
    LogonRequest,
    LogonResponse,
    Heartbeat,
    Logoff,
    EncodingRequest,
    EncodingResponse,
    SubmitNewSingleOrder,
    CancelOrder,
    CancelReplaceOrder,
    OpenOrdersRequest,
    OrderUpdate,
    OpenOrdersReject,
    HistoricalOrderFillsRequest,
    HistoricalOrderFillResponse,
    CurrentPositionsRequest,
    PositionUpdate,
    CurrentPositionsReject,
    HistoricalOrderFillsReject,
    TradeAccountsRequest,
    TradeAccountResponse,
    ExchangeListResponse,
    AccountBalanceUpdate,
    AccountBalanceRequest,
    AccountBalanceReject,
    SecurityDefinitionForSymbolRequest,
    SecurityDefinitionResponse,
    SecurityDefinitionReject,
    MarketDataRequest,
    MarketDataReject,
    MarketDataSnapshot,
    MarketDataUpdateTrade,
    MarketDataUpdateTradeCompact,
    MarketDataUpdateBidAsk,
    MarketDataUpdateBidAskCompact,
    UserMessage,
    GeneralLogMessage,
    HistoricalTradesRequest,
    HistoricalTradesReject,
    HistoricalTradesResponse,
)

for _cls in MESSAGE_CLASSES:
    _cls.TYPE = MessageType(_cls.__struct_config__.tag)

KNOWN_TYPES: frozenset[int] = frozenset(int(c.TYPE) for c in MESSAGE_CLASSES)


class UnknownMessage(msgspec.Struct, frozen=True):
    """A well-formed JSON message whose ``Type`` this client does not model; callers ignore it."""

    Type: int


class DecodeError(ValueError):
    """A frame that is not a valid DTC JSON message; ``reason`` says why (no payload echoed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TypeOnly(msgspec.Struct):
    Type: int


AnyMessage = Union[MESSAGE_CLASSES]  # type: ignore[valid-type]  # noqa: UP007 - built from a tuple
_decoder = msgspec.json.Decoder(type=AnyMessage)
_type_decoder = msgspec.json.Decoder(type=_TypeOnly)
_encoder = msgspec.json.Encoder()


def decode_message(frame: bytes | bytearray | memoryview) -> DTCMessage | UnknownMessage:
    """Decode one JSON frame (without its 0x00 terminator) into a typed message.

    ``null`` for any field means "not set" and reads as the field's default; a frame that is not valid UTF-8
    is read as 8-bit text (Windows-1252, see ``dtc.relax``). Both are retried only after the strict decode
    failed. Returns an ``UnknownMessage`` for a well-formed object whose ``Type`` is not modelled here.
    Raises ``DecodeError`` for malformed JSON, a missing or non-integer ``Type``, or a known type whose fields
    have the wrong JSON types (e.g. a string where the protocol has a number).
    """
    try:
        return _decoder.decode(frame)
    except msgspec.ValidationError as exc:
        return _second_chance(frame, exc)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"malformed JSON: {exc}") from None
    except UnicodeDecodeError:  # 8-bit text inside a string: Sierra Chart's text is not UTF-8
        return _second_chance(frame, None)


def _second_chance(
    frame: bytes | bytearray | memoryview, exc: msgspec.ValidationError | None
) -> DTCMessage | UnknownMessage:
    """After the strict decode failed (``exc``, or None for invalid UTF-8): read the frame as 8-bit text if it is
    not UTF-8, retry without ``null`` members, and otherwise tell an unknown ``Type`` from bad input."""
    try:
        text = bytes(frame).decode("utf-8")
    except UnicodeDecodeError:
        text, exc = eight_bit_text(frame), None
    if exc is None:  # not yet tried as this text
        try:
            return _decoder.decode(text)
        except msgspec.ValidationError as again:
            exc = again
        except msgspec.DecodeError as bad:
            raise DecodeError(f"malformed JSON: {bad}") from None
    cleaned = without_nulls(text)
    if cleaned is not None:
        try:
            return _decoder.decode(cleaned)
        except msgspec.ValidationError as again:
            exc = again
    try:
        head = _type_decoder.decode(text)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise DecodeError(f"no integer Type: {exc}") from None
    if head.Type not in KNOWN_TYPES:
        return UnknownMessage(Type=head.Type)
    raise DecodeError(f"Type {head.Type}: {exc}") from None


def encode_message(message: DTCMessage) -> bytes:
    """Encode a message as JSON with ``Type`` first, followed by the 0x00 frame terminator."""
    return _encoder.encode(message) + b"\x00"

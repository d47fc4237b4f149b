"""The market-data feed on one connection: what it asks Sierra Chart for and which symbol each price is for.

The real ``MarketDataFeed`` with real DTC messages; what it sends is collected where the socket would be.
"""

from __future__ import annotations

from decimal import Decimal as D

from core.market_data import MarketDataFeed
from core.prices import Quote
from dtc.messages import DTCMessage, MarketDataReject, MarketDataRequest, MarketDataUpdateTrade


def test_late_trade_of_an_earlier_symbol_never_shows_as_a_new_symbols_price() -> None:
    sent: list[DTCMessage] = []
    quotes: list[Quote] = []
    feed = MarketDataFeed(sent.append, quotes.append)
    feed.on_logon(market_data_supported=True)
    feed.ensure(["MESZ25"])
    feed.ensure(["BTCUSD"])
    ids = {m.Symbol: m.SymbolID for m in sent if isinstance(m, MarketDataRequest)}
    feed.handle(MarketDataReject(SymbolID=ids["MESZ25"], RejectText="CME data is not available"))
    feed.ensure(["GCZ25"])
    ids = {m.Symbol: m.SymbolID for m in sent if isinstance(m, MarketDataRequest)}
    # BTCUSD keeps streaming under its own SymbolID
    feed.handle(MarketDataUpdateTrade(SymbolID=ids["BTCUSD"], Price=91_000.0, Volume=1, DateTime=1_763_050_000.0))
    feed.flush()
    assert [(q.symbol, q.price) for q in quotes] == [("BTCUSD", D(91_000))]
    assert len(set(ids.values())) == 3, f"a SymbolID was given twice on one connection: {ids}"

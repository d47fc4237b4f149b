"""A realistic DTC receive stream, and the app's receive path (no socket) to push it through.

The stream: 90 % MARKET_DATA_UPDATE_TRADE (107) for the subscribed symbol (a random walk in 0.25 ticks,
``DateTime`` rising 100 µs per trade), 5 % ORDER_UPDATE (301) with ``OrderUpdateReason`` 3 (general update
of the working stop and target, which trail the price: not fills, so nothing is written to the database),
5 % unsolicited POSITION_UPDATE (306) agreeing with the open position. 301 and 306 carry Sierra Chart's
full field set (about 700 and 400 bytes), 107s only their set fields (about 90 bytes), as the simulator
sends them.

``ReceivePath`` is the app built by ``app_manager.build_app`` (not connected; market data subscribed; one open
position) fed as the client thread feeds it for every received chunk.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from core.accounting import Fill
from dtc.framing import FrameDecoder
from dtc.messages import DecodeError, LogonResponse, MarketDataUpdateTrade, OrderUpdate, PositionUpdate, decode_message
from dtc.sim.wire import frame
from dtc.types import BuySellEnum, OrderStatusEnum, OrderTypeEnum, OrderUpdateReasonEnum

if TYPE_CHECKING:
    from app_manager import PanelApp

ACCOUNT = "Sim1"
SYMBOL = "MESZ25"
SYMBOL_ID = 1
ENTRY = 6000.0
CHUNK_BYTES = 1 << 16
"""Bytes per simulated ``recv`` (the client reads up to 64 KiB at a time)."""


class StreamMaker:
    """Deterministic generator of the realistic stream, in frames (each with its 0x00 terminator)."""

    def __init__(self, seed: int = 7, start: float | None = None) -> None:
        self._rng = random.Random(seed)
        self._ticks = 0  # price = ENTRY + 0.25 × ticks
        self._time = start if start is not None else datetime.now(UTC).timestamp()
        self._n = 0

    def _price(self) -> float:
        return ENTRY + 0.25 * self._ticks

    def next_frame(self) -> bytes:
        """One frame: 107 except every 20th is a 301 and every 20th (offset 10) a 306."""
        self._n += 1
        kind = self._n % 20
        if kind == 0:
            return self._order_update()
        if kind == 10:
            return self._position_update()
        self._ticks += self._rng.choice((-1, 0, 1))
        self._time += 0.0001
        trade = MarketDataUpdateTrade(
            SymbolID=SYMBOL_ID,
            AtBidOrAsk=self._rng.choice((1, 2)),
            Price=self._price(),
            Volume=float(self._rng.randint(1, 20)),
            DateTime=round(self._time, 4),
        )
        return frame(trade)

    def _order_update(self) -> bytes:
        stop = self._n % 40 == 0  # alternate the stop and the target, each trailing the price
        price = self._price() - 10.0 if stop else self._price() + 10.0
        msg = OrderUpdate(
            Symbol=SYMBOL,
            Exchange="CME",
            ServerOrderID="BENCH-STOP" if stop else "BENCH-TARGET",
            ClientOrderID="CL-STOP" if stop else "CL-TARGET",
            ExchangeOrderID="X1" if stop else "X2",
            OrderStatus=OrderStatusEnum.ORDER_STATUS_OPEN,
            OrderUpdateReason=OrderUpdateReasonEnum.GENERAL_ORDER_UPDATE,
            OrderType=OrderTypeEnum.ORDER_TYPE_STOP if stop else OrderTypeEnum.ORDER_TYPE_LIMIT,
            BuySell=BuySellEnum.SELL,
            Price1=price,
            Price2=0.0,
            TimeInForce=1,
            OrderQuantity=1.0,
            FilledQuantity=0.0,
            RemainingQuantity=1.0,
            AverageFillPrice=0.0,
            LastFillPrice=0.0,
            LastFillQuantity=0.0,
            TradeAccount=ACCOUNT,
            ParentServerOrderID="BENCH-PARENT",
            OCOLinkedOrderServerOrderID="BENCH-TARGET" if stop else "BENCH-STOP",
            OrderReceivedDateTime=int(self._time),
            LatestTransactionDateTime=self._time,
        )
        return frame(msg)

    def _position_update(self) -> bytes:
        msg = PositionUpdate(
            Symbol=SYMBOL,
            Exchange="CME",
            Quantity=1.0,
            AveragePrice=ENTRY,
            TradeAccount=ACCOUNT,
            MarginRequirement=0.0,
            EntryDateTime=int(self._time),
            OpenProfitLoss=(self._price() - ENTRY) * 5.0,
            HighPriceDuringPosition=0.0,
            LowPriceDuringPosition=0.0,
            QuantityLimit=0.0,
            MaxPotentialPostionQuantity=0.0,
        )
        return frame(msg)

    def frames(self, count: int) -> list[bytes]:
        return [self.next_frame() for _ in range(count)]

    def chunks(self, count: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        """``count`` frames as ``recv``-sized chunks that split frames anywhere, like TCP does."""
        pending = bytearray()
        for _ in range(count):
            pending += self.next_frame()
            if len(pending) >= chunk_bytes:
                yield bytes(pending[:chunk_bytes])
                del pending[:chunk_bytes]
        if pending:
            yield bytes(pending)


def split_chunks(stream: bytes, chunk_bytes: int = CHUNK_BYTES) -> list[bytes]:
    return [stream[i : i + chunk_bytes] for i in range(0, len(stream), chunk_bytes)]


class ReceivePath:
    """The app's receive path without a socket: ``feed(chunk)`` is what the client thread does with one
    ``recv`` — ``FrameDecoder.feed`` → ``decode_message`` → the client's ``on_message`` / ``on_bad_frame``
    → its ``on_chunk_end`` — with the callbacks ``build_app`` gave the (never started) ``DTCClient``, so the
    benchmark follows whatever the composition root wires. Call it from a thread other than the GUI thread
    (snapshots are then queued to the window, as in the app); ``drain()`` on the GUI thread delivers them."""

    def __init__(self, app: PanelApp) -> None:
        self.app = app
        self.state = app.state
        self.router = app.router
        client = app.client
        self._on_message = client._on_message  # the callbacks build_app wired (private, read only)
        self._on_bad_frame = client._on_bad_frame
        self._on_chunk_end = client._on_chunk_end
        self.decoder = FrameDecoder()
        self.messages = 0

    def feed(self, chunk: bytes) -> None:
        on_message, on_bad_frame = self._on_message, self._on_bad_frame
        for data in self.decoder.feed(chunk):
            try:
                message = decode_message(data)
            except DecodeError as exc:
                on_bad_frame("undecodable frame", exc.reason)
                continue
            on_message(message)
            self.messages += 1
        self._on_chunk_end()

    def feed_in_thread(self, chunks: Iterable[bytes]) -> float:
        """Feed ``chunks`` on a worker thread (the GUI thread waits); returns the seconds it took."""
        took = [0.0]
        failure: list[BaseException] = []

        def work() -> None:
            began = time.perf_counter()
            try:
                for chunk in chunks:
                    self.feed(chunk)
            except BaseException as exc:  # re-raised on the caller's thread
                failure.append(exc)
            took[0] = time.perf_counter() - began

        worker = threading.Thread(target=work, name="bench-dtc", daemon=True)
        worker.start()
        worker.join()
        if failure:
            raise failure[0]
        return took[0]

    def drain(self) -> None:
        """Deliver the queued snapshots to the window (GUI thread)."""
        QApplication.processEvents()

    def close(self) -> None:
        """Close the window and the database connections (before the directory is removed)."""
        self.drain()
        self.app.window.close()
        engine = vars(self.app.store).get("_engine")
        if engine is not None:
            engine.dispose()


def build_receive_path(data_dir: Path) -> ReceivePath:
    """``build_app`` over a fresh database in ``data_dir`` (not connected), holding LONG 1 @ ``ENTRY`` in
    ``SYMBOL`` (one fill written here), logged on as far as the router knows (LOGON_RESPONSE routed: market
    data subscribed, SymbolID 1 = ``SYMBOL``)."""
    from app_manager import build_app
    from core.settings import Settings

    QApplication.instance() or QApplication([])
    app = build_app(Settings.for_directories(data_dir))
    app.state.apply_fill(Fill("BENCH-OPEN", ACCOUNT, SYMBOL, Decimal(1), Decimal(str(ENTRY)), datetime.now(UTC)))
    path = ReceivePath(app)
    path.feed(frame(LogonResponse(Result=1, ServerName="bench", MarketDataSupported=1, TradingIsSupported=1)))
    path.messages = 0
    return path

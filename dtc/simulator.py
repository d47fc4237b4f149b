"""A DTC simulator server: a real TCP server on loopback that speaks JSON DTC the way Sierra Chart does.

Used by the app's ``--demo`` mode and by end-to-end tests; serves from an asyncio loop on one daemon thread
and keeps the ground truth (positions, fills, balances). Wire behaviour follows ``dtc-protocol.md``: an
optional 16-byte binary encoding handshake, then NUL-terminated JSON; 1 → 2 and HEARTBEAT (3) every
``HeartbeatIntervalInSeconds``; 400 → 401s, 601 → 600s/602, 305 → 306s, 300 → 301, 303 → 304s/308; each fill
piece → unsolicited 301 + 306, each balance step → unsolicited 600, to every logged-on client.

CLI: ``python -m dtc.simulator --scenario FILE --port P [--host H] [--no-loop] [--speed X]``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import itertools
import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from dtc import framing
from dtc import messages as m
from dtc.scenario import AccountSpec, BalanceSpec, FillSpec, Scenario, Step, load_scenario
from dtc.timeconv import epoch_seconds
from dtc.types import PROTOCOL_VERSION, BuySellEnum, OrderStatusEnum, OrderUpdateReasonEnum

log = logging.getLogger(__name__)

T = TypeVar("T")
SERVER_NAME = "DTC Panel simulator"
DEFAULT_HEARTBEAT_S, MAX_HEARTBEAT_S = 10, 3600
READ_CHUNK = 65536
MAX_WRITE_BUFFER = 8 << 20
"""A client with more unsent bytes than this (it stopped reading) is disconnected."""
FLAT_EPSILON = 1e-9
CALL_TIMEOUT_S = 10.0


@dataclasses.dataclass
class _Position:
    """Signed quantity (contracts, short < 0), average entry price (points), entry time (UTC s, 0 if flat)."""

    quantity: float = 0.0
    average_price: float = 0.0
    entry_time: float = 0.0

    def apply(self, signed_qty: float, price: float, now: float) -> None:
        """Fold one execution in: grow → weighted average; shrink → unchanged; flip → the fill price."""
        old = self.quantity
        new = old + signed_qty
        if abs(new) < FLAT_EPSILON:
            self.quantity, self.average_price, self.entry_time = 0.0, 0.0, 0.0
        elif old == 0 or (old > 0) == (signed_qty > 0):
            self.average_price = round((abs(old) * self.average_price + abs(signed_qty) * price) / abs(new), 10)
            self.quantity = new
            self.entry_time = self.entry_time if old else now
        elif (new > 0) == (old > 0):
            self.quantity = new
        else:
            self.quantity, self.average_price, self.entry_time = new, price, now


@dataclasses.dataclass(frozen=True)
class _FillRecord:
    account: str
    symbol: str
    side: str
    quantity: float
    price: float
    execution_id: str
    time: float
    server_order_id: str
    position_quantity: float


@dataclasses.dataclass(eq=False)
class _Client:
    writer: asyncio.StreamWriter
    peer: str
    logged_on: bool = False
    heartbeat_s: int = DEFAULT_HEARTBEAT_S
    last_heartbeat: float = 0.0
    heartbeat_task: asyncio.Task[None] | None = None

    def send(self, data: bytes) -> bool:
        """Queue bytes for the client (loop thread only); False if it is gone or stopped reading."""
        if self.writer.is_closing():
            return False
        if self.writer.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            log.warning("client %s stopped reading (> %d bytes queued): disconnecting", self.peer, MAX_WRITE_BUFFER)
            self.writer.close()
            return False
        self.writer.write(data)
        return True


class SimulatorServer:
    """A JSON DTC server on a background thread, playing a ``Scenario`` and answering Sierra-style.

    ``port`` 0 picks a free port (see ``.port`` after ``start()``); ``speed`` divides every step wait (s).
    The scenario starts at ``start()`` with ``autoplay``, at the first logon with ``play_on_logon``, else
    at ``play()``. ``scenario`` None means no accounts and no steps. All public methods are thread-safe.
    """

    def __init__(self, scenario: Scenario | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 autoplay: bool = True, speed: float = 1.0, play_on_logon: bool = False) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a finite number > 0, got {speed!r}")
        self._scenario = scenario or Scenario()
        self._host, self._requested_port, self._speed = host, port, speed
        self._autoplay, self._play_on_logon = autoplay, play_on_logon
        self._lock = threading.Lock()  # guards the ground truth and _logged_on
        self._logon_changed = threading.Condition(self._lock)
        self._accounts: dict[str, AccountSpec] = {a.TradeAccount: a for a in self._scenario.accounts}
        self._positions: dict[tuple[str, str], _Position] = {}
        self._fills: list[_FillRecord] = []
        self._order_seq, self._exec_seq = itertools.count(1), itertools.count(1)
        self._logged_on, self._port, self._serving = 0, 0, False
        self._idle, self._ready = threading.Event(), threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._startup_error: OSError | None = None
        # Touched on the loop thread only:
        self._stop_event: asyncio.Event | None = None
        self._clients: set[_Client] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._play_task: asyncio.Task[None] | None = None
        self._handlers: dict[type, Callable[[Any], list[m.DTCMessage]]] = {
            m.TradeAccountsRequest: self._on_accounts_request,
            m.AccountBalanceRequest: self._on_balance_request,
            m.CurrentPositionsRequest: self._on_positions_request,
            m.OpenOrdersRequest: self._on_open_orders_request,
            m.HistoricalOrderFillsRequest: self._on_fills_request,
        }

    def start(self) -> None:
        """Bind and serve on a daemon thread; returns once listening. Raises ``OSError`` if it cannot bind."""
        if self._thread is not None:
            raise RuntimeError("SimulatorServer.start() may be called only once")
        if (self._autoplay or self._play_on_logon) and self._scenario.steps:
            self._idle.clear()
        self._thread = threading.Thread(target=self._run, name="dtc-simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(CALL_TIMEOUT_S):
            raise RuntimeError("DTC simulator did not start listening in time")
        if self._startup_error is not None:
            self._thread.join(CALL_TIMEOUT_S)
            raise self._startup_error

    def stop(self) -> None:
        """Send LOGOFF (5) to and close every client, close the listener, join the thread; idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already closed: the thread has finished by itself
            loop.call_soon_threadsafe(self._request_stop)
        if thread is not threading.current_thread():
            thread.join(CALL_TIMEOUT_S)
            if thread.is_alive():
                log.error("DTC simulator thread did not stop within %.0f s", CALL_TIMEOUT_S)

    @property
    def port(self) -> int:
        """The bound TCP port (0 before ``start()``)."""
        return self._port

    def play(self) -> None:
        """Start playing the scenario now (no-op if it already started). Raises RuntimeError after stop()."""
        if self._loop is None:
            self._autoplay = True
            if self._scenario.steps:
                self._idle.clear()
        elif self._serving:
            self._call(self._start_playback)
        else:
            raise RuntimeError("the DTC simulator has stopped")

    def fill(self, account: str, symbol: str, side: str, quantity: float, price: float,
             partials: list[tuple[float, float]] | None = None) -> list[str]:
        """Execute one order now (``side`` "BUY"/"SELL", contracts, points) and return its execution ids.

        Each piece is sent as an unsolicited 301 then 306 to every logged-on client. An undeclared account
        is added with a zero balance. Raises ``ValueError`` on invalid arguments.
        """
        spec = FillSpec.create(account, symbol, side, quantity, price, partials)
        return self._call(lambda: self._apply_fill(spec))

    def send_raw(self, data: bytes) -> int:
        """Fault injection: send ``data`` byte-for-byte (include the 0x00 terminators) to every logged-on
        client, in order with fills; returns how many clients it was queued for."""
        return self._call(lambda: self._broadcast(bytes(data)))

    def positions(self) -> dict[tuple[str, str], tuple[float, float]]:
        """(account, symbol) → (signed quantity, average price) for every symbol ever traded, flat included."""
        with self._lock:
            return {k: (p.quantity, p.average_price) for k, p in self._positions.items()}

    def fill_log(self) -> list[dict[str, Any]]:
        """Every fill piece in order: account, symbol, side, quantity, price, execution_id, time (UTC s),
        server_order_id, position_quantity (signed, after the fill)."""
        with self._lock:
            return [dataclasses.asdict(f) for f in self._fills]

    def wait_for_logons(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` clients are logged on; False on timeout (s)."""
        with self._logon_changed:
            return self._logon_changed.wait_for(lambda: self._logged_on >= count, timeout)

    def wait_until_idle(self, timeout: float) -> bool:
        """Block until a started non-looping scenario has played every step; False on timeout (s)."""
        return self._idle.wait(timeout)

    @property
    def logged_on_clients(self) -> int:
        """Number of connected clients that completed logon."""
        with self._lock:
            return self._logged_on

    # --- loop thread ------------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the loop thread and return its result (directly when not serving)."""
        loop = self._loop
        if loop is None or not self._serving or threading.current_thread() is self._thread:
            return fn()

        async def run() -> T:
            return fn()

        try:
            return asyncio.run_coroutine_threadsafe(run(), loop).result(CALL_TIMEOUT_S)
        except (RuntimeError, concurrent.futures.CancelledError, TimeoutError) as exc:
            raise RuntimeError(f"DTC simulator is stopping: {exc!r}") from None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            self._serving = False
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._ready.set()
            log.info("DTC simulator stopped")

    def _request_stop(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        try:
            server = await asyncio.start_server(self._handle_client, self._host, self._requested_port)
        except OSError as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._port, self._serving = server.sockets[0].getsockname()[1], True
        log.info("DTC simulator listening on %s:%d, scenario %r (%d steps, loop=%s, speed=%g)", self._host,
                 self._port, self._scenario.name, len(self._scenario.steps), self._scenario.loop, self._speed)
        if self._autoplay:
            self._start_playback()
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            self._serving = False
            server.close()
            bye = m.encode_message(m.Logoff(Reason="Simulator stopping"))
            for client in list(self._clients):
                if client.logged_on:
                    client.send(bye)
                client.writer.close()
            if self._play_task is not None:
                self._play_task.cancel()
            # Closed transports end the handlers with EOF; cancelling them instead makes 3.11's
            # StreamReaderProtocol log a spurious CancelledError, so cancel only stragglers.
            if self._tasks:
                _, stragglers = await asyncio.wait(list(self._tasks), timeout=2.0)
                for task in stragglers:
                    task.cancel()
            await server.wait_closed()

    async def _handle_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None or not self._serving:  # accepted while shutting down
            writer.close()
            return
        self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        client = _Client(writer, f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer))
        self._clients.add(client)
        log.info("client %s connected", client.peer)
        try:
            await self._serve_client(client, reader)
        except OSError as exc:
            log.info("client %s: connection error: %s", client.peer, exc)
        finally:
            self._drop(client)
            with contextlib.suppress(OSError, TimeoutError):  # peer vanished; the socket is closed anyway
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            self._tasks.discard(task)

    async def _serve_client(self, client: _Client, reader: asyncio.StreamReader) -> None:
        decoder, head, json_mode, oversized = framing.FrameDecoder(), b"", False, 0
        size = framing.ENCODING_MESSAGE_SIZE
        while True:
            data = await reader.read(READ_CHUNK)
            if not data:
                log.info("client %s disconnected", client.peer)
                return
            if not json_mode:  # sniff the first bytes for the binary ENCODING_REQUEST (6)
                head += data
                if len(head) < 4 and framing.encoding_request().startswith(head):
                    continue
                if framing.looks_like_encoding_request(head):
                    if len(head) < size:
                        continue
                    request = framing.parse_encoding_message(head[:size])
                    log.info("client %s: binary ENCODING_REQUEST (encoding %d), answering JSON", client.peer,
                             request.encoding)
                    client.send(framing.encoding_response())
                    head = head[size:]
                data, head, json_mode = head, b"", True
            for frame in decoder.feed(data):
                if not self._on_frame(client, frame):
                    return
            if decoder.oversized != oversized:
                oversized = decoder.oversized
                log.warning("client %s: dropped an oversized frame (%d so far)", client.peer, oversized)

    def _drop(self, client: _Client) -> None:
        self._clients.discard(client)
        if client.heartbeat_task is not None:
            client.heartbeat_task.cancel()
        if client.logged_on:
            self._set_logged_on(client, False)
        client.writer.close()

    def _set_logged_on(self, client: _Client, logged_on: bool) -> None:
        client.logged_on = logged_on
        with self._logon_changed:
            self._logged_on += 1 if logged_on else -1
            self._logon_changed.notify_all()

    def _on_frame(self, client: _Client, frame: bytes) -> bool:
        """Handle one JSON frame from ``client``; False means close the connection."""
        try:
            msg = m.decode_message(frame)
        except m.DecodeError as exc:
            log.warning("client %s: skipped malformed frame (%d bytes): %s", client.peer, len(frame), exc.reason)
            return True
        if isinstance(msg, m.UnknownMessage):
            log.info("client %s: ignoring unsupported message Type %d", client.peer, msg.Type)
        elif isinstance(msg, m.LogonRequest):
            self._on_logon(client, msg)
        elif isinstance(msg, m.EncodingRequest):
            client.send(m.encode_message(m.EncodingResponse(Encoding=2)))
        elif not client.logged_on:
            log.info("client %s: ignoring Type %d before logon", client.peer, msg.TYPE)
        elif isinstance(msg, m.Heartbeat):
            client.last_heartbeat = time.monotonic()
        elif isinstance(msg, m.Logoff):
            log.info("client %s: LOGOFF (%r), closing", client.peer, msg.Reason)
            return False
        elif (handler := self._handlers.get(type(msg))) is not None:
            client.send(b"".join(m.encode_message(x) for x in handler(msg)))
        else:
            log.info("client %s: ignoring Type %d (not handled by the simulator)", client.peer, msg.TYPE)
        return True

    def _on_logon(self, client: _Client, req: m.LogonRequest) -> None:
        """1 → 2 (success), then start HEARTBEAT (3) at the requested interval (1..3600 s, default 10)."""
        interval = req.HeartbeatIntervalInSeconds
        client.heartbeat_s = min(interval, MAX_HEARTBEAT_S) if interval > 0 else DEFAULT_HEARTBEAT_S
        log.info("client %s: logon from %r, requested heartbeat interval: %d", client.peer, req.ClientName,
                 interval)
        client.send(m.encode_message(m.LogonResponse(
            ProtocolVersion=PROTOCOL_VERSION, Result=1, ResultText="Logon successful", ServerName=SERVER_NAME,
            TradingIsSupported=1, OCOOrdersSupported=0, OrderCancelReplaceSupported=0,
            SecurityDefinitionsSupported=0, HistoricalPriceDataSupported=0, MarketDepthIsSupported=0,
            BracketOrdersSupported=0, UsesMultiplePositionsPerSymbolAndTradeAccount=0, MarketDataSupported=0)))
        client.last_heartbeat = time.monotonic()
        if client.heartbeat_task is not None:
            client.heartbeat_task.cancel()
        client.heartbeat_task = asyncio.get_running_loop().create_task(self._heartbeats(client))
        if not client.logged_on:
            self._set_logged_on(client, True)
        if self._play_on_logon:
            self._start_playback()

    @staticmethod
    async def _heartbeats(client: _Client) -> None:
        """Send HEARTBEAT (3) with CurrentDateTime (UTC s) every ``client.heartbeat_s`` seconds."""
        while True:
            await asyncio.sleep(client.heartbeat_s)
            # Named JSON without the JSON-Compact-only "F" key, as Sierra sends it in JSON encoding.
            beat = {"Type": 3, "NumDroppedMessages": 0, "CurrentDateTime": int(time.time())}
            if not client.send(msgspec.json.encode(beat) + b"\x00"):
                return

    def _on_accounts_request(self, req: m.TradeAccountsRequest) -> list[m.DTCMessage]:
        """400 → one 401 per account (a single one with an empty TradeAccount when there are none)."""
        with self._lock:
            names = list(self._accounts) or [""]
        return [m.TradeAccountResponse(TotalNumberMessages=len(names), MessageNumber=i, TradeAccount=name,
                                       RequestID=req.RequestID, TradingIsDisabled=0)
                for i, name in enumerate(names, 1)]

    def _on_balance_request(self, req: m.AccountBalanceRequest) -> list[m.DTCMessage]:
        """601 → one 600 per (requested) account; 602 for an unknown account."""
        with self._lock:
            accounts = [a for a in self._accounts.values() if req.TradeAccount in ("", a.TradeAccount)]
        if req.TradeAccount and not accounts:
            return [m.AccountBalanceReject(RequestID=req.RequestID,
                                           RejectText=f"Unknown trade account: {req.TradeAccount}")]
        if not accounts:
            return [m.AccountBalanceUpdate(RequestID=req.RequestID, NoAccountBalances=1)]
        return [self._balance_msg(a, req.RequestID, len(accounts), i) for i, a in enumerate(accounts, 1)]

    def _on_positions_request(self, req: m.CurrentPositionsRequest) -> list[m.DTCMessage]:
        """305 → 306 per traded (account, symbol), flat ones at 0; one NoPositions 306 when there are none."""
        with self._lock:
            rows = [(k, dataclasses.replace(p)) for k, p in self._positions.items()
                    if req.TradeAccount in ("", k[0])]
        if not rows:
            return [m.PositionUpdate(RequestID=req.RequestID, TotalNumberMessages=1, MessageNumber=1, Symbol="",
                                     TradeAccount=req.TradeAccount, NoPositions=1, Quantity=0.0, AveragePrice=0.0)]
        return [self._position_msg(acct, sym, pos, req.RequestID, len(rows), i)
                for i, ((acct, sym), pos) in enumerate(rows, 1)]

    def _on_open_orders_request(self, req: m.OpenOrdersRequest) -> list[m.DTCMessage]:
        """300 → a single 301 with NoOrders 1 (the simulator never has working orders)."""
        return [m.OrderUpdate(RequestID=req.RequestID, TotalNumMessages=1, MessageNumber=1, NoOrders=1,
                              TradeAccount=req.TradeAccount,
                              OrderUpdateReason=OrderUpdateReasonEnum.OPEN_ORDERS_REQUEST_RESPONSE)]

    def _on_fills_request(self, req: m.HistoricalOrderFillsRequest) -> list[m.DTCMessage]:
        """303 → one 304 per stored fill since StartDateTime (s or µs) or NumberOfDays; 308 when invalid."""
        start = epoch_seconds(req.StartDateTime) if req.StartDateTime else None
        if start is None and req.NumberOfDays > 0:
            start = time.time() - req.NumberOfDays * 86400
        if not req.TradeAccount or start is None:
            text = "TradeAccount is not set" if not req.TradeAccount else "StartDateTime or NumberOfDays is not set"
            return [m.HistoricalOrderFillsReject(RequestID=req.RequestID, RejectText=text)]
        with self._lock:
            fills = [f for f in self._fills if f.account == req.TradeAccount and int(f.time) >= start
                     and req.ServerOrderID in ("", f.server_order_id)]
        if not fills:
            return [m.HistoricalOrderFillResponse(RequestID=req.RequestID, TradeAccount=req.TradeAccount,
                                                  NoOrderFills=1)]
        return [m.HistoricalOrderFillResponse(
            RequestID=req.RequestID, TotalNumberMessages=len(fills), MessageNumber=i, Symbol=f.symbol,
            ServerOrderID=f.server_order_id, BuySell=_buysell(f.side), Price=f.price, DateTime=int(f.time),
            Quantity=f.quantity, UniqueExecutionID=f.execution_id, TradeAccount=f.account,
            PositionQuantity=f.position_quantity) for i, f in enumerate(fills, 1)]

    @staticmethod
    def _position_msg(account: str, symbol: str, pos: _Position, request_id: int, total: int = 1,
                      number: int = 1) -> m.PositionUpdate:
        """POSITION_UPDATE (306) with every field present; unsolicited when ``request_id`` is 0."""
        return m.PositionUpdate(
            RequestID=request_id, TotalNumberMessages=total, MessageNumber=number, Symbol=symbol,
            Quantity=pos.quantity, AveragePrice=pos.average_price, TradeAccount=account,
            Unsolicited=int(request_id == 0), MarginRequirement=0.0, EntryDateTime=int(pos.entry_time),
            OpenProfitLoss=0.0, HighPriceDuringPosition=0.0, LowPriceDuringPosition=0.0, QuantityLimit=0.0,
            MaxPotentialPostionQuantity=0.0)

    @staticmethod
    def _balance_msg(a: AccountSpec, request_id: int, total: int = 1, number: int = 1) -> m.AccountBalanceUpdate:
        """ACCOUNT_BALANCE_UPDATE (600), money in the account currency; unsolicited when ``request_id`` is 0."""
        available, value = a.BalanceAvailableForNewPositions, a.SecuritiesValue
        return m.AccountBalanceUpdate(
            RequestID=request_id, CashBalance=a.CashBalance,
            BalanceAvailableForNewPositions=a.CashBalance - a.MarginRequirement if available is None else available,
            AccountCurrency=a.AccountCurrency, TradeAccount=a.TradeAccount,
            SecuritiesValue=a.CashBalance + a.OpenPositionsProfitLoss if value is None else value,
            MarginRequirement=a.MarginRequirement, TotalNumberMessages=total, MessageNumber=number,
            Unsolicited=int(request_id == 0), OpenPositionsProfitLoss=a.OpenPositionsProfitLoss,
            DailyProfitLoss=a.DailyProfitLoss, DailyNetLossLimit=0.0, TrailingAccountValueToLimitPositions=0.0,
            MarginRequirementFull=0.0, MarginRequirementFullPositionsOnly=0.0, PeakMarginRequirement=0.0)

    # --- state changes (loop thread, or the caller's thread when not serving) ---------------------

    def _broadcast(self, data: bytes) -> int:
        return sum(client.send(data) for client in list(self._clients) if client.logged_on)

    def _apply_fill(self, spec: FillSpec) -> list[str]:
        """Execute ``spec``: update the ground truth, then send 301 + 306 per piece to logged-on clients."""
        msgs: list[m.DTCMessage] = []
        ids: list[str] = []
        with self._lock:
            if spec.account not in self._accounts:
                log.warning("fill for undeclared account %r: adding it with a zero balance", spec.account)
                self._accounts[spec.account] = AccountSpec(TradeAccount=spec.account)
            n = next(self._order_seq)
            order_id, order_time = f"SIMORD-{n}", time.time()
            pos = self._positions.setdefault((spec.account, spec.symbol), _Position())
            sign, filled, notional = (1.0 if spec.side == "BUY" else -1.0), 0.0, 0.0
            for i, (qty, price) in enumerate(spec.pieces, 1):
                now, exec_id, last = time.time(), f"SIM-{next(self._exec_seq)}", i == len(spec.pieces)
                filled, notional = filled + qty, notional + qty * price
                pos.apply(sign * qty, price, now)
                self._fills.append(_FillRecord(spec.account, spec.symbol, spec.side, qty, price, exec_id, now,
                                               order_id, pos.quantity))
                ids.append(exec_id)
                msgs.append(m.OrderUpdate(
                    RequestID=0, TotalNumMessages=1, MessageNumber=1, Symbol=spec.symbol, ServerOrderID=order_id,
                    ClientOrderID=f"SIMCL-{n}", TradeAccount=spec.account,
                    OrderStatus=OrderStatusEnum.ORDER_STATUS_FILLED if last
                    else OrderStatusEnum.ORDER_STATUS_PARTIALLY_FILLED,
                    OrderUpdateReason=OrderUpdateReasonEnum.ORDER_FILLED if last
                    else OrderUpdateReasonEnum.ORDER_FILLED_PARTIALLY,
                    OrderType=1, BuySell=_buysell(spec.side), TimeInForce=1,  # market, day
                    OrderQuantity=spec.quantity, FilledQuantity=spec.quantity if last else filled,
                    RemainingQuantity=0.0 if last else spec.quantity - filled,
                    AverageFillPrice=round(notional / filled, 10), LastFillPrice=price, LastFillQuantity=qty,
                    LastFillDateTime=round(now * 1000), LastFillExecutionID=exec_id,
                    OrderReceivedDateTime=int(order_time), LatestTransactionDateTime=now))
                msgs.append(self._position_msg(spec.account, spec.symbol, pos, 0))
                log.info("fill %s %s %s %s @ %s (%s, %s) -> position %+g @ %s", spec.account, spec.symbol,
                         spec.side, qty, price, exec_id, order_id, pos.quantity, pos.average_price)
        self._broadcast(b"".join(m.encode_message(x) for x in msgs))
        return ids

    def _apply_balance(self, spec: BalanceSpec) -> None:
        """Store the new balance fields and send an unsolicited 600 to every logged-on client."""
        with self._lock:
            account = dataclasses.replace(self._accounts[spec.account], **spec.values)
            self._accounts[spec.account] = account
        log.info("balance %s %s", spec.account, dict(spec.values))
        self._broadcast(m.encode_message(self._balance_msg(account, 0)))

    # --- scenario playback (loop thread) ----------------------------------------------------------

    def _start_playback(self) -> None:
        if self._play_task is None and self._scenario.steps:
            self._idle.clear()
            self._play_task = asyncio.get_running_loop().create_task(self._play())

    async def _play(self) -> None:
        scenario = self._scenario
        for n in itertools.count(1):
            log.info("scenario %r: pass %d", scenario.name, n)
            for step in scenario.steps:
                await asyncio.sleep(step.wait / self._speed)
                self._perform(step)
            if not scenario.loop:
                break
        log.info("scenario %r finished", scenario.name)
        self._idle.set()

    def _perform(self, step: Step) -> None:
        if isinstance(step.action, FillSpec):
            self._apply_fill(step.action)
        else:
            self._apply_balance(step.action)


def _buysell(side: str) -> int:
    return int(BuySellEnum.BUY if side == "BUY" else BuySellEnum.SELL)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: serve a scenario until Ctrl+C; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m dtc.simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, type=Path, help="scenario JSON file")
    parser.add_argument("--port", type=int, default=11099, help="TCP port (default 11099, 0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--no-loop", action="store_true", help="play the steps once even if the file loops")
    parser.add_argument("--speed", type=float, default=1.0, help="divide every step wait by this (default 1)")
    parser.add_argument("--wait-for-client", action="store_true", help="start playing at the first logon")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        scenario = load_scenario(args.scenario)
    except (OSError, ValueError) as exc:
        log.error("cannot load scenario: %s", exc)
        return 2
    if args.no_loop:
        scenario = dataclasses.replace(scenario, loop=False)
    if not (math.isfinite(args.speed) and args.speed > 0):
        parser.error("--speed must be > 0")
    server = SimulatorServer(scenario, host=args.host, port=args.port, speed=args.speed,
                             autoplay=not args.wait_for_client, play_on_logon=args.wait_for_client)
    try:
        server.start()
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, exc)
        return 1
    log.info("press Ctrl+C to stop")
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        log.info("Ctrl+C: stopping")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

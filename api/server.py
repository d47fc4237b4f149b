"""``LocalApi``: the read-only HTTP + WebSocket server (aiohttp) on its own asyncio loop in a background thread.

    GET /health      connection, age of the last message, positions confirmed/unconfirmed/unknown, fills held,
                     database OK
    GET /positions   every open position of every account
    GET /today       per account: realized, open, total, trade count of the trading day
    GET /trades      closed trades, ``?since=2026-11-30T00:00:00Z`` (default: the trading day's start),
                     optionally ``&mode=SIM&account=Sim1&limit=500``
    GET /stream      WebSocket: a snapshot, then numbered events (``docs/API.md``)

Every request needs ``Authorization: Bearer <token>`` (or ``?access_token=<token>`` for a browser's
WebSocket, which cannot send headers); a missing or wrong token is answered 401. Nothing here can change a
position or send anything to Sierra Chart: there are only GET routes, and the database is read on a
``query_only`` connection of the API's own.

Threads: the core calls ``publish(update)`` on its publishing thread (usually the DTC thread); it only hands
the immutable update to the API loop (``call_soon_threadsafe``) and returns. The HTTP handlers answer from the
hub's state on the loop; database reads (``/today``, ``/trades``, closed trades for the stream) run on worker
threads. No lock of the core is ever taken here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from api import schema
from api.hub import StreamClient, StreamHub, encode
from api.reads import ApiReader
from core.events import Update
from core.local_api import ApiToken, api_token, exposure_warning, is_loopback
from core.settings import Settings
from core.tradingday import trading_day_start
from data.repository import StorageError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 1.0
GOODBYE_TIMEOUT_S = 2.0
"""A client told it is dropped (or that the token changed) gets this long to take the message before the
connection is cut."""
CLOSING_GOODBYE_S = 0.4
"""When the panel closes, a client gets this long for the events still queued for it, the ``closed`` goodbye and
the close handshake: less than the shutdown waits for the streams (``STOP_TIMEOUT_S / 2``)."""
TRADES_LIMIT = 5000
STREAM_HEARTBEAT_S = 20.0


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=encode(data), status=status, content_type="application/json", headers=headers)


class LocalApi:
    """The server. ``publish`` is the core's listener; ``start`` binds and serves (returns an error text or
    ``None``); ``stop`` closes every stream and the socket within about a second."""

    def __init__(
        self,
        data_dir: Path,
        token: ApiToken,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        session_start: str = "18:00",
        session_timezone: str = "America/New_York",
    ) -> None:
        self.data_dir = data_dir
        self.token = token
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        """The port actually listened on, once started."""
        self.session_start, self.session_timezone = session_start, session_timezone
        self.hub = StreamHub()
        self.hub.want_trades = self._want_trades
        self.loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._start_error: str | None = None
        self._stopping: asyncio.Future[None] | None = None
        self._reader: ApiReader | None = None
        self._runner: web.AppRunner | None = None
        self._last_trade_id = 0
        self._trades_wanted = False
        self._trades_task: asyncio.Task[None] | None = None
        self._streams: set[asyncio.Task[Any]] = set()
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalApi:
        """The API as ``settings`` describe it (``api_bind_address``, ``api_port``, the trading day), with the
        token of ``settings.config_dir``. Not started."""
        return cls(
            settings.data_dir,
            api_token(settings.config_dir),
            host=settings.api_bind_address,
            port=settings.api_port,
            session_start=settings.session_start,
            session_timezone=settings.session_timezone,
        )

    def start_reporting(self) -> list[tuple[str, str]]:
        """``start`` and what the trader must read about it, as (kind, text) for the notification feed: why it
        could not start, or the warning that it is reachable from other computers. Also logged."""
        try:
            self.token.current()  # a token exists (created and stored if needed) before anyone can ask
        except OSError as exc:
            text = f"The local API is off: its token cannot be stored ({exc.strerror or exc.__class__.__name__})"
            log.error("%s", text)
            return [("error", text)]
        error = self.start()
        if error is not None:
            return [("error", f"The local API is off: {error}")]
        if not is_loopback(self.host):
            text = exposure_warning(self.host, self.port or self.requested_port)
            log.warning("%s", text)
            return [("warning", text)]
        return []

    # --- the core's side (any thread) -------------------------------------------------------------------

    def publish(self, update: Update) -> None:
        """The core's listener: hands ``update`` to the API loop and returns at once (never blocks)."""
        if self._closed:
            return
        try:
            self.loop.call_soon_threadsafe(self.hub.apply, update)
        except RuntimeError:  # the loop was closed by ``stop`` meanwhile: the API is gone, nothing to tell
            self._closed = True

    # --- lifetime -----------------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """``start`` was called (whether or not it could listen)."""
        return self._thread is not None

    def start(self) -> str | None:
        """Bind and serve on the background thread. Returns ``None`` when listening, else why not (the port is
        taken, the address is not this computer's, …); the rest of the panel runs either way. Only the first
        call starts anything (the loop cannot run twice); later ones answer as the first did."""
        if self._thread is not None:
            return self._start_error if self._started.is_set() else "the local API is still starting"
        self._thread = threading.Thread(target=self._run, name="local-api", daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            return f"the local API did not start within {START_TIMEOUT_S:.0f} s"
        return self._start_error

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            self._closed = True
            self._started.set()
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    async def _serve(self) -> None:
        self._stopping = self.loop.create_future()
        try:
            self._reader = ApiReader(self.data_dir)
            self._last_trade_id = await asyncio.to_thread(self._reader.newest_trade_id)
            app = web.Application(middlewares=[self._auth])
            app.router.add_get("/health", self._health)
            app.router.add_get("/positions", self._positions)
            app.router.add_get("/today", self._today)
            app.router.add_get("/trades", self._trades)
            app.router.add_get("/stream", self._stream)
            # no access log: a token in a query string never reaches a log; closing never waits long for a stream
            self._runner = web.AppRunner(
                app, access_log=None, handle_signals=False, shutdown_timeout=STOP_TIMEOUT_S / 2
            )
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.requested_port)
            await site.start()
            addresses = self._runner.addresses  # the bound socket tells the real port when 0 was asked for
            self.port = int(addresses[0][1]) if addresses else self.requested_port
        except (OSError, StorageError) as exc:
            self._start_error = f"the local API cannot listen on {self.host}:{self.requested_port}: {exc}"
            log.error("%s", self._start_error)
            await self._cleanup()
            self._started.set()
            return
        self.token.on_change(self._token_changed)
        log.info("local API listening on http://%s:%d (read-only; bearer token required)", self.host, self.port)
        self._started.set()
        try:
            await self._stopping
        finally:
            self.token.remove_listener(self._token_changed)
            await self._cleanup()

    async def _cleanup(self) -> None:
        self.hub.end_all("DTC Panel is closing", within=CLOSING_GOODBYE_S)
        if self._streams:
            await asyncio.wait(self._streams, timeout=STOP_TIMEOUT_S / 2)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._reader is not None:
            self._reader.close()

    def stop(self) -> None:
        """Tell every stream client, close the socket, end the thread (about a second at most)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            self._closed = True
            if thread is None and not self.loop.is_closed():
                self.loop.close()
            return

        def request_stop() -> None:
            if self._stopping is not None and not self._stopping.done():
                self._stopping.set_result(None)

        try:
            self.loop.call_soon_threadsafe(request_stop)
        except RuntimeError:
            return
        thread.join(STOP_TIMEOUT_S + 1.0)

    def _token_changed(self) -> None:
        """The token was regenerated (GUI thread): every open stream was opened with the old one."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: no stream is left to end
            self.loop.call_soon_threadsafe(self.hub.end_all, "the API token was regenerated")

    # --- requests -----------------------------------------------------------------------------------------

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer":
            presented = request.query.get("access_token", "")
        if not presented or not self.token.matches(presented.strip()):
            return _json(
                {"error": "unauthorized", "detail": "send Authorization: Bearer <token> (DTC Panel > Settings)"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="DTC Panel"'},
            )
        return await handler(request)

    async def _health(self, _request: web.Request) -> web.Response:
        hub = self.hub
        return _json(
            {
                "time": schema.iso(datetime.now(UTC)),
                "ready": hub.ready,
                "connection": hub.connection_json(),
                "positions": hub.confirmation_counts(),
                "positions_status": hub.positions_status,
                "discrepancies": len(hub.discrepancies),
                "storage": hub.storage_json(),
                "stream": {"seq": hub.seq, "clients": len(hub.clients), "dropped_clients": hub.dropped_clients},
            }
        )

    async def _positions(self, _request: web.Request) -> web.Response:
        hub = self.hub
        return _json(
            {
                "time": schema.iso(datetime.now(UTC)),
                "seq": hub.seq,
                "positions": hub.position_list(),
                "broker_only": [hub._broker_only(b) for b in hub.broker_only],
            }
        )

    def _day_start(self, now: datetime) -> datetime:
        return trading_day_start(now, self.session_start, self.session_timezone)

    async def _today(self, _request: web.Request) -> web.Response:
        now = datetime.now(UTC)
        day_start = self._day_start(now)
        hub = self.hub
        scopes = sorted({(a.mode, a.account) for a in hub.accounts} | {k[:2] for k in hub.positions})
        views = list(hub.positions.values())  # read on the loop, before the worker thread runs
        assert self._reader is not None
        try:
            booked = await asyncio.to_thread(self._reader.today, scopes, day_start)
        except StorageError as exc:
            return _json({"error": "database", "detail": str(exc)}, status=503)
        accounts = []
        for figures in booked:
            mine = [v for v in views if (v.mode, v.account) == (figures.mode, figures.account)]
            priced = [v.open_pnl for v in mine if not v.pnl_unit and v.open_pnl is not None]
            open_pnl = sum(priced, Decimal(0)) if priced else None
            excluded = [f"{v.symbol} ({'points' if v.pnl_unit == 'pt' else v.pnl_unit})" for v in mine if v.pnl_unit]
            accounts.append(
                {
                    "mode": figures.mode,
                    "account": figures.account,
                    "realized_pnl": schema.dec(figures.realized),
                    "open_pnl": schema.dec(open_pnl),
                    "total_pnl": schema.dec(figures.realized + (open_pnl or Decimal(0))),
                    "trades": figures.trades,
                    "open_positions": len(mine),
                    "excluded_from_open_pnl": excluded,
                }
            )
        return _json({"time": schema.iso(now), "trading_day_start": schema.iso(day_start), "accounts": accounts})

    async def _trades(self, request: web.Request) -> web.Response:
        query = request.query
        now = datetime.now(UTC)
        try:
            since = _parse_time(query["since"]) if "since" in query else self._day_start(now)
            limit = int(query.get("limit", "1000"))
            if not 1 <= limit <= TRADES_LIMIT:
                raise ValueError(f"limit must be from 1 to {TRADES_LIMIT}")
        except ValueError as exc:
            return _json({"error": "bad request", "detail": str(exc)}, status=400)
        assert self._reader is not None
        try:
            rows = await asyncio.to_thread(
                self._reader.trades_since, since, query.get("mode"), query.get("account"), limit
            )
        except StorageError as exc:
            return _json({"error": "database", "detail": str(exc)}, status=503)
        return _json({"time": schema.iso(now), "since": schema.iso(since), "trades": [schema.trade(r) for r in rows]})

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=STREAM_HEARTBEAT_S)
        await ws.prepare(request)
        peer = request.remote or "?"
        client, snapshot = self.hub.add_client(f"{peer}#{id(ws) & 0xFFFF:04x}")
        transport = request.transport
        client.abort = transport.abort if transport is not None else None
        task = asyncio.current_task()
        if task is not None:
            self._streams.add(task)
        log.info("local API: stream client %s connected (%d connected)", client.name, len(self.hub.clients))
        writer = asyncio.create_task(self._write(ws, client, snapshot))
        try:
            async for message in ws:  # read-only: what a client sends is ignored (pings are answered by aiohttp)
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            self.hub.remove_client(client)
            if not writer.done():
                writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            if task is not None:
                self._streams.discard(task)
            log.info("local API: stream client %s disconnected", client.name)
        return ws

    async def _write(self, ws: web.WebSocketResponse, client: StreamClient, snapshot: bytes) -> None:
        """The snapshot, then every queued event in order — several at a time in one frame when they wait."""
        try:
            await ws.send_frame(snapshot, WSMsgType.TEXT)  # UTF-8 JSON already: a text frame, not encoded twice
            while True:
                await client.wake.wait()
                client.wake.clear()
                if client.ending is not None:
                    await self._goodbye(ws, client)
                    return
                await self._send_queued(ws, client)
        except (ConnectionError, RuntimeError) as exc:  # the client went away while being written to
            log.info("local API: stream client %s: %s", client.name, exc.__class__.__name__)
            self.hub.remove_client(client)

    @staticmethod
    async def _send_queued(ws: web.WebSocketResponse, client: StreamClient) -> None:
        """Every event waiting for ``client``, in one ``events`` frame."""
        if not client.queue:
            return
        items = list(client.queue)
        client.queue.clear()
        await ws.send_frame(b'{"type":"events","events":[' + b",".join(d for _, d in items) + b"]}", WSMsgType.TEXT)
        client.sent_seq = items[-1][0]

    async def _goodbye(self, ws: web.WebSocketResponse, client: StreamClient) -> None:
        """Send what is still queued (nothing for a dropped client), the last message, and close; a client that
        does not take them in time is cut off — it is never told a ``seq`` it was not sent."""
        assert client.ending is not None
        self.hub.remove_client(client)
        code = 1013 if client.ending["type"] == "dropped" else 1001  # try again later / going away
        try:
            async with asyncio.timeout(client.goodbye_within or GOODBYE_TIMEOUT_S):
                await self._send_queued(ws, client)  # ``closed``: the events published before it
                if client.ending["type"] == "dropped":  # what it has: a new connection starts from a snapshot
                    client.ending["last_seq"] = client.sent_seq
                await ws.send_json(client.ending)
                await ws.close(code=code, message=client.ending["reason"][:100].encode())
        except (TimeoutError, ConnectionError, RuntimeError):
            if client.abort is not None:
                client.abort()

    # --- closed trades for the stream ------------------------------------------------------------------------

    def _want_trades(self) -> None:
        """A position closed or flipped: read the trades stored since the last one (on a worker thread)."""
        self._trades_wanted = True
        if self._trades_task is None and self._reader is not None:
            self._trades_task = self.loop.create_task(self._catch_up_trades())

    async def _catch_up_trades(self) -> None:
        reader = self._reader
        try:
            while self._trades_wanted and reader is not None:
                self._trades_wanted = False
                rows = await asyncio.to_thread(reader.trades_after, self._last_trade_id)
                if rows:
                    self._last_trade_id = max(r["id"] for r in rows)
                    self.hub.trades_closed(rows)
                    self._trades_wanted = self._trades_wanted or len(rows) >= 1000
        except StorageError as exc:
            log.warning("local API: closed trades not read (%s); tried again at the next close", exc)
        finally:
            self._trades_task = None


def _parse_time(text: str) -> datetime:
    """ISO 8601 (``2026-11-30T18:00:00Z``, ``2026-11-30``); a time without a zone is UTC. Raises ``ValueError``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"since must be an ISO 8601 time such as 2026-11-30T18:00:00Z, not {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)

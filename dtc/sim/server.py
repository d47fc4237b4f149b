"""A DTC simulator server: a real TCP server on loopback that speaks JSON DTC the way Sierra Chart does.

Used by the app's ``--demo`` mode and by end-to-end and crash-torture tests; serves from an asyncio loop on
one daemon thread. Wire behaviour follows ``dtc-protocol.md``: an optional 16-byte binary encoding
handshake, then NUL-terminated JSON; 1 → 2 and HEARTBEAT (3) every ``HeartbeatIntervalInSeconds``;
requests are answered by ``dtc.sim.handlers``; each fill piece → unsolicited 301 + 306, each balance step →
unsolicited 600, to every logged-on client; each trade (fill piece, price, walk update) → 107 to the
clients subscribed to that symbol. The ground truth is ``dtc.sim.world``, optionally persisted across
restarts by ``dtc.sim.persist``; faults (drops, silence, logon results, rejects, duplicates, outside
position changes) are injected through this class's API or scenario steps (``dtc.sim.steps``).

CLI: ``python -m dtc.sim --scenario FILE --port P [--host H] [--no-loop] [--speed X] [--state FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import math
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from dtc.sim.connection import LogoffSeen, LogonSeen
from dtc.sim.engine import BurstResult, SimEngine
from dtc.sim.handlers import HistoryRequest
from dtc.sim.persist import StateFile, encode_world
from dtc.sim.scenario import FillSpec, Scenario, load_scenario
from dtc.sim.steps import InstrumentSpec, LogonResultSpec, SetPositionSpec, TradesDifferenceSpec
from dtc.sim.validate import number, text
from dtc.sim.wire import SERVER_NAME
from dtc.sim.world import FILL_LOG_KEYS, World

log = logging.getLogger(__name__)

T = TypeVar("T")
__all__ = ["SERVER_NAME", "BurstResult", "SimulatorServer", "main"]
CALL_TIMEOUT_S = 10.0


class SimulatorServer:
    """A JSON DTC server on a background thread, playing a ``Scenario`` and answering Sierra-style.

    ``port`` 0 picks a free port (see ``.port`` after ``start()``); ``speed`` divides every step wait (s).
    The scenario starts at ``start()`` with ``autoplay``, at the first logon with ``play_on_logon``, else
    at ``play()``. ``scenario`` None means no accounts and no steps. All public methods are thread-safe.

    ``state_file``: the world (accounts/balances, positions, fills, id counters, last prices, playback
    position) is loaded from it by the constructor when it exists, then written atomically after every
    fill, balance, position change and step (before the clients hear about it); playback resumes where it
    stopped. An unreadable or invalid file raises ``OSError``/``ValueError`` here; nothing starts afresh.
    Price ticks alone are saved with the next other change (and at ``stop()``).

    ``clock`` (UTC epoch seconds) times the fills and trades of a new world (tests replay a day in seconds);
    a world loaded from ``state_file`` keeps the real clock.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        autoplay: bool = True,
        speed: float = 1.0,
        play_on_logon: bool = False,
        state_file: Path | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a finite number > 0, got {speed!r}")
        self._scenario = scenario or Scenario()
        self._host, self._requested_port = host, port
        self._ssl = ssl_context  # Sierra Chart's "Require TLS": the listening port speaks TLS
        self._autoplay = autoplay
        state = None if state_file is None else StateFile(Path(state_file), self._scenario)
        world = (state.load() if state else None) or World(self._scenario.accounts, clock=clock)
        self._engine = SimEngine(self._scenario, world, state, speed, play_on_logon)
        self._port = 0
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._startup_error: OSError | None = None
        self._stop_event: asyncio.Event | None = None  # loop thread only

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve on a daemon thread; returns once listening. Raises ``OSError`` if it cannot bind."""
        if self._thread is not None:
            raise RuntimeError("SimulatorServer.start() may be called only once")
        if (self._autoplay or self._engine.play_on_logon) and self._scenario.steps:
            self._engine.idle.clear()
        self._engine.persist()
        self._thread = threading.Thread(target=self._run, name="dtc-simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(CALL_TIMEOUT_S):
            raise RuntimeError("DTC simulator did not start listening in time")
        if self._startup_error is not None:
            self._thread.join(CALL_TIMEOUT_S)
            raise self._startup_error

    def stop(self) -> None:
        """Send LOGOFF (5) to and close every client, close the listener, join the thread; idempotent.

        The world is saved one last time; later changes (the ledger stays usable) are not written.
        """
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
                self._engine.idle.clear()
        elif self._engine.serving:
            self._call(self._engine.start_playback)
        else:
            raise RuntimeError("the DTC simulator has stopped")

    def wait_for_logons(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` clients are logged on; False on timeout (s)."""
        with self._engine.logon_changed:
            return self._engine.logon_changed.wait_for(lambda: self._engine.logged_on >= count, timeout)

    def wait_until_idle(self, timeout: float) -> bool:
        """Block until a started non-looping scenario has played every step; False on timeout (s)."""
        return self._engine.idle.wait(timeout)

    @property
    def logged_on_clients(self) -> int:
        """Number of connected clients that completed logon."""
        with self._engine.logon_changed:
            return self._engine.logged_on

    def logon_requests(self) -> list[LogonSeen]:
        """Every LOGON_REQUEST (1) received so far, oldest first (username, whether a password was sent, the
        requested heartbeat interval in seconds, ClientName; never the password itself)."""
        return self._call(lambda: list(self._engine.logons))

    def logoffs_received(self) -> list[LogoffSeen]:
        """Every LOGOFF (5) a logged-on client sent so far, oldest first, with its Reason text."""
        return self._call(lambda: list(self._engine.logoffs))

    @property
    def connected_clients(self) -> int:
        """Number of open client connections, logged on or not."""
        return self._call(lambda: len(self._engine.clients))

    # --- ground truth -----------------------------------------------------------------------------

    def fill(
        self,
        account: str,
        symbol: str,
        side: str,
        quantity: float,
        price: float,
        partials: list[tuple[float, float]] | None = None,
    ) -> list[str]:
        """Execute one order now (``side`` "BUY"/"SELL", contracts, points) and return its execution ids.

        Each piece is sent as an unsolicited 301 then 306 to every logged-on client, and as a 107 trade to
        the symbol's subscribers. An undeclared account is added with a zero balance. ``ValueError`` on
        invalid arguments.
        """
        spec = FillSpec.create(account, symbol, side, quantity, price, partials)
        return self._call(lambda: self._engine.apply_fill(spec))

    def burst(
        self, fills: Iterable[tuple[str, str, str, float, float]], cash_per_fill: float | None = 0.0
    ) -> BurstResult:
        """Execute many orders back to back, as fast as an exchange: ``fills`` are (account, symbol, side,
        quantity, price) tuples, each one order filled at once. One hop to the loop thread for all of them;
        the ground truth is updated and saved first, then each logged-on client gets one write holding, per
        order, its 301 and 306, a 600 of the account (CashBalance moved by ``cash_per_fill``; None sends no
        600) and the 107s of its subscriptions. Without clients the fills only reach the ground truth (and
        later 303 answers). ``ValueError`` on an invalid fill (before anything is executed)."""
        specs = [FillSpec.create(*fill) for fill in fills]
        cash = None if cash_per_fill is None else number(cash_per_fill, "cash_per_fill")
        return self._call(lambda: self._engine.apply_burst(specs, cash))

    def set_position(
        self, account: str, symbol: str, quantity: float, average_price: float, notify: bool = True
    ) -> None:
        """Change a position without a fill (made in another program): signed contracts at ``average_price``
        (points); ``notify`` sends an unsolicited 306, otherwise only a 305 shows it."""
        spec = SetPositionSpec.create(account, symbol, quantity, average_price, notify)
        self._call(lambda: self._engine.set_position(spec))

    def price(self, symbol: str, price: float, volume: float = 1) -> int:
        """A trade of ``volume`` contracts at ``price`` (points): sets the last price and sends 107 to the
        symbol's subscribers; returns how many 107s were sent."""
        sym = text(symbol, "symbol")
        value, vol = number(price, "price", positive=True), number(volume, "volume", positive=True)
        return self._call(lambda: self._engine.trade(sym, value, vol))

    def last_price(self, symbol: str) -> float | None:
        """The symbol's last trade price (points), None if it never traded."""
        quote = self._engine.world.quote(symbol)
        return None if quote is None else quote.last

    def positions(self) -> dict[tuple[str, str], tuple[float, float]]:
        """(account, symbol) → (signed quantity, average price) for every symbol ever traded, flat included."""
        return {(a, s): (p.quantity, p.average_price) for a, s, p in self._engine.world.positions()}

    def fill_log(self) -> list[dict[str, Any]]:
        """Every fill piece in order: account, symbol, side, quantity, price, execution_id, time (UTC s),
        server_order_id, position_quantity (signed, after the fill)."""
        return [{k: getattr(f, k) for k in FILL_LOG_KEYS} for f in self._engine.world.fills()]

    def history_requests(self) -> list[HistoryRequest]:
        """Every HISTORICAL_ORDER_FILLS_REQUEST (303) answered with fills so far, oldest first: TradeAccount,
        StartDateTime and NumberOfDays as received, and how many 304 fills were sent (0 for NoOrderFills).
        Rejected 303s (308) are not listed."""
        return self._call(lambda: list(self._engine.handlers.history_requests))

    def world_snapshot(self) -> dict[str, Any]:
        """The whole ground truth as plain JSON data, exactly as the state file stores it: next_order,
        next_execution, playback {next_step, pass_number}, accounts, positions, fills (all fields), quotes."""
        return json.loads(encode_world(self._engine.world, self._scenario))

    def set_instrument(
        self,
        symbol: str,
        tick: float,
        tick_value: float,
        description: str = "",
        exchange: str | None = None,
        currency: str = "USD",
    ) -> None:
        """Add or replace a security definition (tick in points, tick value in ``currency`` per contract)."""
        spec = InstrumentSpec.create(symbol, tick, tick_value, description, exchange, currency)
        self._call(lambda: self._engine.instruments.__setitem__(spec.symbol, spec))

    # --- fault injection --------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> int:
        """Fault injection: send ``data`` byte-for-byte (include the 0x00 terminators) to every logged-on
        client, in order with fills; returns how many clients it was queued for."""
        return self._call(lambda: self._engine.broadcast(bytes(data)))

    def drop_connections(self, mid_frame: bool = False) -> int:
        """Close every client socket without LOGOFF; ``mid_frame`` first sends the first half of a valid 301
        (or 306) frame. Returns how many connections were dropped."""
        return self._call(lambda: self._engine.drop_connections(mid_frame))

    def set_heartbeats(self, enabled: bool) -> None:
        """Stop (False) or resume (True) sending HEARTBEAT (3); everything else still flows."""
        self._call(lambda: setattr(self._engine.faults, "heartbeats", bool(enabled)))

    def set_silent(self, enabled: bool) -> None:
        """While enabled send nothing at all (no heartbeats, updates or responses; nothing is queued for
        later), keeping connections open. Fills still reach the ground truth and later 303 answers."""
        self._call(lambda: self._engine.set_silent(bool(enabled)))

    def set_logon_result(self, result: int, text: str = "", reconnect_address: str = "") -> None:
        """Answer later LOGON_REQUESTs with Result ``result`` (1 success; 2 error, 3 error/no reconnect,
        4 reconnect to ``reconnect_address``: each then closes the connection). ``ValueError`` if invalid."""
        spec = LogonResultSpec.create(result, text, reconnect_address, "set_logon_result")
        self._call(lambda: setattr(self._engine.faults, "logon", spec))

    def logoff_clients(self, reason: str = "Simulated logoff", do_not_reconnect: bool = False) -> int:
        """Send LOGOFF (5) {Reason, DoNotReconnect} to every client, then close them; returns how many."""
        return self._call(lambda: self._engine.logoff_clients(reason, do_not_reconnect))

    def set_positions_reject(self, text: str | None) -> None:
        """While ``text`` is set, answer 305 with CURRENT_POSITIONS_REJECT (307) {RequestID, RejectText}."""
        self._call(lambda: setattr(self._engine.faults, "positions_reject", text))

    def set_history_reject(self, text: str | None) -> None:
        """While ``text`` is set, answer 303 with HISTORICAL_ORDER_FILLS_REJECT (308) {RequestID, RejectText}."""
        self._call(lambda: setattr(self._engine.faults, "history_reject", text))

    def set_trades_reject(self, text: str | None, accounts: tuple[str, ...] = ()) -> None:
        """While ``text`` is set, answer HISTORICAL_TRADES_REQUEST (10100) with HISTORICAL_TRADES_REJECT (10101):
        for every TradeAccount, or only for ``accounts`` when given."""
        faults = self._engine.handlers.trades.faults
        self._call(lambda: (setattr(faults, "reject", text), setattr(faults, "reject_accounts", frozenset(accounts))))

    def set_trades_cut_at_start(self, cut: bool) -> None:
        """While set, build 10102 trades only from the fills at or after the request's StartDateTime (a trade open
        at that moment is answered with a different entry, or not at all)."""
        self._call(lambda: setattr(self._engine.handlers.trades.faults, "cut_at_start", bool(cut)))

    def set_trades_ignored(self, ignored: bool) -> None:
        """While set, never answer 10100 (a Sierra Chart that does not know the message)."""
        self._call(lambda: setattr(self._engine.handlers.trades.faults, "ignore", bool(ignored)))

    def set_trades_difference(self, close_execution_id: str, field: str, amount: float) -> None:
        """Sierra's ``field`` (a 10102 field, e.g. ``ClosedProfitLoss``) of the trade closed by
        ``close_execution_id`` differs from the fills' figure by ``amount``. ``ValueError`` if invalid."""
        spec = TradesDifferenceSpec.create(close_execution_id, field, amount, "set_trades_difference")
        faults = self._engine.handlers.trades.faults
        self._call(lambda: faults.adjust.__setitem__(spec.close_execution_id, (spec.field, spec.amount)))

    def set_trades_commission(self, per_contract: float) -> None:
        """Commission of 10102 trades: ``per_contract`` (account currency) per contract of every fill."""
        value = number(per_contract, "per_contract")
        self._call(lambda: setattr(self._engine.handlers.trades.faults, "commission_per_contract", value))

    def trades_requests(self) -> list[tuple[str, int]]:
        """(TradeAccount, StartDateTime) of every 10100 answered with trades (10102), oldest first."""
        return self._call(lambda: list(self._engine.handlers.trades.requests))

    def resend_fill(self, execution_id: str) -> bool:
        """Send the identical 301 of an earlier fill again (duplicate delivery); False if the id is unknown."""
        return self._call(lambda: self._engine.resend_fill(execution_id))

    # --- orders (dtc.sim.orders): what the panel sends, and the trader's own orders ------------------

    def orders_received(self) -> list[dict[str, Any]]:
        """Every SUBMIT_NEW_SINGLE_ORDER (208), CANCEL_ORDER (203) and CANCEL_REPLACE_ORDER (204) received, oldest
        first, as its JSON fields (``Type`` first)."""
        return self._call(lambda: [dict(r) for r in self._engine.orders.received])

    def working_orders(self) -> list[dict[str, Any]]:
        """The working orders now: server_order_id, client_order_id, account, symbol, side, order_type, price
        (points), quantity (contracts), ..."""
        return self._call(lambda: [dataclasses.asdict(o) for o in self._engine.orders.orders.values()])

    def place_order(
        self,
        account: str,
        symbol: str,
        side: str,
        order_type: int,
        price: float,
        quantity: float,
        parent: str = "",
    ) -> str:
        """A working order entered in Sierra Chart by the trader (``order_type`` OrderTypeEnum: 2 limit, 3 stop;
        ``side`` "BUY"/"SELL"; points; contracts): an unsolicited 301 to every client. Returns its
        ServerOrderID."""
        if side not in ("BUY", "SELL"):
            raise ValueError(f"side must be BUY or SELL, got {side!r}")
        order = {
            "account": text(account, "account"),
            "symbol": text(symbol, "symbol"),
            "side": side,
            "order_type": int(order_type),
            "price": number(price, "price", positive=True),
            "quantity": number(quantity, "quantity", positive=True),
            "parent": parent,
        }
        return self._call(lambda: self._engine.place_order(order).server_order_id)

    def cancel_working_order(self, order_id: str) -> bool:
        """The trader cancels a working order in Sierra Chart (301 reason 6); False if it is not working."""
        return self._call(lambda: self._engine.cancel_working(order_id))

    def fill_order(self, order_id: str, price: float | None = None) -> list[str]:
        """Fill a working order (by ServerOrderID or ClientOrderID) at ``price`` (default its Price1): its 301
        (reason 4, the order's ids) and the 306. ``ValueError`` if it is not working."""
        return self._call(lambda: self._engine.fill_working(order_id, price))

    def set_order_reject(self, text_: str | None) -> None:
        """Reject every later SUBMIT_NEW_SINGLE_ORDER (208) with this InfoText (None: accept again)."""
        self._call(lambda: setattr(self._engine.orders.faults, "reject", text_))

    def set_cancel_reject(self, text_: str | None, bare: bool = False) -> None:
        """Reject every later CANCEL_ORDER (203) with this InfoText, the order staying working (None: cancel
        again). ``bare``: the reject carries only ClientOrderID, TradeAccount and InfoText."""
        def change() -> None:
            self._engine.orders.faults.cancel_reject = text_
            self._engine.orders.faults.cancel_reject_bare = bool(bare)

        self._call(change)

    def lose_working_order(self, order_id: str) -> bool:
        """The order (ServerOrderID or ClientOrderID) stops working without any 301 (e.g. cancelled at the
        exchange while the link is down); False if it is not working."""
        return self._call(lambda: self._engine.orders.remove(order_id) is not None)

    def set_open_orders_reject(self, text_: str | None) -> None:
        """While ``text_`` is set, answer OPEN_ORDERS_REQUEST (300) with OPEN_ORDERS_REJECT (302)."""
        self._call(lambda: setattr(self._engine.orders.faults, "open_orders_reject", text_))

    def set_order_delay(self, seconds: float) -> None:
        """Answer 208/203/204 only after ``seconds`` (0: at once)."""
        value = number(seconds, "seconds", positive=False)
        self._call(lambda: setattr(self._engine.orders.faults, "delay", value))

    def set_trading_allowed(self, allowed: bool) -> None:
        """Sierra Chart's "Allow Trading": False makes later logons say TradingIsSupported 0 and rejects orders."""
        self._call(lambda: setattr(self._engine.orders.faults, "trading_allowed", bool(allowed)))

    def set_trading_disabled(self, account: str, disabled: bool = True) -> None:
        """Lock ``account`` (TradingIsDisabled 1 in 401 and 600; its orders are rejected); an unsolicited 600."""
        self._call(lambda: self._engine.set_trading_disabled(account, disabled))

    def set_market_data_rejected(self, symbols: Iterable[str]) -> None:
        """Reject later 101 requests (103) for these symbol prefixes, roots or exchanges (e.g. "MES", "CME")."""
        entries = tuple(text(s, "market_data_rejected") for s in symbols)
        self._call(lambda: setattr(self._engine.faults, "market_data_rejected", entries))

    # --- loop thread ------------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the loop thread and return its result (directly when not serving)."""
        loop = self._loop
        if loop is None or not self._engine.serving or threading.current_thread() is self._thread:
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
            self._engine.serving = False
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._engine.persist()
            if self._engine.state is not None:
                self._engine.state.enabled = False
            self._ready.set()
            log.info("DTC simulator stopped")

    def _request_stop(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        try:
            server = await asyncio.start_server(
                self._engine.handle_client, self._host, self._requested_port, ssl=self._ssl
            )
        except OSError as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._port, self._engine.serving = server.sockets[0].getsockname()[1], True
        sc = self._scenario
        log.info(
            "DTC simulator listening on %s:%d, scenario %r (%d steps, loop=%s, speed=%g)",
            self._host,
            self._port,
            sc.name,
            len(sc.steps),
            sc.loop,
            self._engine.speed,
        )
        if self._autoplay:
            self._engine.start_playback()
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            server.close()
            await self._engine.shutdown()
            await server.wait_closed()


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: serve a scenario until Ctrl+C; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m dtc.sim", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, type=Path, help="scenario JSON file")
    parser.add_argument("--port", type=int, default=11099, help="TCP port (default 11099, 0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--no-loop", action="store_true", help="play the steps once even if the file loops")
    parser.add_argument("--speed", type=float, default=1.0, help="divide every step wait by this (default 1)")
    parser.add_argument("--wait-for-client", action="store_true", help="start playing at the first logon")
    parser.add_argument("--state", type=Path, help="persist the world in this file and resume from it")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        scenario = load_scenario(args.scenario)
    except (OSError, ValueError) as exc:
        log.error("cannot load scenario: %s", exc)
        return 2
    if args.no_loop:
        scenario = dataclasses.replace(scenario, loop=False)
    if not (math.isfinite(args.speed) and args.speed > 0):
        parser.error("--speed must be > 0")
    try:
        server = SimulatorServer(
            scenario,
            host=args.host,
            port=args.port,
            speed=args.speed,
            autoplay=not args.wait_for_client,
            play_on_logon=args.wait_for_client,
            state_file=args.state,
        )
        server.start()
    except (OSError, ValueError) as exc:
        log.error("cannot start the simulator on %s:%d: %s", args.host, args.port, exc)
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

"""The simulator's event-loop side: connections, logon, state changes, broadcasts, faults and playback.

Every method runs on the simulator's loop thread (or on the caller's thread when the loop is not
running); ``dtc.sim.server.SimulatorServer`` is the thread-safe facade. Messages sent:

- logon 1 → 2 (Result as injected; not 1 → close), then HEARTBEAT (3) at the requested interval;
- requests → ``dtc.sim.handlers``;
- a fill piece → unsolicited 301 + 306 to every logged-on client, then 107 to the symbol's subscribers;
- a balance → unsolicited 600; an outside position change → unsolicited 306 (if notified);
- a trade (price step, walk update, fill piece) → 107 to each subscription of that symbol;
- faults: half a 301/306 frame then close; LOGOFF (5) then close; a repeated 301; silence; no heartbeats.

The world is saved (``dtc.sim.persist``) before clients hear of a change, so no client ever holds an
execution id that a restarted simulator could forget.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from dtc import messages as m
from dtc.sim.connection import Client, Faults, LogoffSeen, LogonSeen, read_frames
from dtc.sim.handlers import RequestHandlers
from dtc.sim.market import walk_path
from dtc.sim.orders import SimOrder, order_update
from dtc.sim.persist import StateFile
from dtc.sim.playback import play
from dtc.sim.scenario import AccountSpec, BalanceSpec, FillSpec, Scenario, StepAction
from dtc.sim.steps import (
    DropSpec,
    DuplicateFillSpec,
    FillStopSpec,
    HeartbeatsSpec,
    InstrumentSpec,
    LogoffSpec,
    LogonResultSpec,
    OrderDelaySpec,
    OrderRejectSpec,
    PlaceOrderSpec,
    PositionsRejectSpec,
    PriceSpec,
    PriceWalkSpec,
    SetPositionSpec,
    SilenceSpec,
    TradesDifferenceSpec,
    TradesRejectSpec,
)
from dtc.sim.wire import (
    balance_update,
    encode_all,
    fill_order_update,
    frame,
    logon_response,
    position_update,
    trade_update,
)
from dtc.sim.world import Position, Quote, World
from dtc.types import OrderStatusEnum, OrderTypeEnum, OrderUpdateReasonEnum

log = logging.getLogger("dtc.sim.server")

OrderMessage = m.SubmitNewSingleOrder | m.CancelOrder | m.CancelReplaceOrder


@dataclasses.dataclass(frozen=True)
class BurstResult:
    """What ``SimEngine.apply_burst`` did: the new execution ids in order, when the bytes were handed to the
    clients' transports (``time.perf_counter()``; 0.0 when no client was logged on), to how many clients,
    and how many bytes each logged-on client was sent (the 107s depend on its subscriptions)."""

    execution_ids: list[str]
    sent_at: float
    clients: int
    bytes_per_client: list[int]


class SimEngine:
    """Clients, ground truth, faults and playback of one simulator (loop thread only, except the counters
    behind ``logon_changed`` and the ``idle`` event, which other threads wait on)."""

    def __init__(
        self, scenario: Scenario, world: World, state: StateFile | None, speed: float, play_on_logon: bool
    ) -> None:
        self.scenario, self.world, self.state, self.speed = scenario, world, state, speed
        self.play_on_logon = play_on_logon
        self.faults = Faults(market_data_rejected=scenario.market_data_rejected)
        self.instruments: dict[str, InstrumentSpec] = dict(scenario.instruments)
        for spec in self.instruments.values():
            if spec.price is not None:
                world.seed_quote(spec.symbol, spec.price)
        self.handlers = RequestHandlers(world, self.faults, self.instruments)
        self.orders = self.handlers.orders
        """Working orders and the answers to 208/203/204 (``dtc.sim.orders``)."""
        self.logon_changed = threading.Condition()
        self.logged_on = 0
        self.idle = threading.Event()
        self.idle.set()
        self.serving = False
        self.clients: set[Client] = set()
        self.logons: list[LogonSeen] = []
        """Every LOGON_REQUEST (1) received, oldest first."""
        self.logoffs: list[LogoffSeen] = []
        """Every LOGOFF (5) received from a logged-on client, oldest first."""
        self.tasks: set[asyncio.Task[None]] = set()
        self.play_task: asyncio.Task[None] | None = None
        self._silence_end: asyncio.TimerHandle | None = None
        self._perform: dict[type, Callable[[Any], object]] = {
            FillSpec: self.apply_fill,
            BalanceSpec: self.apply_balance,
            PriceSpec: lambda s: self.trade(s.symbol, s.price, s.volume),
            SetPositionSpec: self.set_position,
            DropSpec: lambda s: self.drop_connections(s.mid_frame),
            SilenceSpec: lambda s: self.silence_for(s.seconds / self.speed),
            DuplicateFillSpec: lambda s: self.resend_fill(s.execution_id),
            LogoffSpec: lambda s: self.logoff_clients(s.reason, s.do_not_reconnect),
            HeartbeatsSpec: lambda s: setattr(self.faults, "heartbeats", s.enabled),
            LogonResultSpec: lambda s: setattr(self.faults, "logon", s),
            PositionsRejectSpec: lambda s: setattr(self.faults, "positions_reject", s.text),
            TradesRejectSpec: lambda s: setattr(self.handlers.trades.faults, "reject", s.text),
            TradesDifferenceSpec: lambda s: self.handlers.trades.faults.adjust.__setitem__(
                s.close_execution_id, (s.field, s.amount)
            ),
            OrderRejectSpec: lambda s: setattr(self.orders.faults, "reject", s.text),
            OrderDelaySpec: lambda s: setattr(self.orders.faults, "delay", s.seconds / self.speed),
            FillStopSpec: self.fill_stop,
            PlaceOrderSpec: lambda s: self.place_order(dataclasses.asdict(s)),
        }

    # --- connections ------------------------------------------------------------------------------

    async def handle_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection until EOF, LOGOFF, a failed logon or a fault closes it."""
        task = asyncio.current_task()
        if task is None or not self.serving:  # accepted while shutting down
            writer.close()
            return
        self.tasks.add(task)
        peer = writer.get_extra_info("peername")
        client = Client(writer, f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer), self.faults)
        self.clients.add(client)
        log.info("client %s connected", client.peer)
        try:
            await read_frames(client, reader, self.on_frame)
        except OSError as exc:
            log.info("client %s: connection error: %s", client.peer, exc)
        finally:
            self.drop(client)
            with contextlib.suppress(OSError, TimeoutError):  # peer vanished; the socket is closed anyway
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            self.tasks.discard(task)

    async def shutdown(self) -> None:
        """LOGOFF (5) to logged-on clients, close every connection, stop playback, let handlers finish."""
        self.serving = False
        bye = frame(m.Logoff(Reason="Simulator stopping"))
        for client in list(self.clients):
            if client.logged_on:
                client.send(bye)
            client.writer.close()
        if self.play_task is not None:
            self.play_task.cancel()
        # Closed transports end the handlers with EOF; cancelling them instead makes 3.11's
        # StreamReaderProtocol log a spurious CancelledError, so cancel only stragglers.
        if self.tasks:
            _, stragglers = await asyncio.wait(list(self.tasks), timeout=2.0)
            for task in stragglers:
                task.cancel()

    def drop(self, client: Client) -> None:
        """Forget ``client`` and close its socket (idempotent)."""
        self.clients.discard(client)
        client.stop_heartbeats()
        if client.logged_on:
            client.logged_on = False
            with self.logon_changed:
                self.logged_on -= 1
                self.logon_changed.notify_all()
        client.writer.close()

    def on_frame(self, client: Client, data: bytes) -> bool:
        """Handle one JSON frame from ``client``; False means close the connection."""
        try:
            msg = m.decode_message(data)
        except m.DecodeError as exc:
            log.warning("client %s: skipped malformed frame (%d bytes): %s", client.peer, len(data), exc.reason)
            return True
        if isinstance(msg, m.UnknownMessage):
            log.info("client %s: ignoring unsupported message Type %d", client.peer, msg.Type)
        elif isinstance(msg, m.LogonRequest):
            return self.on_logon(client, msg)
        elif isinstance(msg, m.EncodingRequest):
            client.send(frame(m.EncodingResponse(Encoding=2)))
        elif not client.logged_on:
            log.info("client %s: ignoring Type %d before logon", client.peer, msg.TYPE)
        elif isinstance(msg, m.Heartbeat):
            client.last_heartbeat = time.monotonic()
        elif isinstance(msg, m.Logoff):
            log.info("client %s: LOGOFF (%r), closing", client.peer, msg.Reason)
            self.logoffs.append(LogoffSeen(client.peer, msg.Reason))
            return False
        elif isinstance(msg, m.SubmitNewSingleOrder | m.CancelOrder | m.CancelReplaceOrder):
            self.on_order_message(client, msg)
        elif (reply := self.handlers.handle(client, msg)) is not None:
            client.send(encode_all(reply))
        else:
            log.info("client %s: ignoring Type %d (not handled by the simulator)", client.peer, msg.TYPE)
        return True

    def on_logon(self, client: Client, req: m.LogonRequest) -> bool:
        """1 → 2 with the injected Result; on success HEARTBEAT (3) every requested interval (1..3600 s,
        default 10); any other Result closes the connection after the 2."""
        result = self.faults.logon
        self.logons.append(
            LogonSeen(client.peer, req.Username, bool(req.Password), req.HeartbeatIntervalInSeconds, req.ClientName)
        )
        log.info(
            "client %s: logon from %r, requested heartbeat interval: %d, answering Result %d",
            client.peer,
            req.ClientName,
            req.HeartbeatIntervalInSeconds,
            result.result,
        )
        response = logon_response(
            result.result, result.text, result.reconnect_address, self.orders.faults.trading_allowed
        )
        client.send(frame(response))
        if result.result != 1:
            return False
        client.last_heartbeat = time.monotonic()
        client.start_heartbeats(req.HeartbeatIntervalInSeconds)
        if not client.logged_on:
            client.logged_on = True
            with self.logon_changed:
                self.logged_on += 1
                self.logon_changed.notify_all()
        if self.play_on_logon:
            self.start_playback()
        return True

    def broadcast(self, data: bytes) -> int:
        """Send ``data`` to every logged-on client; returns how many it was queued for."""
        return sum(client.send(data) for client in list(self.clients) if client.logged_on)

    # --- state changes ----------------------------------------------------------------------------

    def persist(self) -> None:
        """Save the world if it changed (call before any client hears about the change)."""
        if self.state is not None:
            try:
                self.state.save(self.world)
            except OSError as exc:
                log.error("cannot save the simulator state to %s: %s", self.state.path, exc)

    def apply_fill(self, spec: FillSpec, order: SimOrder | None = None) -> list[str]:
        """Execute ``spec``: update and save the ground truth, send 301 + 306 per piece, then 107s. ``order``: a
        working order it fills (its ids, type, price and time in force are on the 301), else a market order."""
        ids = (order.server_order_id, order.client_order_id) if order is not None else None
        records = self.world.apply_fill(spec, ids)
        self.persist()
        msgs: list[m.DTCMessage] = []
        for f, pos in records:
            update = fill_order_update(f)
            if order is not None:
                update = msgspec.structs.replace(
                    update, OrderType=order.order_type, Price1=order.price, TimeInForce=order.time_in_force
                )
            msgs += [update, position_update(f.account, f.symbol, pos)]
            log.info(
                "fill %s %s %s %s @ %s (%s, %s) -> position %+g",
                f.account,
                f.symbol,
                f.side,
                f.quantity,
                f.price,
                f.execution_id,
                f.server_order_id,
                f.position_quantity,
            )
        self.broadcast(encode_all(msgs))
        for f, _ in records:
            self.trade(f.symbol, f.price, f.quantity)
        return [f.execution_id for f, _ in records]

    def apply_burst(self, specs: Sequence[FillSpec], cash_per_fill: float | None = 0.0) -> BurstResult:
        """Execute ``specs`` in order as fast as an exchange would: update the ground truth and save it once,
        then queue everything to each logged-on client in a single write — per fill piece its 301 and 306,
        per order a 600 of its account (skipped when ``cash_per_fill`` is None; otherwise the account's
        CashBalance moves by ``cash_per_fill`` first), and 107s for the client's subscriptions of the symbol.
        With no client logged on the fills only reach the ground truth (later 303 answers)."""
        pieces: list[tuple[bytes, str, Quote]] = []
        ids: list[str] = []
        for spec in specs:
            records = self.world.apply_fill(spec)
            head = b"".join(
                frame(fill_order_update(f)) + frame(position_update(f.account, f.symbol, pos)) for f, pos in records
            )
            if cash_per_fill is not None:
                cash = self.world.accounts(spec.account)[0].CashBalance + cash_per_fill
                account = self.world.apply_balance(BalanceSpec(spec.account, {"CashBalance": round(cash, 10)}))
                head += frame(self._balance_update(account))
            for i, (f, _) in enumerate(records):
                ids.append(f.execution_id)
                pieces.append((head if i == 0 else b"", f.symbol, self.world.trade(f.symbol, f.price, f.quantity)))
        self.persist()
        log.info("burst of %d order(s), %d fill piece(s)", len(specs), len(ids))
        payloads = []
        for client in list(self.clients):
            if client.logged_on:
                subs: dict[str, list[int]] = {}
                for sid, sym in client.subscriptions.items():
                    subs.setdefault(sym, []).append(sid)
                data = b"".join(
                    updates + b"".join(frame(trade_update(sid, quote)) for sid in subs.get(symbol, ()))
                    for updates, symbol, quote in pieces
                )
                payloads.append((client, data))
        sent_at = time.perf_counter()
        sizes = [len(data) for client, data in payloads if client.send(data)]
        return BurstResult(ids, sent_at if sizes else 0.0, len(sizes), sizes)

    def apply_balance(self, spec: BalanceSpec) -> None:
        """Store the new balance fields, save, and send an unsolicited 600 to every logged-on client."""
        account = self.world.apply_balance(spec)
        self.persist()
        log.info("balance %s %s", spec.account, dict(spec.values))
        self.broadcast(frame(self._balance_update(account)))

    def set_position(self, spec: SetPositionSpec) -> None:
        """An outside position change: save it, then (if ``notify``) an unsolicited 306."""
        pos = self.world.set_position(spec.account, spec.symbol, spec.quantity, spec.average_price)
        self.persist()
        log.info(
            "outside position change %s %s -> %+g @ %s (notify=%s)",
            spec.account,
            spec.symbol,
            pos.quantity,
            pos.average_price,
            spec.notify,
        )
        if spec.notify:
            self.broadcast(frame(position_update(spec.account, spec.symbol, pos)))

    def trade(self, symbol: str, price: float, volume: float) -> int:
        """Record a trade as the symbol's last price; 107 to each subscription of it; returns how many."""
        quote = self.world.trade(symbol, price, volume)
        sent = 0
        for client in list(self.clients):
            if client.logged_on:
                subs = [sid for sid, sym in client.subscriptions.items() if sym == symbol]
                sent += sum(client.send(frame(trade_update(sid, quote))) for sid in subs)
        return sent

    async def walk(self, spec: PriceWalkSpec) -> None:
        """``spec.count`` trades per leg, ``spec.interval`` / speed seconds apart (first after one interval)."""
        paths: list[tuple[str, list[float]]] = []
        for leg in spec.legs:
            instrument, quote = self.instruments.get(leg.symbol), self.world.quote(leg.symbol)
            tick = leg.tick or (instrument.tick if instrument else None)
            start = leg.start or (quote.last if quote else None) or (instrument.price if instrument else None)
            if tick is None or start is None:
                log.warning("price walk of %s skipped: no tick or start price known", leg.symbol)
                continue
            paths.append((leg.symbol, walk_path(start, tick, spec.count, f"{spec.seed}:{leg.symbol}", leg.end)))
        for i in range(spec.count):
            await asyncio.sleep(spec.interval / self.speed)
            for symbol, path in paths:
                self.trade(symbol, path[i], 1.0)

    # --- orders (dtc.sim.orders) -------------------------------------------------------------------

    def on_order_message(self, client: Client, msg: OrderMessage) -> None:
        """208/203/204 from a client: kept in ``orders.received``, answered (after the injected delay) with
        301s to every logged-on client, as Sierra Chart reports every order event to every connection."""
        self.orders.received.append(msgspec.to_builtins(msg))
        log.info("client %s: %s %s", client.peer, type(msg).__name__, msgspec.to_builtins(msg))
        delay = self.orders.faults.delay
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._answer_order, msg)
        else:
            self._answer_order(msg)

    def _answer_order(self, msg: OrderMessage) -> None:
        if isinstance(msg, m.SubmitNewSingleOrder):
            replies = self.orders.submit(msg)
        elif isinstance(msg, m.CancelOrder):
            replies = self.orders.cancel(msg)
        else:
            replies = self.orders.replace(msg)
        for reply in replies:
            log.info("order update %s reason %d status %d %s", reply.ServerOrderID or reply.ClientOrderID,
                     reply.OrderUpdateReason, reply.OrderStatus, reply.InfoText)  # fmt: skip
        self.persist()  # the order id counter moved
        self.broadcast(encode_all(replies))

    def place_order(self, order: dict[str, Any]) -> SimOrder:
        """A working order entered in "Sierra Chart" itself (not by a client): unsolicited 301 reason 2."""
        placed = self.orders.add(**order)
        self.persist()
        accepted = order_update(placed, OrderUpdateReasonEnum.NEW_ORDER_ACCEPTED, OrderStatusEnum.ORDER_STATUS_OPEN)
        self.broadcast(frame(accepted))
        return placed

    def cancel_working(self, order_id: str) -> bool:
        """The trader cancels a working order in "Sierra Chart": 301 reason 6; False if none is working."""
        order = self.orders.remove(order_id)
        if order is None:
            return False
        canceled = order_update(order, OrderUpdateReasonEnum.ORDER_CANCELED, OrderStatusEnum.ORDER_STATUS_CANCELED)
        self.broadcast(frame(canceled))
        return True

    def fill_working(self, order_id: str, price: float | None) -> list[str]:
        """Fill working order ``order_id`` (ServerOrderID or ClientOrderID) at ``price`` (default its Price1):
        the fill's 301 carries the order's ids, type, price and time in force, then the 306; returns the
        execution ids. ``ValueError`` (the order left working) for no such order or an invalid price."""
        order = self.orders.find(order_id)
        if order is None:
            raise ValueError(f"no working order {order_id!r}")
        spec = FillSpec.create(order.account, order.symbol, order.side, order.quantity,
                               order.price if price is None else price)  # fmt: skip
        self.orders.remove(order.server_order_id)
        return self.apply_fill(spec, order)

    def fill_stop(self, spec: FillStopSpec) -> list[str]:
        """Fill the working stop of (account, symbol) at its price; nothing (logged) when there is none."""
        stop = next(
            (o for o in self.orders.orders.values() if (o.account, o.symbol) == (spec.account, spec.symbol)
             and o.order_type in (OrderTypeEnum.ORDER_TYPE_STOP, OrderTypeEnum.ORDER_TYPE_STOP_LIMIT)),
            None,
        )  # fmt: skip
        if stop is None:
            log.info("fill_stop: no working stop for %s %s", spec.account, spec.symbol)
            return []
        return self.fill_working(stop.server_order_id, None)

    def set_trading_disabled(self, account: str, disabled: bool) -> None:
        """Sierra Chart's risk settings lock (or unlock) ``account``: an unsolicited 600 with TradingIsDisabled."""
        if disabled:
            self.orders.faults.disabled_accounts.add(account)
        else:
            self.orders.faults.disabled_accounts.discard(account)
        accounts = self.world.accounts(account)
        if accounts:
            self.broadcast(frame(self._balance_update(accounts[0])))

    def _balance_update(self, account: AccountSpec) -> m.AccountBalanceUpdate:
        """An unsolicited 600 of ``account``, with its TradingIsDisabled as the risk settings have it."""
        return balance_update(account, trading_disabled=account.TradeAccount in self.orders.faults.disabled_accounts)

    # --- faults -----------------------------------------------------------------------------------

    def drop_connections(self, mid_frame: bool) -> int:
        """Close every connection without LOGOFF (after half a 301/306 frame if ``mid_frame``)."""
        clients = list(self.clients)
        half = self._half_frame() if mid_frame else b""
        for client in clients:
            client.send(half)
            self.drop(client)
        log.info("dropped %d connection(s)%s", len(clients), " mid-frame" if mid_frame else "")
        return len(clients)

    def _half_frame(self) -> bytes:
        """The first half of a valid 301 (the last fill's) or 306 frame, without its terminator."""
        last, rows = self.world.last_fill(), self.world.positions()
        if last is not None:
            data = frame(fill_order_update(last))
        elif rows:
            data = frame(position_update(*rows[0]))
        else:
            data = frame(position_update("Sim1", "MESZ25-CME", Position(1.0, 6000.0, time.time())))
        return data[: (len(data) - 1) // 2]

    def set_silent(self, enabled: bool) -> None:
        """Silence on/off now (cancels a pending timed end of silence)."""
        if self._silence_end is not None:
            self._silence_end.cancel()
            self._silence_end = None
        self.faults.silent = enabled
        log.info("silence %s", "on" if enabled else "off")

    def silence_for(self, seconds: float) -> None:
        """Silence now, ending by itself after ``seconds`` (already speed-scaled)."""
        self.set_silent(True)
        self._silence_end = asyncio.get_running_loop().call_later(seconds, self.set_silent, False)

    def logoff_clients(self, reason: str, do_not_reconnect: bool) -> int:
        """LOGOFF (5) {Reason, DoNotReconnect} to every client, then close them; returns how many."""
        clients = list(self.clients)
        bye = frame(m.Logoff(Reason=reason, DoNotReconnect=int(do_not_reconnect)))
        for client in clients:
            client.send(bye)
            self.drop(client)
        log.info("LOGOFF %r (DoNotReconnect=%d) sent to %d client(s)", reason, do_not_reconnect, len(clients))
        return len(clients)

    def resend_fill(self, execution_id: str) -> bool:
        """The identical 301 of fill ``execution_id`` ("" = the most recent) again; False if there is none."""
        record = self.world.find_fill(execution_id) if execution_id else self.world.last_fill()
        if record is None:
            log.warning("duplicate fill: no fill %r to resend", execution_id or "(most recent)")
            return False
        log.info("resending the 301 of fill %s", record.execution_id)
        self.broadcast(frame(fill_order_update(record)))
        return True

    # --- playback ---------------------------------------------------------------------------------

    def start_playback(self) -> None:
        """Start the scenario from the world's playback position (no-op if started or empty)."""
        if self.play_task is None and self.scenario.steps:
            self.idle.clear()
            coro = play(self.scenario, self.world, self.speed, self.perform, self.walk, self.persist, self.idle)
            self.play_task = asyncio.get_running_loop().create_task(coro)

    def perform(self, action: StepAction) -> None:
        """Perform one (non-walk) scenario step."""
        self._perform[type(action)](action)

"""``StreamHub``: the local API's picture of the panel, and its fan-out to WebSocket clients.

Runs only on the API's asyncio loop. The core's ``Update``s arrive here by ``loop.call_soon_threadsafe``
(``apply``): the DTC thread only queues a reference to an immutable update and goes on. The hub keeps every
open position (from the first full snapshot, then the events), the connection, the discrepancies and the
storage state — what ``GET /positions`` and ``GET /health`` answer from — and turns each change into stream
events with a sequence number of their own (``seq``: 1, 2, 3 … per run of the API, no gaps).

Each event is encoded to JSON once and put in every client's bounded queue. A client whose queue is full
has fallen behind: it is told (``{"type": "dropped"}``) and disconnected; nobody else waits for it.

Price marks are thinned here, once for all clients: a ``mark_updated`` is sent for a position only when its
last price moved by at least one tick (by anything for an instrument whose tick size is unknown, 0) or became
stale / fresh, and at most every ``MARK_INTERVAL_S``; the
latest mark of a quicker burst follows when the interval is over, so a client always ends on the last price.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from api import schema
from core import events as ev
from core.reconcile import Discrepancy
from core.snapshots import AccountView, BrokerOnlyPosition, ConnectionInfo, PositionView

log = logging.getLogger(__name__)

Key = tuple[str, str, str]
MARK_INTERVAL_S = 0.1
"""At most one ``mark_updated`` per position per this many seconds (~10 a second)."""
MAX_QUEUED_EVENTS = 10_000
"""Events waiting for one client before it counts as fallen behind and is disconnected."""

_STRUCTURAL = (
    "quantity",
    "avg_entry",
    "entry_time",
    "confirmed",
    "broker_quantity",
    "stop_price",
    "target_price",
    "point_value",
    "tick_size",
    "pnl_unit",
    "commissions",
    "realized_in_trade",
)
"""Fields whose change is a ``position_changed`` (a fill, a bracket, a confirmation), not a mark."""

encode = msgspec.json.Encoder().encode


def _structure(view: PositionView) -> tuple[object, ...]:
    return tuple(getattr(view, name) for name in _STRUCTURAL)


def _key(view: PositionView) -> Key:
    return (view.mode, view.account, view.symbol)


@dataclass(eq=False)
class StreamClient:
    """One connected WebSocket: its queue of encoded events and, once it fell behind, why it is dropped."""

    name: str
    queue: deque[tuple[int, bytes]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    ending: dict[str, Any] | None = None
    """The last message before the stream is closed (``dropped`` or ``closed``), once decided."""
    sent_seq: int = 0
    """The sequence number of the newest event handed to the connection (the snapshot's at first)."""
    abort: Callable[[], None] | None = None
    """Cuts the connection at once (a client that does not even read its goodbye)."""
    goodbye_within: float | None = None
    """Seconds the writer has for what is still queued, the goodbye and the close (``None``: the server's
    default); a client that does not take them in time is cut off."""

    def push(self, seq: int, data: bytes) -> bool:
        """Queue one encoded event; False (and nothing queued) when the client has fallen behind. The writer is
        woken by the hub once per loop iteration (``StreamHub._wake``), not once per event."""
        if self.ending is not None:
            return True
        if len(self.queue) >= MAX_QUEUED_EVENTS:
            return False
        self.queue.append((seq, data))
        return True

    def end(self, message: dict[str, Any], within: float | None = None) -> None:
        """Stop queueing: the writer sends ``message`` and closes. A ``dropped`` client gets nothing more before
        it (its queue is emptied: it fell behind); a ``closed`` one first gets every event already queued, so
        the goodbye's ``seq`` is the last event it received."""
        if self.ending is None:
            self.ending, self.goodbye_within = message, within
            if message["type"] == "dropped":
                self.queue.clear()
            self.wake.set()


class StreamHub:
    """The API's state and stream (API loop only). ``want_trades`` is called when a trade may have closed."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._now = clock or (lambda: datetime.now(UTC))
        self.ready = False
        self.seq = 0
        self.core_seq = 0
        self.positions: dict[Key, PositionView] = {}
        self.broker_only: tuple[BrokerOnlyPosition, ...] = ()
        self.accounts: tuple[AccountView, ...] = ()
        self.connection = ConnectionInfo()
        self.connection_at = time.monotonic()
        self.discrepancies: dict[tuple[Key, str], Discrepancy] = {}
        self.positions_status = ""
        self.storage_error: str | None = None
        self.pending_fills = 0
        self.clients: set[StreamClient] = set()
        self.dropped_clients = 0
        self.position_events = 0
        self.want_trades: Callable[[], None] = lambda: None
        self._sent_connection: tuple[object, ...] | None = None
        self._mark_sent: dict[Key, tuple[float, object]] = {}
        self._mark_pending: set[Key] = set()
        self._mark_timer: asyncio.TimerHandle | None = None
        self._time_text: str | None = None
        """The time stamp of the events of this loop iteration (built once, not per event)."""
        self._wake_scheduled = False

    # --- sending ---------------------------------------------------------------------------------------

    def emit(self, kind: str, payload: dict[str, Any]) -> None:
        """Number one event, encode it once, queue it for every client (dropping those that fell behind)."""
        self.seq += 1
        if self._time_text is None:
            self._time_text = schema.iso(self._now())
        data = encode({"seq": self.seq, "type": kind, "time": self._time_text, **payload})
        if kind.startswith("position_"):
            self.position_events += 1
        behind = [client for client in self.clients if not client.push(self.seq, data)]
        for client in behind:
            self.drop(client, f"fell behind: {MAX_QUEUED_EVENTS:,} events were waiting to be sent")
        if not self._wake_scheduled:
            self._wake_scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self._wake)
            except RuntimeError:  # no loop running (a direct call): wake now
                self._wake()

    def _wake(self) -> None:
        """After the events of one loop iteration: wake every writer once; the next events get a new time."""
        self._wake_scheduled = False
        self._time_text = None
        for client in self.clients:
            if client.queue:
                client.wake.set()

    def drop(self, client: StreamClient, reason: str) -> None:
        self.dropped_clients += 1
        log.warning("local API: stream client %s dropped (%s)", client.name, reason)
        client.end({"type": "dropped", "reason": reason, "seq": self.seq})

    def add_client(self, name: str) -> tuple[StreamClient, bytes]:
        """Register a client and return it with its snapshot (encoded): the events it is then sent are exactly
        those numbered after the snapshot's ``seq``."""
        client = StreamClient(name)
        client.sent_seq = self.seq
        self.clients.add(client)
        return client, encode(self.snapshot_message())

    def remove_client(self, client: StreamClient) -> None:
        self.clients.discard(client)

    def end_all(self, reason: str, within: float | None = None) -> None:
        """Tell every client why its stream ends (closing, a new token) and end it: the events already queued for
        it are sent first (within ``within`` seconds, see ``StreamClient.goodbye_within``), then ``closed``
        with the ``seq`` of the last of them."""
        for client in list(self.clients):
            client.end({"type": "closed", "reason": reason, "seq": self.seq}, within)

    # --- what HTTP and new clients read ------------------------------------------------------------------

    def position_list(self) -> list[dict[str, Any]]:
        now = self._now()
        return [schema.position(self.positions[k], now) for k in sorted(self.positions)]

    def snapshot_message(self) -> dict[str, Any]:
        return {
            "type": "snapshot",
            "seq": self.seq,
            "time": schema.iso(self._now()),
            "positions": self.position_list(),
            "broker_only": [self._broker_only(b) for b in self.broker_only],
            "connection": self.connection_json(),
            "discrepancies": [schema.discrepancy(d) for _, d in sorted(self.discrepancies.items())],
            "positions_status": self.positions_status,
            "storage": self.storage_json(),
        }

    def connection_json(self) -> dict[str, Any]:
        out = schema.connection(self.connection)
        age = self.connection.data_age_seconds
        if age is not None:  # as old as it was when reported, plus the time since
            out["last_message_age_seconds"] = round(age + time.monotonic() - self.connection_at, 3)
        return out

    def storage_json(self) -> dict[str, Any]:
        return {
            "database_ok": self.storage_error is None,
            "error": self.storage_error,
            "fills_held": self.pending_fills,
        }

    @staticmethod
    def _broker_only(b: BrokerOnlyPosition) -> dict[str, Any]:
        return {
            "mode": b.mode,
            "account": b.account,
            "symbol": b.symbol,
            "signed_quantity": schema.dec(b.quantity),
            "average_price": schema.dec(b.average_price),
        }

    def confirmation_counts(self) -> dict[str, int]:
        """Open positions by what Sierra Chart's report says of them: confirmed, unconfirmed (not yet
        compared, or differing) and unknown (its position report was refused or late)."""
        unknown_all = self.positions_status.startswith("unknown")
        counts = {"open": len(self.positions), "confirmed": 0, "unconfirmed": 0, "unknown": 0}
        for view in self.positions.values():
            if view.confirmed:
                counts["confirmed"] += 1
            elif unknown_all:
                counts["unknown"] += 1
            else:
                counts["unconfirmed"] += 1
        return counts

    # --- applying the core's updates -----------------------------------------------------------------------

    def apply(self, update: ev.Update) -> None:
        """One publication of the core (called on the API loop, in publication order)."""
        self.core_seq = update.seq
        if update.snapshot is not None:
            self._apply_snapshot(update.snapshot)
            self.want_trades()  # a full picture can stand for fills that closed trades
            return
        for event in update.events:
            self._apply_event(event)

    def _apply_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.PositionOpened | ev.PositionChanged):
            self._position(event.view, opened=isinstance(event, ev.PositionOpened))
        elif isinstance(event, ev.PositionClosed):
            self._closed((event.mode, event.account, event.symbol))
        elif isinstance(event, ev.MarksUpdated):
            for view in event.views:
                self._marked(view)
        elif isinstance(event, ev.ConnectionChanged):
            self._connection(event.connection)
        elif isinstance(event, ev.ReconciliationChanged):
            self._reconciliation(event.discrepancies, event.status, event.broker_only)
        elif isinstance(event, ev.StorageChanged):
            self._storage(event.error, event.pending_fills)
        elif isinstance(event, ev.BalanceUpdated):
            self.accounts = event.accounts
        # TradesClosed covers only the displayed scope: trades of every account come from the database
        # (``want_trades``); TodayChanged, notifications and orders are the window's own business.

    def _apply_snapshot(self, snap: Any) -> None:
        views = {_key(v): v for v in (*snap.positions, *snap.other_open)}
        self.accounts = snap.accounts
        if not self.ready:  # the first picture: nothing happened yet, it simply is
            self.ready = True
            self.positions = views
            for key, view in views.items():
                self._mark_sent[key] = (time.monotonic(), self._price_key(view))
            self.connection, self.connection_at = snap.connection, time.monotonic()
            self._sent_connection = self._connection_key(snap.connection)
            self.discrepancies = {(d.key, d.kind.value): d for d in snap.discrepancies}
            self.positions_status, self.broker_only = snap.positions_status, snap.broker_only
            self.storage_error, self.pending_fills = snap.storage_error, snap.pending_fills
            return
        for key in sorted(self.positions.keys() - views.keys()):
            self._closed(key)
        for key, view in sorted(views.items()):
            before = self.positions.get(key)
            if before is None or _structure(before) != _structure(view):
                self._position(view, opened=before is None or self._reopened(before, view))
            else:
                self._marked(view)
        self._connection(snap.connection)
        self._reconciliation(snap.discrepancies, snap.positions_status, snap.broker_only)
        self._storage(snap.storage_error, snap.pending_fills)

    @staticmethod
    def _reopened(before: PositionView, after: PositionView) -> bool:
        return (before.quantity > 0) != (after.quantity > 0) or before.entry_time != after.entry_time

    def _position(self, view: PositionView, opened: bool) -> None:
        key = _key(view)
        before = self.positions.get(key)
        self.positions[key] = view
        self._mark_sent[key] = (time.monotonic(), self._price_key(view))
        self._mark_pending.discard(key)
        if before is not None and self._reopened(before, view):
            opened = True
            self.want_trades()  # a flip closed a trade
        self.emit("position_opened" if opened else "position_changed", {"position": schema.position(view, self._now())})

    def _closed(self, key: Key) -> None:
        self.want_trades()  # also for a position opened and closed within one received chunk: a trade closed
        if self.positions.pop(key, None) is None:
            return
        self._mark_sent.pop(key, None)
        self._mark_pending.discard(key)
        self.emit("position_closed", {"mode": key[0], "account": key[1], "symbol": key[2]})

    # --- marks --------------------------------------------------------------------------------------------

    @staticmethod
    def _price_key(view: PositionView) -> object:
        return (view.last_price, view.last_price_stale)

    def _moved(self, key: Key, view: PositionView) -> bool:
        """The last price moved by at least a tick (by anything when the tick size is unknown, 0), or appeared,
        or became stale/fresh, since the last mark."""
        sent = self._mark_sent.get(key)
        if sent is None:
            return True
        old_price, old_stale = sent[1]  # type: ignore[misc]
        if old_stale != view.last_price_stale or (old_price is None) != (view.last_price is None):
            return True
        if view.last_price is None or old_price is None:
            return False
        moved = abs(view.last_price - old_price)
        return moved >= view.tick_size if view.tick_size > 0 else moved > 0  # tick 0: an unknown instrument

    def _marked(self, view: PositionView) -> None:
        key = _key(view)
        before = self.positions.get(key)
        if before is None:
            return  # closed meanwhile: a late mark of a position that is gone
        if _structure(before) != _structure(view):  # e.g. confirmed by Sierra Chart's report, a new bracket
            self._position(view, opened=False)
            return
        self.positions[key] = view
        if not self._moved(key, view):
            return
        sent = self._mark_sent.get(key)
        now = time.monotonic()
        if sent is None or now - sent[0] >= MARK_INTERVAL_S:
            self._send_mark(key, view, now)
        else:
            self._mark_pending.add(key)
            if self._mark_timer is None:
                delay = max(0.0, sent[0] + MARK_INTERVAL_S - now)
                self._mark_timer = asyncio.get_running_loop().call_later(delay, self._flush_marks)

    def _send_mark(self, key: Key, view: PositionView, now: float) -> None:
        self._mark_sent[key] = (now, self._price_key(view))
        self._mark_pending.discard(key)
        self.emit("mark_updated", {"mark": schema.mark(view, self._now())})

    def _flush_marks(self) -> None:
        """Send the latest mark of each position held back by the interval (or wait a little longer)."""
        self._mark_timer = None
        now = time.monotonic()
        wait = None
        for key in sorted(self._mark_pending):
            view = self.positions.get(key)
            sent = self._mark_sent.get(key)
            if view is None or not self._moved(key, view):
                self._mark_pending.discard(key)
            elif sent is None or now - sent[0] >= MARK_INTERVAL_S:
                self._send_mark(key, view, now)
            else:
                left = sent[0] + MARK_INTERVAL_S - now
                wait = left if wait is None else min(wait, left)
        if wait is not None:
            self._mark_timer = asyncio.get_running_loop().call_later(wait, self._flush_marks)

    # --- connection, reconciliation, storage --------------------------------------------------------------

    @staticmethod
    def _connection_key(info: ConnectionInfo) -> tuple[object, ...]:
        return (info.state, info.detail, info.server)

    def _connection(self, info: ConnectionInfo) -> None:
        """The age of the last message changes every second: it is read by ``/health``, not streamed."""
        self.connection, self.connection_at = info, time.monotonic()
        key = self._connection_key(info)
        if key != self._sent_connection:
            self._sent_connection = key
            self.emit("connection_changed", {"connection": schema.connection(info)})

    def _reconciliation(
        self, discrepancies: tuple[Discrepancy, ...], status: str, broker_only: tuple[BrokerOnlyPosition, ...]
    ) -> None:
        now = {(d.key, d.kind.value): d for d in discrepancies}
        for key in sorted(self.discrepancies.keys() - now.keys()):
            gone = self.discrepancies[key]
            self.emit("discrepancy_resolved", {"discrepancy": schema.discrepancy(gone), "positions_status": status})
        for key in sorted(now.keys() - self.discrepancies.keys()):
            self.emit("discrepancy_found", {"discrepancy": schema.discrepancy(now[key]), "positions_status": status})
        self.discrepancies, self.positions_status, self.broker_only = now, status, broker_only

    def _storage(self, error: str | None, pending: int) -> None:
        if (error, pending) != (self.storage_error, self.pending_fills):
            self.storage_error, self.pending_fills = error, pending
            self.emit("storage_changed", {"storage": self.storage_json()})

    # --- closed trades (from the database) ------------------------------------------------------------------

    def trades_closed(self, rows: list[dict[str, Any]]) -> None:
        """Trades stored since the last ones, as stored values (``data.trade_queries.trades_after_as_stored``)."""
        for row in rows:
            self.emit("trade_closed", {"trade": schema.stored_trade(row)})

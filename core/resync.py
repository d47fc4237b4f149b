"""Resync after every logon (ARCHITECTURE §6, dtc-protocol §6).

Sequence: TRADE_ACCOUNTS_REQUEST (400) → when the 401 batch is complete: ACCOUNT_BALANCE_REQUEST (601, all
accounts), OPEN_ORDERS_REQUEST (300, all orders), HISTORICAL_ORDER_FILLS_REQUEST (303) per account that has
stored fills (since the newest stored fill minus a margin), CURRENT_POSITIONS_REQUEST (305, all accounts).
RequestIDs are unique per connection. Batches complete when ``MessageNumber == TotalNumberMessages``
(``TotalNumMessages`` for 301). The connection shows "synced" when every tracked request has completed,
or "partially synced" when one is rejected or times out.

History is requested from the later of (newest stored fill − margin) and the moment this panel first saw
the account: fills from before first contact could begin in the middle of a position and would invent a
wrong one; positions opened before it are reported by Sierra Chart's 306 instead. ``StartDateTime`` is whole
seconds, rounded down, so a fill in the same second as the newest stored one is always asked for again.
The margin only covers stored times that are not the server's own (a 301 without ``LastFillDateTime`` is
stamped with this PC's clock on arrival) and clock differences; the fills it re-sends are already stored
and are skipped with one execution-id query per group of missed fills.

While history is outstanding (``history_pending``) the router holds live fills back and applies them after
the missed ones, so fills are always folded in the order they happened.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.snapshots import ConnectionState
from core.state import StateManager
from data.repository import PositionStore, StorageError
from dtc.messages import (
    AccountBalanceRequest,
    CurrentPositionsRequest,
    DTCMessage,
    HistoricalOrderFillsRequest,
    OpenOrdersRequest,
    TradeAccountsRequest,
)

log = logging.getLogger(__name__)

HISTORY_MARGIN = timedelta(minutes=10)
# for clock differences between this computer and Sierra Chart (and 301s without a fill time, stamped here);
# the fills it re-sends are recognised by one execution-id query per group of 2,000, not re-applied
"""How far before the newest stored fill of an account history is asked again after logon."""
REQUEST_TIMEOUT_SECONDS = 15.0


@dataclass
class _Pending:
    what: str
    sent_at: float


class ResyncController:
    """Drives the post-logon request sequence and tracks batch completion. Runs on the DTC thread."""

    def __init__(
        self,
        send: Callable[[DTCMessage], None],
        state: StateManager,
        store: PositionStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
        history_margin: timedelta = HISTORY_MARGIN,
    ) -> None:
        if history_margin < timedelta(0):
            raise ValueError(f"history_margin must not be negative, got {history_margin}")
        self._send = send
        self._state = state
        self._store = store
        self._clock = clock
        self._timeout = timeout_seconds
        self._margin = history_margin
        self._next_id = 1
        self._pending: dict[int, _Pending] = {}
        self._accounts_request: int | None = None
        self._positions_request: int | None = None
        self._history_requests: set[int] = set()
        self._history_asked: dict[int, tuple[str, str, datetime]] = {}
        """History request id → (account, mode, start asked for), until its answer is complete."""
        self._history_pending = False
        self.on_history_done: Callable[[], None] = lambda: None
        self._accounts_done = False
        self._accounts: list[tuple[str, bool]] = []
        self._failed: list[str] = []
        self._active = False
        self._first_seen: dict[str, tuple[str, datetime]] = {}
        self._synced_told = False
        self.on_synced: Callable[[dict[str, tuple[str, datetime]]], None] = lambda _accounts: None
        """Called once per logon when the resync is done (synced, or partially): account → (mode, first seen
        UTC) of the accounts whose first contact is recorded (Sierra Chart's trade list is asked for then)."""

    def _request(self, make: Callable[[int], DTCMessage], what: str, track: bool = True) -> int:
        request_id = self._next_id
        self._next_id += 1
        if track:
            self._pending[request_id] = _Pending(what, self._clock())
        self._send(make(request_id))
        return request_id

    def on_logon(self) -> None:
        """Start the sequence; called once per successful LOGON_RESPONSE."""
        self._next_id = 1
        self._pending.clear()
        self._failed.clear()
        self._accounts = []
        self._active = True
        self._history_requests = set()
        self._history_asked = {}
        self._history_pending = True
        self._accounts_done = False
        self._first_seen = {}
        self._synced_told = False
        self._state.set_connection(ConnectionState.SYNCING, "requesting trade accounts")
        self._accounts_request = self._request(lambda rid: TradeAccountsRequest(RequestID=rid), "trade accounts")

    def on_disconnect(self) -> None:
        self._active = False
        self._pending.clear()
        self._finish_history()

    @property
    def history_pending(self) -> bool:
        """True from logon until every HISTORICAL_ORDER_FILLS_REQUEST has been answered, rejected or timed out."""
        return self._history_pending

    def _finish_history(self) -> None:
        if self._history_pending:
            self._history_pending = False
            self.on_history_done()

    def _check_history(self) -> None:
        if self._history_pending and self._accounts_done and not (self._history_requests & set(self._pending)):
            self._finish_history()

    def status(self) -> tuple[ConnectionState, str]:
        """Where the resync stands: SYNCING while requests are outstanding, else SYNCED (with failures)."""
        if not self._active or self._pending or self._accounts_request is None:
            return ConnectionState.SYNCING, "logged on, synchronising"
        if self._failed:
            return ConnectionState.SYNCED, "partially synced: " + "; ".join(self._failed)
        return ConnectionState.SYNCED, ""

    def on_trade_account(self, request_id: int, account: str, trading_disabled: bool, done: bool) -> None:
        """One TRADE_ACCOUNT_RESPONSE (401)."""
        if request_id != self._accounts_request:
            return
        if account:
            self._accounts.append((account, trading_disabled))
        if done:
            self._complete(request_id)
            self._after_accounts()

    def _after_accounts(self) -> None:
        self._state.set_accounts(self._accounts)
        self._request(lambda rid: AccountBalanceRequest(RequestID=rid), "balances", track=False)
        self._request(lambda rid: OpenOrdersRequest(RequestID=rid, RequestAllOrders=1), "open orders")
        modes = [(account, self._state.mode_of(account)) for account, _ in self._accounts]
        try:
            first_seen = self._store.first_seen(modes, datetime.now(UTC))
        except StorageError as exc:
            log.error("cannot record trade accounts, history not requested this time: %s", exc)
            first_seen = {}
        self._first_seen = {account: (mode, first_seen[account]) for account, mode in modes if account in first_seen}
        for account, mode in modes:
            if account not in first_seen:
                continue
            try:
                # from where the last complete (and stored) history answer ended; before the first one, from
                # the newest stored fill (asking from first contact could be tens of MB: a server stops
                # sending to a client that falls that far behind)
                base = self._store.history_until(account) or self._store.last_fill_time(mode, account)
            except StorageError as exc:
                log.error("cannot read where the history of %s is complete: %s", account, exc)
                continue
            since = first_seen[account] if base is None else max(first_seen[account], base - self._margin)
            start = math.floor(since.timestamp())  # whole seconds, down: the newest stored fill's second is asked
            log.info("requesting fills of %s since %s", account, since.isoformat(timespec="seconds"))
            request_id = self._request(
                lambda rid, a=account, s=start: HistoricalOrderFillsRequest(
                    RequestID=rid, TradeAccount=a, StartDateTime=s
                ),
                f"fills of {account}",
            )
            self._history_requests.add(request_id)
            self._history_asked[request_id] = (account, mode, since)
        self._accounts_done = True
        self._check_history()
        self._state.begin_position_report()
        self._positions_request = self._request(lambda rid: CurrentPositionsRequest(RequestID=rid), "positions")
        self._state.set_connection(ConnectionState.SYNCING, "requesting orders, fills and positions")

    def on_batch_part(self, request_id: int, message_number: int, total: int) -> None:
        """A message of a solicited batch; completes the request at its last message."""
        if request_id in self._pending and message_number >= total:
            self._complete(request_id)

    def on_reject(self, request_id: int, text: str) -> None:
        """A 302/307/308/602 reject: the request's answer is unknown (never taken as "nothing")."""
        pending = self._pending.pop(request_id, None)
        if pending is None:  # not a request of this connection (or already answered): nothing is unknown
            log.warning("Sierra Chart rejected request %d, which is not outstanding: %s", request_id, text)
            return
        what = pending.what
        log.warning("Sierra Chart rejected %s: %s", what, text)
        if request_id == self._positions_request:
            self._state.position_report_failed(f"request rejected: {text}")
        self._failed.append(f"{what} rejected: {text}")
        self._maybe_done()

    def _complete(self, request_id: int) -> None:
        if self._pending.pop(request_id, None) is not None and request_id == self._positions_request:
            self._state.end_position_report()
        asked = self._history_asked.pop(request_id, None)
        if asked is not None:
            self._history_stored(*asked)
        self._maybe_done()

    def _history_stored(self, account: str, mode: str, since: datetime) -> None:
        """A 303 was answered completely and the router has stored its fills: every fill of ``account`` up to
        the newest one stored now (or the start asked for, if later) is stored — in Sierra Chart's time, so
        this computer's clock does not matter
        — unless fills are held after a storage error. Live fills stored before the answer came say nothing
        about older fills; that is why the newest stored fill alone is not where the next request starts."""
        if self._state.ledger.held:
            return
        try:
            newest = self._store.last_fill_time(mode, account)
            self._store.set_history_until(account, since if newest is None else max(newest, since))
        except StorageError as exc:
            log.warning("cannot record the history of %s as complete (asked again next time): %s", account, exc)

    def _maybe_done(self) -> None:
        self._check_history()
        state, detail = self.status()
        if state == ConnectionState.SYNCED:
            self._state.set_connection(state, detail)
            if self._accounts_done and not self._synced_told:  # not the instant between 401 and the requests
                self._synced_told = True
                self.on_synced(dict(self._first_seen))

    def tick(self) -> None:
        """Expire requests that got no complete answer in time (called by the DTC thread's loop)."""
        now = self._clock()
        for request_id, pending in list(self._pending.items()):
            if now - pending.sent_at > self._timeout:
                self._pending.pop(request_id)
                self._failed.append(f"{pending.what} timed out")
                if request_id == self._positions_request:
                    self._state.position_report_failed("no complete answer in time")
                if request_id == self._accounts_request:
                    self._accounts_done = True
                log.warning("no complete answer to %s within %.0f s", pending.what, self._timeout)
                self._maybe_done()

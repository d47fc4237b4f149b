"""Sierra Chart's own trade list after every logon (issue 15): backfill before first contact, cross-check after.

When the logon's resync is done (``ResyncController.on_synced``) one HISTORICAL_TRADES_REQUEST (10100,
``CreateFlatToFlatTrades`` 1; fields: dtc-protocol §15) is sent per trade account, from the earliest start of
the statistics periods the panel offers (``start``: the year to date, or in January–March the "3 months" one) or
``days`` back when the trader set a number of days. Its HISTORICAL_TRADES_RESPONSE (10102) messages are
collected until ``IsFinalMessage``; then, for that account (``core.sierra_check.compare``):

- trades that closed before the panel first saw the account are stored as **imported** trades (a marker in the
  trades table, counted in the statistics' note) — never fills or positions, and never twice: only trades that
  closed before the start of every earlier complete answer are imported (``SierraTradeStore.checked_span``;
  an earlier answer already brought every trade that closed after its start, however a later answer cuts a trade
  open at its own ``StartDateTime``), and their identity in Sierra Chart's list is unique in the database;
- the panel's own trades since first contact are marked "agrees" or "differs"; each difference, and each trade
  only one side has, is stored once (``SierraDifference``) with an audit event (``PositionEvent`` kind
  ``sierra_differs``, ``sierra_only``, ``panel_only`` or ``sierra_import``); one that a later answer shows to
  agree is removed from the list with a ``sierra_resolved`` event. The panel's figures are never changed.

A HISTORICAL_TRADES_REJECT (10101), a message of an unknown Sierra Chart custom type (10100–10199) while an
answer is awaited, or no complete answer within ``timeout_seconds`` makes the feature "not available from this
Sierra Chart" for that account until the next logon, which asks again. Nothing else waits for it or depends on
it. The view's status has a line per account, and is "not available" while any account's is.

Runs on the DTC thread. Listeners (``subscribe``) get an immutable ``SierraTradesView`` after every change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.instruments import InstrumentBook
from core.sierra_check import InvalidTrade, SierraTrade, compare
from core.sierra_rows import MISSING_LISTED, DifferenceView, StoredDifference, comparison_rows, difference_view
from core.state import StateManager
from core.tradingday import Period, period_start
from data.repository import StorageError
from data.sierra_store import SierraTradeStore
from dtc.messages import DTCMessage, HistoricalTradesReject, HistoricalTradesRequest, HistoricalTradesResponse

__all__ = ["NOT_AVAILABLE", "OVERLAP", "DifferenceView", "SierraTradeList", "SierraTradesView"]

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
OVERLAP = timedelta(days=7)
"""A logon after a complete comparison asks only from this long before the end of the span already compared
(``SierraTradeStore.checked_span``), not from the start of the year again: a trade held across that end is in
the answer whether Sierra Chart starts its list by entry or by exit time, and the cost of a logon does not grow
with the year's trades."""
NOT_AVAILABLE = "not available from this Sierra Chart"
PERIODS = (Period.TODAY, Period.WEEK, Period.MONTH, Period.QUARTER, Period.YEAR)
"""The statistics periods with a start (``ALL`` has none): the trade list is asked from the earliest."""


@dataclass(frozen=True)
class SierraTradesView:
    """Where the comparison with Sierra Chart's trade list stands. ``available``: None not asked yet (this
    logon) or an answer still awaited, True every account answered, False "not available from this Sierra
    Chart" for at least one account (``status`` says which and why: one line per account when there are
    several)."""

    available: bool | None = None
    status: str = "Sierra Chart's trade list is asked for after each logon"
    differences: tuple[DifferenceView, ...] = ()
    checked: int = 0
    agreed: int = 0
    imported: int = 0


@dataclass
class _Asked:
    account: str
    mode: str
    first_seen: datetime
    start: datetime
    """``StartDateTime`` asked for (UTC)."""
    checked_from: datetime
    """The start of the span compared once this answer is stored: ``start``, or earlier if trades from before
    ``start`` were compared at an earlier logon."""
    covered_from: datetime | None
    """Start of the span earlier complete answers covered (None: none yet): only trades that closed before it
    can be new imports."""
    sent_at: float
    asked_at: datetime
    trades: list[SierraTrade] = field(default_factory=list)
    invalid: int = 0


@dataclass
class _Counts:
    checked: int = 0
    agreed: int = 0
    imported: int = 0


class SierraTradeList:
    """Asks Sierra Chart for its trade list after each logon and stores what it says (see the module)."""

    def __init__(
        self,
        send: Callable[[DTCMessage], None],
        state: StateManager,
        store: SierraTradeStore,
        instruments: InstrumentBook,
        *,
        days: int = 0,
        session: tuple[str, str] = ("18:00", "America/New_York"),
        timeout_seconds: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._send, self._state, self._store, self._instruments = send, state, store, instruments
        self._days, self._session = days, session
        self.timeout_seconds, self._clock, self._now = timeout_seconds, clock, now
        """Seconds to wait for a complete answer before the feature is "not available" (until the next logon)."""
        self._next_id = 1_000_000  # apart from the resync's RequestIDs of the same connection
        self._asked: dict[int, _Asked] = {}
        self._listeners: list[Callable[[SierraTradesView], None]] = []
        self._view = SierraTradesView()
        self._status: dict[str, tuple[bool | None, str]] = {}
        """Per account asked at this logon: (available, status line) — see ``SierraTradesView``."""
        self._counts: dict[str, _Counts] = {}
        self._lock = threading.RLock()
        self._worker: ThreadPoolExecutor | None = None
        self._last: Future[None] | None = None

    # --- publication ---------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[SierraTradesView], None]) -> None:
        """``listener(view)`` after every change (on the calling thread: the DTC thread; it must not block)."""
        self._listeners.append(listener)

    @property
    def view(self) -> SierraTradesView:
        return self._view

    def publish(self) -> SierraTradesView:
        """Re-read the stored differences, build the view from every account's state and tell the listeners
        (any thread: the DTC thread, or the worker that stores an answer)."""
        try:
            rows = self._store.differences()
        except StorageError as exc:
            log.error("cannot read the differences with Sierra Chart: %s", exc)
            rows = []
        with self._lock:
            states = sorted(self._status.items())
            verdicts = [available for _, (available, _) in states]
            if False in verdicts:  # the worst of the accounts: a reject for one is never hidden by another's answer
                available: bool | None = False
            elif not verdicts or None in verdicts:
                available = None
            else:
                available = True
            if not states:
                status = self._view.status
            elif len(states) == 1:
                status = states[0][1][1]
            else:
                status = "\n".join(f"{account}: {line}" for account, (_, line) in states)
            counts = list(self._counts.values())
            view = SierraTradesView(
                available=available,
                status=status,
                differences=tuple(difference_view(r) for r in rows),
                checked=sum(c.checked for c in counts),
                agreed=sum(c.agreed for c in counts),
                imported=sum(c.imported for c in counts),
            )
            self._view = view
            for listener in self._listeners:
                listener(view)
        return view

    def _set(self, account: str, status: str, available: bool | str | None = "keep") -> None:
        """Set ``account``'s status line (and ``available`` unless "keep"), then publish."""
        with self._lock:
            before = self._status.get(account, (None, ""))[0]
            self._status[account] = (before if available == "keep" else available, status)  # type: ignore[assignment]
        self.publish()

    def close(self) -> None:
        """Wait for an answer being stored (at most one), then stop the worker thread."""
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=True)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Whether every answer received so far has been stored within ``timeout`` seconds (tests, tools)."""
        future = self._last
        if future is None:
            return True
        try:
            future.result(timeout)
        except TimeoutError:
            return False
        return True

    # --- requests ------------------------------------------------------------------------------------

    def start(self) -> datetime:
        """Where the requests start (UTC): ``days`` back when set, else the earliest start of the statistics
        periods the panel offers (``PERIODS``, in the trader's session: the year to date, but from January to
        March the "3 months" period, which starts in the previous year)."""
        now = self._now()
        if self._days > 0:
            return now - timedelta(days=self._days)
        starts = [s for s in (period_start(p, now, *self._session) for p in PERIODS) if s is not None]
        return min(starts) if starts else now - timedelta(days=366)

    def on_logon(self) -> None:
        """A new connection: answers of the old one are forgotten; the next resync asks again."""
        self._asked.clear()
        with self._lock:
            self._counts.clear()

    def on_disconnect(self) -> None:
        if self._asked:
            accounts = {asked.account for asked in self._asked.values()}
            self._asked.clear()
            with self._lock:
                for account in accounts:
                    self._status[account] = (
                        None,
                        "The connection ended before Sierra Chart's trade list arrived; asked again at the next logon",
                    )
            self.publish()

    def request(self, accounts: dict[str, tuple[str, datetime]]) -> None:
        """Send one 10100 per account (account → (mode, first seen UTC)); called when the resync is done. Each
        starts at ``start()``, or ``OVERLAP`` before the end of what an earlier logon compared when that covers
        it (``_span``)."""
        wanted = self.start()
        with self._lock:
            self._status.clear()
            self._counts.clear()
        for account, (mode, first_seen) in sorted(accounts.items()):
            start, checked_from, covered_from = self._span(account, wanted)
            request_id = self._next_id
            self._next_id += 1
            self._asked[request_id] = _Asked(
                account, mode, first_seen, start, checked_from, covered_from, self._clock(), self._now()
            )
            with self._lock:
                self._status[account] = (None, "Asking Sierra Chart for its trade list")
            log.info("asking Sierra Chart for the trades of %s since %s", account, start.isoformat(timespec="seconds"))
            self._send(
                HistoricalTradesRequest(
                    RequestID=request_id,
                    TradeAccount=account,
                    StartDateTime=int(start.timestamp()),
                    CreateFlatToFlatTrades=1,
                )
            )
        if self._asked:
            self.publish()

    def _span(self, account: str, wanted: datetime) -> tuple[datetime, datetime, datetime | None]:
        """(StartDateTime to ask, start of the span compared once answered, start of the span earlier complete
        answers covered or None) for ``account``, the trader's period starting at ``wanted``: only what is newer
        than an earlier complete comparison (from ``OVERLAP`` before its end; that span's start is kept, so what
        was compared never shrinks), or everything from ``wanted`` when that starts before it."""
        try:
            span = self._store.checked_span(account)
        except StorageError as exc:
            log.warning("asking for all of Sierra Chart's trades of %s: %s", account, exc)
            span = None
        if span is None:
            return wanted, wanted, None
        if span[0] > wanted:
            return wanted, wanted, span[0]
        start = max(wanted, span[1] - OVERLAP) if span[1] > wanted else span[1] - OVERLAP  # no gap after span[1]
        return max(start, span[0]), span[0], span[0]

    # --- answers -------------------------------------------------------------------------------------

    def on_response(self, message: HistoricalTradesResponse) -> None:
        """One 10102: collected; the final one completes the account's answer."""
        asked = self._asked.get(message.RequestID)
        if asked is None:
            log.warning("HISTORICAL_TRADES_RESPONSE for request %d, which is not outstanding", message.RequestID)
            return
        if message.Symbol or message.EntryDateTime or message.ExitDateTime:  # a lone final one carries no trade
            try:
                asked.trades.append(SierraTrade.from_message(message))
            except InvalidTrade as exc:
                asked.invalid += 1
                log.warning("skipped a trade of Sierra Chart's list: %s", exc)
        if message.IsFinalMessage:
            del self._asked[message.RequestID]
            # comparing and storing take a while for a long history: never on the DTC thread, so fills and the
            # trader's requests are not held up (ARCHITECTURE §2); one answer at a time, in arrival order
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="sierra-trades")
            self._last = self._worker.submit(self._complete, asked)
            self._last.add_done_callback(_log_failure)

    def on_reject(self, message: HistoricalTradesReject) -> None:
        """10101: not available from this Sierra Chart for that account (until the next logon)."""
        asked = self._asked.pop(message.RequestID, None)
        if asked is None:
            return
        reason = f"Sierra Chart rejected the request: {message.RejectText or 'no reason given'}"
        self._not_available([asked.account], reason)

    def on_unknown_type(self, type_number: int) -> None:
        """A message of a type this panel does not model: a Sierra Chart custom type while an answer is awaited
        means this Sierra Chart answers the request in a way this panel does not know."""
        if self._asked and 10100 <= type_number < 10200:
            accounts = sorted({asked.account for asked in self._asked.values()})
            self._asked.clear()
            reason = f"Sierra Chart answered with message type {type_number}, unknown to DTC Panel"
            self._not_available(accounts, reason)

    def tick(self) -> None:
        """Expire requests without a complete answer in time (the DTC thread's loop)."""
        now = self._clock()
        late = [rid for rid, asked in self._asked.items() if now - asked.sent_at > self.timeout_seconds]
        if late:
            accounts = sorted({self._asked.pop(rid).account for rid in late})
            self._not_available(accounts, f"no complete answer within {self.timeout_seconds:g} s")

    def _not_available(self, accounts: list[str], reason: str) -> None:
        text = f"Sierra Chart's trade list: {NOT_AVAILABLE} ({reason}); asked again at the next logon"
        log.warning("%s (%s)", text, ", ".join(accounts))
        self._state.notify("warning", text if len(accounts) != 1 else f"{accounts[0]}: {text}")
        status = f"Sierra Chart's trade list: {NOT_AVAILABLE} ({reason}) — asked again at the next logon"
        with self._lock:
            for account in accounts:
                self._status[account] = (False, status)
        self.publish()

    def _complete(self, asked: _Asked) -> None:
        account = asked.account
        try:
            panel = self._store.panel_trades(asked.mode, account, asked.start, asked.asked_at)
            stored = [
                StoredDifference(r.key, r.kind, r.symbol, r.field, r.trade_id)
                for r in self._store.stored_differences(asked.mode, account)
            ]
        except StorageError as exc:
            log.error("cannot compare with Sierra Chart's trades of %s: %s", account, exc)
            self._set(account, f"Cannot compare with Sierra Chart's trade list: {exc}")
            return
        comparison = compare(asked.trades, panel, asked.first_seen, asked.asked_at, asked.start, asked.covered_from)
        rows = comparison_rows(asked.mode, account, comparison, self._instruments, self._now(), stored)
        try:
            recorded = self._store.record(
                rows.imports,
                rows.checks,
                rows.differences,
                rows.events,
                checked=(account, asked.checked_from, asked.asked_at),
                resolved=(asked.mode, account, rows.resolved),
            )
        except StorageError as exc:
            log.error("cannot store what Sierra Chart's trade list says of %s: %s", account, exc)
            self._state.notify("error", f"Cannot store Sierra Chart's trades of {account}: {exc}")
            self._set(account, f"Cannot store Sierra Chart's trade list: {exc}")
            return
        agreed = sum(1 for m in comparison.matches if not m.differences)
        with self._lock:
            counts = self._counts.setdefault(account, _Counts())
            counts.checked += len(comparison.matches)
            counts.agreed += agreed
            counts.imported += recorded.imported
        if recorded.imported or recorded.marked:
            self._state.reload_statistics()  # imported rows and new check marks are in the trades now
        if recorded.imported:
            self._state.notify(
                "reconciled",
                f"{recorded.imported} trade(s) of {account} that closed before DTC Panel first saw the "
                "account were imported from Sierra Chart's trade list",
            )
        if recorded.differences:
            self._state.notify(
                "warning",
                f"{recorded.differences} difference(s) with Sierra Chart's trade list for {account}: "
                "see Differences with Sierra Chart",
            )
        if recorded.resolved:
            self._state.notify(
                "reconciled",
                f"{recorded.resolved} earlier difference(s) with Sierra Chart's trade list for {account} now agree",
            )
        status = (
            f"Compared with Sierra Chart's trade list: {counts.checked} trade(s) checked, {counts.agreed} agree, "
            f"{counts.checked - counts.agreed} differ; {counts.imported} imported at this logon"
        )
        if recorded.resolved:
            status += f"; {recorded.resolved} earlier difference(s) now agree"
        if asked.start > asked.checked_from:
            status += f"; trades that closed before {asked.start:%Y-%m-%d} were compared at an earlier logon"
        if asked.invalid:
            status += f"; {asked.invalid} unreadable trade(s) skipped"
        unlisted = sum(max(0, len(side) - MISSING_LISTED) for side in (comparison.sierra_only, comparison.panel_only))
        if unlisted > 0:
            status += f"; {unlisted:,} more trade(s) only one side has, not listed"
        self._set(account, status, available=True)


def _log_failure(future: Future[None]) -> None:
    """A comparison that failed in a way nobody foresaw: logged with its traceback (the next logon retries)."""
    exc = future.exception() if not future.cancelled() else None
    if exc is not None:
        log.error("comparing with Sierra Chart's trade list failed", exc_info=exc)

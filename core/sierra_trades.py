"""Sierra Chart's own trade list after every logon (issue 15): backfill before first contact, cross-check after.

When the logon's resync is done (``ResyncController.on_synced``) one HISTORICAL_TRADES_REQUEST (10100,
``CreateFlatToFlatTrades`` 1) is sent per trade account, from the start of the trading year (the longest
statistics period with a start) or ``days`` back when the trader set a number of days. Its
HISTORICAL_TRADES_RESPONSE (10102) messages are collected until ``IsFinalMessage``; then, for that account
(``core.sierra_check.compare``):

- trades that closed before the panel first saw the account are stored as **imported** trades (a marker in the
  trades table, counted in the statistics' note) — never fills or positions, and never twice (their identity in
  Sierra Chart's list is unique in the database);
- the panel's own trades since first contact are marked "agrees" or "differs"; each difference, and each trade
  only one side has, is stored once (``SierraDifference``) with an audit event (``PositionEvent`` kind
  ``sierra_differs``, ``sierra_only``, ``panel_only`` or ``sierra_import``). The panel's figures are never
  changed.

A HISTORICAL_TRADES_REJECT (10101), a message of an unknown Sierra Chart custom type (10100–10199) while an
answer is awaited, or no complete answer within ``timeout_seconds`` makes the feature "not available from this
Sierra Chart" until the next logon, which asks again. Nothing else waits for it or depends on it.

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
from decimal import Decimal
from typing import Any

from core.instruments import InstrumentBook
from core.sierra_check import Comparison, InvalidTrade, SierraTrade, compare
from core.state import StateManager
from core.trade_metrics import efficiency
from core.tradingday import Period, period_start
from data.models import SierraDifference
from data.repository import StorageError
from data.sierra_store import SierraTradeStore
from dtc.messages import DTCMessage, HistoricalTradesReject, HistoricalTradesRequest, HistoricalTradesResponse

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
OVERLAP = timedelta(days=7)
"""A logon after a complete comparison asks only from this long before the end of the span already compared
(``SierraTradeStore.checked_span``), not from the start of the year again: a trade held across that end is in
the answer whether Sierra Chart starts its list by entry or by exit time, and the cost of a logon does not grow
with the year's trades."""
NOT_AVAILABLE = "not available from this Sierra Chart"
MISSING_LISTED = 200
"""At most this many trades only one side has are listed per answer and side (the newest): a Sierra Chart whose
trade list was cleared would otherwise list a whole year of the panel's trades; the status counts the rest."""
FIELD_LABELS = {
    "EntryPrice": "Entry price",
    "ExitPrice": "Exit price",
    "EntryQuantity": "Quantity",
    "ClosedProfitLoss": "Closed P&L",
    "Commission": "Commission",
    "MaximumOpenPositionLoss": "MAE",
    "MaximumOpenPositionProfit": "MFE",
}
KIND_LABELS = {
    "differs": "differs",
    "sierra_only": "only in Sierra Chart",
    "panel_only": "only in DTC Panel",
}


@dataclass(frozen=True)
class DifferenceView:
    """One listed difference: ``what`` (a field's label, or which side lacks the trade), both values as text
    (prices points, quantity contracts, money account currency; "—" where a side has nothing). Times UTC."""

    mode: str
    account: str
    symbol: str
    kind: str
    what: str
    panel_value: str
    sierra_value: str
    entry_time: datetime
    exit_time: datetime
    found_at: datetime


@dataclass(frozen=True)
class SierraTradesView:
    """Where the comparison with Sierra Chart's trade list stands. ``available``: None not asked yet (this
    logon), True answered, False "not available from this Sierra Chart" (``status`` says why)."""

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
    sent_at: float
    asked_at: datetime
    trades: list[SierraTrade] = field(default_factory=list)
    invalid: int = 0


MONEY_FIELDS = ("ClosedProfitLoss", "Commission", "MaximumOpenPositionLoss", "MaximumOpenPositionProfit")


def _text(value: Decimal | None, money: bool = False) -> str:
    """Exact text of a value: money with two decimals (more if it has them), else without trailing zeros."""
    if value is None:
        return "—"
    if money:
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"
    return f"{value.normalize():f}"


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
        self._checked = self._agreed = self._imported = 0
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

    def publish(self, **changes: Any) -> SierraTradesView:
        """Re-read the stored differences, update the view with ``changes`` and tell the listeners (any thread:
        the DTC thread, or the worker that stores an answer)."""
        try:
            rows = self._store.differences()
        except StorageError as exc:
            log.error("cannot read the differences with Sierra Chart: %s", exc)
            rows = []
        with self._lock:
            view = SierraTradesView(
                available=changes.get("available", self._view.available),
                status=changes.get("status", self._view.status),
                differences=tuple(_difference_view(r) for r in rows),
                checked=self._checked,
                agreed=self._agreed,
                imported=self._imported,
            )
            self._view = view
            for listener in self._listeners:
                listener(view)
        return view

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
        """Where the requests start (UTC): ``days`` back, else the start of the trading year."""
        now = self._now()
        if self._days > 0:
            return now - timedelta(days=self._days)
        year = period_start(Period.YEAR, now, *self._session)
        return year if year is not None else now - timedelta(days=366)

    def on_logon(self) -> None:
        """A new connection: answers of the old one are forgotten; the next resync asks again."""
        self._asked.clear()
        self._checked = self._agreed = self._imported = 0

    def on_disconnect(self) -> None:
        if self._asked:
            self._asked.clear()
            self.publish(
                status="The connection ended before Sierra Chart's trade list arrived; asked again at the next logon"
            )

    def request(self, accounts: dict[str, tuple[str, datetime]]) -> None:
        """Send one 10100 per account (account → (mode, first seen UTC)); called when the resync is done. Each
        starts at ``start()``, or ``OVERLAP`` before the end of what an earlier logon compared when that covers
        it (``_span``)."""
        wanted = self.start()
        for account, (mode, first_seen) in sorted(accounts.items()):
            start, checked_from = self._span(account, wanted)
            request_id = self._next_id
            self._next_id += 1
            self._asked[request_id] = _Asked(
                account, mode, first_seen, start, checked_from, self._clock(), self._now()
            )
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
            count = len(self._asked)
            self.publish(available=None, status=f"Asking Sierra Chart for its trade list of {count} account(s)")

    def _span(self, account: str, wanted: datetime) -> tuple[datetime, datetime]:
        """(StartDateTime to ask, start of the span compared once answered) for ``account``, the trader's
        period starting at ``wanted``: only what is newer than an earlier complete comparison that covers
        ``wanted``, else everything from ``wanted``."""
        try:
            span = self._store.checked_span(account)
        except StorageError as exc:
            log.warning("asking for all of Sierra Chart's trades of %s: %s", account, exc)
            span = None
        if span is None or span[0] > wanted or span[1] <= wanted:
            return wanted, wanted
        return max(wanted, span[1] - OVERLAP), span[0]

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
        """10101: not available from this Sierra Chart (until the next logon)."""
        asked = self._asked.pop(message.RequestID, None)
        if asked is None:
            return
        self._not_available(f"Sierra Chart rejected the request: {message.RejectText or 'no reason given'}")

    def on_unknown_type(self, type_number: int) -> None:
        """A message of a type this panel does not model: a Sierra Chart custom type while an answer is awaited
        means this Sierra Chart answers the request in a way this panel does not know."""
        if self._asked and 10100 <= type_number < 10200:
            self._asked.clear()
            self._not_available(f"Sierra Chart answered with message type {type_number}, unknown to DTC Panel")

    def tick(self) -> None:
        """Expire requests without a complete answer in time (the DTC thread's loop)."""
        now = self._clock()
        late = [rid for rid, asked in self._asked.items() if now - asked.sent_at > self.timeout_seconds]
        if late:
            for rid in late:
                del self._asked[rid]
            self._not_available(f"no complete answer within {self.timeout_seconds:g} s")

    def _not_available(self, reason: str) -> None:
        text = f"Sierra Chart's trade list: {NOT_AVAILABLE} ({reason}); asked again at the next logon"
        log.warning("%s", text)
        self._state.notify("warning", text)
        status = f"Sierra Chart's trade list: {NOT_AVAILABLE} ({reason}) — asked again at the next logon"
        self.publish(available=False, status=status)

    def _complete(self, asked: _Asked) -> None:
        try:
            panel = self._store.panel_trades(asked.mode, asked.account, asked.start, asked.asked_at)
        except StorageError as exc:
            log.error("cannot compare with Sierra Chart's trades of %s: %s", asked.account, exc)
            self.publish(status=f"Cannot compare with Sierra Chart's trade list: {exc}")
            return
        comparison = compare(asked.trades, panel, asked.first_seen, asked.asked_at, asked.start)
        try:
            recorded = self._store.record(
                *self._rows(asked, comparison), checked=(asked.account, asked.checked_from, asked.asked_at)
            )
        except StorageError as exc:
            log.error("cannot store what Sierra Chart's trade list says of %s: %s", asked.account, exc)
            self._state.notify("error", f"Cannot store Sierra Chart's trades of {asked.account}: {exc}")
            self.publish(status=f"Cannot store Sierra Chart's trade list: {exc}")
            return
        agreed = sum(1 for m in comparison.matches if not m.differences)
        with self._lock:
            self._checked += len(comparison.matches)
            self._agreed += agreed
            self._imported += recorded.imported
        if recorded.imported or recorded.marked:
            self._state.reload_statistics()  # imported rows and new check marks are in the trades now
        if recorded.imported:
            self._state.notify(
                "reconciled",
                f"{recorded.imported} trade(s) of {asked.account} that closed before DTC Panel first saw the "
                "account were imported from Sierra Chart's trade list",
            )
        if recorded.differences:
            self._state.notify(
                "warning",
                f"{recorded.differences} difference(s) with Sierra Chart's trade list for {asked.account}: "
                "see Differences with Sierra Chart",
            )
        outstanding = len(self._asked)
        status = (
            f"Compared with Sierra Chart's trade list: {self._checked} trade(s) checked, {self._agreed} agree, "
            f"{self._checked - self._agreed} differ; {self._imported} imported at this logon"
        )
        if asked.start > asked.checked_from:
            status += f"; trades that closed before {asked.start:%Y-%m-%d} were compared at an earlier logon"
        if asked.invalid:
            status += f"; {asked.invalid} unreadable trade(s) skipped"
        unlisted = sum(max(0, len(side) - MISSING_LISTED) for side in (comparison.sierra_only, comparison.panel_only))
        if unlisted > 0:
            status += f"; {unlisted:,} more trade(s) only one side has, not listed"
        self.publish(available=True, status=status if not outstanding else status + " (more accounts pending)")

    def _rows(
        self, asked: _Asked, c: Comparison
    ) -> tuple[list[dict[str, Any]], dict[int, str], list[dict[str, Any]], list[dict[str, Any]]]:
        now = self._now()
        mode, account = asked.mode, asked.account
        imports = [self._import_row(mode, s, now) for s in c.imports]
        events = [
            _event(mode, account, s.symbol, "sierra_import", s.close_execution_id, s.key, now, s.closed_pnl)
            for s in c.imports
        ]
        checks = {m.panel.id: ("differs" if m.differences else "agrees") for m in c.matches}
        differences: list[dict[str, Any]] = []

        def add(kind: str, symbol: str, what: str, values: tuple[str, str], times: tuple[datetime, datetime],
                trade_id: int | None, key: str, source: str) -> None:  # fmt: skip
            differences.append(_difference(mode, account, symbol, kind, what, values, times, trade_id, key, now))
            events.append(
                _event(mode, account, symbol, f"sierra_{kind}" if kind == "differs" else kind, source, key, now)
            )

        for m in c.matches:
            p = m.panel
            for d in m.differences:
                money = d.field in MONEY_FIELDS
                values = (_text(d.panel, money), _text(d.sierra, money))
                add(
                    "differs",
                    p.symbol,
                    d.field,
                    values,
                    (p.entry_time, p.exit_time),
                    p.id,
                    f"d:{p.id}:{d.field}",
                    d.field,
                )
        for s in c.sierra_only[-MISSING_LISTED:]:
            text = _trade_text(s.side, s.entry_quantity, s.entry_price, s.exit_price, s.closed_pnl)
            add(
                "sierra_only",
                s.symbol,
                "",
                ("—", text),
                (s.entry_time, s.exit_time),
                None,
                f"s:{s.key}",
                s.close_execution_id,
            )
        for p in c.panel_only[-MISSING_LISTED:]:
            text = _trade_text(p.side, p.qty, p.entry_price, p.exit_price, p.gross_pnl)
            add(
                "panel_only", p.symbol, "", (text, "—"), (p.entry_time, p.exit_time), p.id, f"p:{p.id}", f"trade {p.id}"
            )
        return imports, checks, differences, events

    def _import_row(self, mode: str, s: SierraTrade, now: datetime) -> dict[str, Any]:
        """A ``TradeRecord`` row of an imported trade: Sierra Chart's figures as they are; net = closed P&L −
        commission; point value as the panel knows it (for MAE/MFE in points nothing is known: left empty)."""
        gross = s.closed_pnl if s.closed_pnl is not None else Decimal(0)
        commission = s.commission if s.commission is not None else Decimal(0)
        instrument = self._instruments.lookup(s.symbol)
        eff = efficiency(s.max_open_loss, s.max_open_profit, gross)
        return {
            "mode": mode,
            "account": s.account,
            "symbol": s.symbol,
            "side": s.side,
            "qty": s.entry_quantity,
            "max_qty": s.max_open_quantity if s.max_open_quantity else s.entry_quantity,
            "entry_price": s.entry_price,
            "exit_price": s.exit_price,
            "entry_time": s.entry_time,
            "exit_time": s.exit_time,
            "gross_pnl": gross,
            "commissions": commission,
            "realized_pnl": gross - commission,
            "point_value": instrument.point_value,
            "mae": s.max_open_loss,
            "mfe": s.max_open_profit,
            "exit_reason": "imported from Sierra Chart",
            "entry_efficiency": eff.entry if eff else None,
            "exit_efficiency": eff.exit if eff else None,
            "total_efficiency": eff.total if eff else None,
            "tick_size": instrument.tick_size if instrument.tick_size > 0 else None,
            "pnl_unit": "",
            "sierra": "imported",
            "sierra_key": s.key,
            "created_at": now,
        }


def _log_failure(future: Future[None]) -> None:
    """A comparison that failed in a way nobody foresaw: logged with its traceback (the next logon retries)."""
    exc = future.exception() if not future.cancelled() else None
    if exc is not None:
        log.error("comparing with Sierra Chart's trade list failed", exc_info=exc)


def _trade_text(side: str, qty: Decimal, entry: Decimal, exit_: Decimal, pnl: Decimal | None) -> str:
    return f"{side} {_text(qty)} @ {_text(entry)} → {_text(exit_)}, P&L {_text(pnl, True)}"[:64]


def _difference(
    mode: str, account: str, symbol: str, kind: str, field_name: str, values: tuple[str, str],
    times: tuple[datetime, datetime], trade_id: int | None, key: str, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    return {
        "mode": mode,
        "account": account,
        "symbol": symbol,
        "kind": kind,
        "field": field_name,
        "panel_value": values[0][:64],
        "sierra_value": values[1][:64],
        "entry_time": times[0],
        "exit_time": times[1],
        "trade_id": trade_id,
        "key": key[:240],
        "found_at": now,
    }


def _event(
    mode: str, account: str, symbol: str, kind: str, source: str, key: str, now: datetime,
    realized: Decimal | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A ``PositionEvent`` audit row (no position changes: quantities 0); ``_key`` ties it to its stored row."""
    return {
        "at": now,
        "mode": mode,
        "account": account,
        "symbol": symbol,
        "kind": kind,
        "quantity_before": Decimal(0),
        "quantity_after": Decimal(0),
        "avg_entry_after": None,
        "realized": realized if realized is not None else Decimal(0),
        "reason": "Sierra Chart trade list",
        "source": f"10102:{source}"[:128],
        "_key": key[:240],
    }


def _difference_view(r: SierraDifference) -> DifferenceView:
    what = FIELD_LABELS.get(r.field, r.field) if r.kind == "differs" else KIND_LABELS.get(r.kind, r.kind)
    return DifferenceView(
        r.mode, r.account, r.symbol, r.kind, what, r.panel_value or "—", r.sierra_value or "—", r.entry_time,
        r.exit_time, r.found_at,
    )  # fmt: skip

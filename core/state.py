"""``StateManager``: the one door into the panel's state — a facade over small parts with one job each.

Where a fill goes, in one walk:

1. the router hands it to ``stage_fill`` (live 301) or ``apply_fills`` (a 304 history batch);
2. ``PositionLedger`` (``core/ledger.py``) skips it if its execution id is stored, folds it into the working
   positions and queues its rows;
3. at the end of the received chunk (``end_of_chunk``) the ledger commits every staged fill in ONE SQLite
   transaction; only then
4. ``Marks`` (excursions, heat), ``ScopeState`` (accounts, displayed scope), the ``Reconciler`` and the
   ``Publisher``'s change log learn what the fills did, and
5. ``publish`` turns the changes into one batch of typed events (``core/events.py``) for the listeners —
   the window's Qt bridge among them.

If the commit fails, the working positions go back to the committed ones, the fills are held in order and
retried (``retry_pending``), and the error is shown; nothing is dropped or written twice.

Threads: the DTC thread stages, commits, publishes and runs queued commands (``run_commands``); the GUI
thread only queues requests (scope, period, the trader's decisions). One lock guards the parts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from core import records
from core.accounting import Fill, Position, PositionEventKind
from core.decisions import ReconciliationDecisions
from core.disputed_trades import DisputedTrades
from core.events import Update
from core.instruments import InstrumentBook
from core.ledger import Applied, PositionLedger
from core.marks import Marks
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import PriceBook, Quote
from core.publisher import Listener, Publisher
from core.reconcile import BrokerPosition, Discrepancy, Reconciler
from core.scope import ScopeState
from core.snapshots import AppSnapshot, ConnectionState, Notification
from core.statistics_cache import StatisticsCache
from core.tradingday import Period
from core.twins import DERIVED_SOURCE
from core.units import format_avg_price, format_price
from data.held_trades import HeldTradeStore
from data.models import PositionEvent
from data.repository import PositionStore, StorageError

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (mode, account, symbol)
PUBLISH_INTERVAL = 1 / 30
CLOSE_WAIT_S = 5.0
"""``close`` waits at most this long (s) for a publication under way."""
LIVE_SOURCES = frozenset({"301", DERIVED_SOURCE})
"""``Fill.source`` of fills seen as they happened (ORDER_UPDATE 301)."""


def _describe(applied: Applied, tick: Decimal) -> str:
    """``SIM Sim1 · INCREASED · LONG 2 MESZ25 @ 6,852.125`` (+ `` · trade P&L +36.25`` when a trade closed)."""
    mode, account, symbol = applied.key
    pos = applied.outcome.position
    text = f"{mode} {account} · {applied.outcome.event.value.upper()} · "
    if pos is None:
        text += f"{symbol} flat"
    else:
        text += f"{pos.side} {abs(pos.quantity).normalize():f} {symbol} @ {format_avg_price(pos.avg_entry, tick)}"
    if applied.outcome.closed_trade is not None:
        text += f" · trade P&L {applied.outcome.closed_trade.net_pnl:+,.2f}"
    return text


def _describe_disputed(applied: Applied, found: Discrepancy | None, tick: Decimal) -> str:
    """``SIM Sim1 · fill SELL 3 MESZ25 @ 6,851.00 stored; position disputed — Sierra Chart reports flat,
    panel: SHORT 2 MES @ 6,851.00`` (a fill on a key with an open discrepancy)."""
    mode, account, symbol = applied.key
    fill = applied.fill
    side = "BUY" if fill.quantity > 0 else "SELL"
    size = f"{abs(fill.quantity).normalize():f}"
    price = format_price(fill.price, tick)
    text = f"{mode} {account} · fill {side} {size} {symbol} @ {price} stored; position disputed"
    if found is not None:
        text += f" — Sierra Chart reports {found.broker_text}, panel: {found.panel_text}"
    if applied.outcome.closed_trade is not None:
        text += "; the trade it closed is held apart until Sierra Chart agrees"
    return text


class StateManager:
    """Open positions per (mode, account, symbol) over ``PositionStore``, and everything the window shows.

    Listeners (``subscribe``) receive ``core.events.Update``s on the publishing thread.
    """

    def __init__(
        self,
        store: PositionStore,
        instruments: InstrumentBook,
        modes: ModeClassifier,
        *,
        prices: PriceBook | None = None,
        orders: OrderBook | None = None,
        pinned_account: str | None = None,
        session_start: str = "18:00",
        session_timezone: str = "America/New_York",
    ) -> None:
        self._store = store
        self._instruments = instruments
        self.prices = prices or PriceBook()
        self.orders = orders or OrderBook()
        self._lock = threading.RLock()
        self.scope = ScopeState(modes, pinned_account)
        self.ledger = PositionLedger(
            store, instruments, self.scope.mode_of, self._with_entry_context, pnl_unit=self.pnl_unit
        )
        self.marks = Marks(self.ledger.positions, instruments, self.orders, store)
        self.reconciler = Reconciler()
        self.stats = StatisticsCache(store, session_start, session_timezone, on_loaded=self._statistics_loaded)
        self.publisher = Publisher(
            self.ledger, self.marks, self.scope, self.reconciler, self.prices, instruments, self.orders, self.stats
        )
        self.ledger.disputed = self.reconciler.disputed
        self.disputed_trades = DisputedTrades(HeldTradeStore(store.engine), self.publisher)
        self.decisions = ReconciliationDecisions(
            self.ledger, self.reconciler, store, self.publisher, self._applied, self.disputed_trades
        )
        self._worker = False
        self._closed = False
        self._publishers: list[threading.Thread] = []
        self._last_publish = 0.0
        self.seen_opened: set[Key] = set()
        """Keys whose position a live ORDER_UPDATE (301) fill of this run opened (or flipped) — not a fill read
        from history (304) afterwards: the only positions the stop guard may send an order for
        (``core/order_guards.py``)."""

    # --- startup -----------------------------------------------------------------------------------

    def recover(self) -> int:
        """Load every stored open position into the cache (marked unconfirmed); returns how many.

        When no scope is pinned, the displayed scope becomes that of the most recently filled position.
        Raises ``StorageError`` if the database cannot be read.
        """
        stored = records.stored_positions(self._store)
        with self._lock:
            self.ledger.load(stored)
            for item in stored:
                self.reconciler.recovered((item.mode, item.position.account, item.position.symbol))
                self.scope.see(item.position.account)
            if not self.scope.pinned and stored:
                latest = max(stored, key=lambda s: s.position.last_fill_time or s.position.entry_time)
                self.scope.scope = (latest.mode, latest.position.account)
            self.publisher.changes.full = True
        log.info("recovered %d open position(s) from the database", len(stored))
        return len(stored)

    def restore_notifications(self, notes: list[Notification]) -> None:
        """Put ``notes`` (oldest first, e.g. ``core.feed_history.restored_notes``) at the start of the feed:
        what happened before the restart, shown before anything new."""
        with self._lock:
            kept = list(self.publisher.notifications)
            self.publisher.notifications.clear()
            self.publisher.notifications.extend([*notes, *kept])
            self.publisher.changes.full = True

    def background_statistics(self, enabled: bool) -> None:
        """Load statistics of a new scope or period on a loader thread (the running app) instead of inline."""
        self.stats.background = enabled

    def mode_of(self, account: str) -> str:
        return self.scope.mode_of(account)

    def open_symbols(self) -> set[str]:
        with self._lock:
            return {key[2] for key in self.ledger.positions}

    def position(self, mode: str, account: str, symbol: str) -> Position | None:
        with self._lock:
            return self.ledger.positions.get((mode, account, symbol))

    # --- fills -------------------------------------------------------------------------------------

    def stage_fill(self, fill: Fill) -> None:
        """A live fill (301): folded now, stored with the rest of its chunk at ``end_of_chunk``."""
        with self._lock:
            try:
                self.ledger.stage([fill], check_now=False)  # ids checked once per chunk, at commit
            except StorageError:
                self.publisher.changes.storage = True

    def apply_fills(self, fills: Sequence[Fill], publish: bool = True) -> int:
        """Apply ``fills`` (in the order given) as one group: one transaction, then one publication.
        Returns how many were new. Idempotent by execution id."""
        with self._lock:
            try:
                self.ledger.stage(fills)
            except StorageError:
                self.publisher.changes.storage = True
            count = len(self._commit())
            if self.ledger.held:  # queued behind fills held earlier: the window's count of held fills grows
                self.publisher.changes.storage = True
        if publish:
            self.publish()
        return count

    def apply_fill(self, fill: Fill, publish: bool = True) -> bool:
        """Apply one fill now (its own group). Returns True if it is stored (now or before), False if it is
        held after a storage failure."""
        self.apply_fills([fill], publish)
        with self._lock:
            return self.ledger.held == 0

    def _report_conflicts(self) -> None:
        for text in self.ledger.take_conflicts():
            self.publisher.notify("conflict", text)

    def _commit(self) -> list[Applied]:
        """Commit the staged fills; on failure tell the reconciler which positions went back."""
        try:
            applied = self.ledger.commit()
        except StorageError:
            self._report_conflicts()
            # the positions went back to the stored ones (the reconciler never saw the group: it only hears of
            # committed fills); Sierra Chart's next report is compared with what is stored
            self.publisher.changes.storage = True
            self.publisher.changes.reconciliation = True
            for key in self.ledger.restored:
                self.publisher.changes.marks.add(key)
            return []
        self._report_conflicts()
        self._applied(applied)
        return applied

    def _applied(self, applied: list[Applied]) -> None:
        """Committed fills: now the other parts learn what they did (cache first, then the publication)."""
        if not applied:
            return
        changes = self.publisher.changes
        now = time.monotonic()
        for a in applied:
            key, outcome = a.key, a.outcome
            opened = outcome.event in (PositionEventKind.OPENED, PositionEventKind.FLIPPED)
            disputed = self.reconciler.disputed(key)
            closed = outcome.closed_trade.net_pnl if outcome.closed_trade is not None else None
            self.reconciler.on_fill(key, outcome.position, now, closed)
            self.marks.position_changed(key, opened, outcome.position is None)
            if opened and a.fill.source in LIVE_SOURCES:  # seen live, not read from history afterwards
                self.seen_opened.add(key)
            elif opened or outcome.position is None:
                self.seen_opened.discard(key)
            if self.scope.see(key[1]):
                changes.accounts = True
            if self.scope.follow(key[0], key[1]):
                changes.full = True
            changes.positions[key] = opened or changes.positions.get(key, False)
            if outcome.closed_trade is not None:
                changes.trades = True
            tick = self._instruments.lookup(key[2]).tick_size
            if disputed:  # Sierra Chart's report contradicts the panel here: the fill is stored, not announced
                text = _describe_disputed(a, self.reconciler.discrepancies.get(key), tick)
                self.publisher.notify("disputed", text)
            else:
                text = _describe(a, tick)
                self.publisher.notify(outcome.event.value, text, last_event=True)
            log.info("%s (fill %s)", text, a.fill.execution_id)
        changes.reconciliation = True

    def retry_pending(self) -> None:
        """Retry fills held after a storage failure (the DTC thread's tick)."""
        with self._lock:
            if not self.ledger.held:
                return
            try:
                self._applied(self.ledger.retry())
            except StorageError:
                log.debug("storage still failing; %d fill(s) held", self.ledger.held)
            self._report_conflicts()
            self.publisher.changes.storage = True

    def end_of_chunk(self) -> None:
        """The received chunk is done: store its fills in one transaction, then publish — at once when fills
        were stored, else at most ~30 times a second."""
        with self._lock:
            committed = self._commit() if self.ledger.staged else []
        if committed:
            self.publish()
        else:
            self.publish_throttled()

    def pnl_unit(self, account: str, symbol: str) -> str:
        """What ``symbol``'s P&L is in for ``account``: "" its currency, "pt" points × contracts (point value
        unknown), or the symbol's own currency code (``Instrument.pnl_unit``)."""
        return self._instruments.lookup(symbol).pnl_unit(self.scope.currency_of(account))

    def _with_entry_context(self, position: Position) -> Position:
        """A just-opened position with the entry snapshot (VWAP, cum. delta, POC) and the working bracket."""
        best = self.prices.best(position.symbol)
        quote = best[0] if best and not best[1] else None
        stop, target = self.orders.bracket(position.account, position.symbol, 1 if position.quantity > 0 else -1)
        return replace(
            position,
            stop_price=stop,
            target_price=target,
            entry_vwap=quote.vwap if quote else None,
            entry_cum_delta=quote.cum_delta if quote else None,
            entry_poc=quote.poc if quote else None,
        )

    def order_guard_facts(self) -> tuple[dict[Key, Position], dict[Key, bool], frozenset[Key], frozenset[Key]]:
        """(open positions, confirmed flags, disputed keys, keys seen opened by this run), read together under
        the lock, for the stop guard and the orphan cleanup (``core/order_guards.py``)."""
        with self._lock:
            return (
                dict(self.ledger.positions),
                dict(self.reconciler.confirmed),
                frozenset(self.reconciler.discrepancies),
                frozenset(self.seen_opened),
            )

    def notify(self, kind: str, text: str) -> None:
        """Add one entry to the in-window notification feed."""
        with self._lock:
            self.publisher.notify(kind, text)

    # --- prices and orders ---------------------------------------------------------------------------

    def on_price(self, quote: Quote) -> None:
        """A new last price: updates open P&L, trade extremes and MAE/MFE of every position in that symbol."""
        if not self.prices.update(quote):
            return
        with self._lock:
            self.publisher.changes.marks.update(self.marks.on_price(quote))

    def on_orders_changed(self, account: str, symbol: str) -> None:
        """The working orders of (account, symbol) changed: refresh the bracket of its position."""
        with self._lock:
            self.publisher.changes.marks.update(self.marks.on_orders_changed(account, symbol))

    def flush_marks(self, force: bool = False) -> None:
        """Write changed MAE/MFE, extremes and brackets to the database, at most every 100 ms."""
        with self._lock:
            self.marks.flush(force)

    # --- broker reports --------------------------------------------------------------------------------

    def on_broker_position(
        self,
        account: str,
        symbol: str,
        quantity: Decimal,
        average_price: Decimal,
        *,
        solicited: bool = False,
        entry_time: datetime | None = None,
    ) -> None:
        """Sierra Chart's position for (account, symbol) from a POSITION_UPDATE (306); ``quantity`` signed.

        Compared with the working position (fills of this chunk included). Solicited reports are compared
        when the batch ends (``end_position_report``); an unsolicited one that agrees confirms the position,
        one that disagrees is flagged unless a fill explains it soon. Nothing here overwrites a position.
        """
        with self._lock:
            key = (self.mode_of(account), account, symbol)
            report = BrokerPosition(quantity, average_price, entry_time)
            self.reconciler.on_report(key, report, solicited, self.ledger.positions.get(key), time.monotonic())
            if self.scope.see(account):
                self.publisher.changes.accounts = True
            self.publisher.changes.reconciliation = True

    def on_no_positions(self, account: str) -> None:
        """A 306 with ``NoPositions`` 1: Sierra Chart holds no position in ``account`` (any, if empty)."""
        with self._lock:
            self.reconciler.on_no_positions(account)
            self.publisher.changes.reconciliation = True

    def begin_position_report(self) -> None:
        with self._lock:
            self.reconciler.begin_report(time.monotonic())
            self.publisher.changes.reconciliation = True

    def end_position_report(self) -> None:
        """The 305 answer is complete: compare, announce every new discrepancy once."""
        with self._lock:
            self._commit()
            new = self.reconciler.end_report(self.ledger.positions, set(self.scope.reported), time.monotonic(), {})
            for found in new:
                self.publisher.notify("stale", found.text)
            self.publisher.changes.reconciliation = True
            self.disputed_trades.release_undisputed(self.reconciler.disputed)

    def position_report_failed(self, reason: str) -> None:
        with self._lock:
            self.reconciler.report_failed(reason)
            self.publisher.notify("warning", f"Sierra Chart's positions unknown: {reason}")
            self.publisher.changes.reconciliation = True

    def check_reconciliation(self) -> None:
        """Flag unsolicited disagreements whose grace period passed (called by the DTC thread's tick)."""
        with self._lock:
            before = dict(self.reconciler.discrepancies)
            for found in self.reconciler.due(self.ledger.positions, time.monotonic()):
                self.publisher.notify("stale", found.text)
            if self.reconciler.discrepancies != before:  # new, refreshed or resolved by itself
                self.publisher.changes.reconciliation = True

    def on_disconnected(self) -> None:
        """The link dropped: every position is unconfirmed until the next report agrees with it."""
        with self._lock:
            self._commit()
            self.reconciler.on_disconnected()
            self.publisher.changes.reconciliation = True

    def set_accounts(self, accounts: list[tuple[str, bool]]) -> None:
        """The trade accounts Sierra Chart reported (401): (name, trading disabled)."""
        with self._lock:
            before = self.scope.scope
            self.scope.set_reported(accounts)
            self.publisher.changes.accounts = True
            if self.scope.scope != before:
                self.publisher.changes.full = True

    def on_balance(
        self,
        account: str,
        cash: Decimal | None,
        currency: str,
        open_pnl: Decimal | None,
        daily_pnl: Decimal | None,
        trading_disabled: bool,
        securities_value: Decimal | None = None,
        available_funds: Decimal | None = None,
        margin_requirement: Decimal | None = None,
    ) -> None:
        """An ACCOUNT_BALANCE_UPDATE (600) for ``account``; money in ``currency``. Kept as history too, stored
        with the received chunk's fills (``end_of_chunk``)."""
        mode = self.mode_of(account)
        row = {
            "mode": mode,
            "account": account,
            "time": datetime.now(UTC),
            "cash_balance": cash,
            "securities_value": securities_value,
            "daily_pnl": daily_pnl,
            "currency": currency[:8],
        }
        with self._lock:
            self.ledger.stage_balance(row)  # stored with the chunk's fills: no fsync of its own
            self.scope.set_balance(
                account, cash, currency, open_pnl, daily_pnl, trading_disabled, available_funds, margin_requirement
            )
            self.publisher.changes.accounts = True
            if mode == "LIVE" and self.scope.scope == (mode, account):
                self.publisher.changes.trades = True  # the LIVE equity curve is the balance history

    def set_connection(self, state: ConnectionState, detail: str = "", server: str = "") -> None:
        with self._lock:
            self.scope.set_connection(state, detail, server)
            self.publisher.changes.connection = True

    def set_data_age(self, seconds: float | None) -> None:
        """Seconds since the last complete message from Sierra Chart (``None`` when not connected)."""
        with self._lock:
            self.scope.set_data_age(seconds)
            self.publisher.changes.connection = True

    # --- scope and period (GUI thread: queued for the DTC thread while it runs) -----------------------

    def attach_worker(self, attached: bool) -> None:
        """Whether a thread runs ``run_commands`` (the DTC client's tick). While one does, the GUI's requests
        are carried out there, so no database work runs on the GUI thread."""
        self._worker = attached

    def _request(self, command: Callable[[], None]) -> None:
        if self._worker:
            self.decisions.queue(command)
        else:
            command()

    def set_scope(self, mode: str, account: str, pinned: bool = True) -> None:
        """Show (mode, account). Never touches any position; the other scopes stay as they are."""

        def command() -> None:
            with self._lock:
                self.scope.scope, self.scope.pinned = (mode, account), pinned
                self.publisher.changes.full = True
            self.publish()

        self._request(command)

    def follow_latest_fill(self) -> None:
        def command() -> None:
            with self._lock:
                self.scope.pinned = False
                self.publisher.changes.full = True
            self.publish()

        self._request(command)

    def set_period(self, period: Period) -> None:
        def command() -> None:
            with self._lock:
                self.scope.period = Period(period)
                self.publisher.changes.full = True
            self.publish()

        self._request(command)

    def resolve(
        self,
        key: Key,
        choice: str,
        price: Decimal | None = None,
        *,
        seen: Discrepancy | None = None,
        ticket: int = 0,
    ) -> None:
        """Queue the trader's decision for a discrepancy (see ``ReconciliationDecisions.resolve``)."""
        self.decisions.resolve(key, choice, price, seen=seen, ticket=ticket)

    def _record_self_resolved(self) -> None:
        """Discrepancies a later report resolved: each one an audit event (``reconciled``, with its reason) and
        a line in the feed. Runs after the staged fills are committed, so the audit trail keeps their order."""
        for item in self.reconciler.take_self_resolved():
            found = item.found
            position = self.ledger.positions.get(found.key)
            event = PositionEvent(
                at=datetime.now(UTC),
                mode=found.mode,
                account=found.account,
                symbol=found.symbol,
                kind="reconciled",
                quantity_before=position.quantity if position else Decimal(0),
                quantity_after=position.quantity if position else Decimal(0),
                avg_entry_after=position.avg_entry if position else None,
                reason="agrees with Sierra Chart",
                source="sierra chart: POSITION_UPDATE",
            )
            try:
                self._store.add_event(event)
            except StorageError as exc:
                self.publisher.notify("error", f"audit event not stored ({item.text}): {exc}")
            self.publisher.notify("reconciled", item.text)
            self.publisher.changes.reconciliation = True
            self.publisher.changes.marks.add(found.key)
            self.disputed_trades.release(found.key, "agrees with Sierra Chart")

    def run_commands(self) -> None:
        """Carry out queued requests and decisions (the DTC thread), committing staged fills first."""
        while True:
            command = self.decisions.next()
            if command is None:
                return
            with self._lock:
                self._commit()
                command()
            self.publish()

    # --- publication ---------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(Update)`` for every publication (on the publishing thread; it must not block)."""
        self.publisher.subscribe(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self.publisher.unsubscribe(listener)

    def snapshot(self) -> AppSnapshot:
        """The whole state now, as an immutable snapshot (start-up; tests)."""
        with self._lock:
            self._commit()
            self._record_self_resolved()
            return self.publisher.snapshot()

    def publish(self, force: bool = False) -> Update | None:
        """Send an update with what changed since the last one (``force``: a full snapshot). Staged fills
        are committed first: nothing reaches a listener before it is stored."""
        with self._lock:
            self._commit()
            self._record_self_resolved()
            if force:
                self.publisher.changes.full = True
            update = self.publisher.build()
            self._last_publish = time.monotonic()
        if update is not None:
            self.publisher.send(update)
        return update

    def publish_throttled(self) -> Update | None:
        """``publish()`` unless the last publication was less than 1/30 s ago (price storms)."""
        if time.monotonic() - self._last_publish < PUBLISH_INTERVAL:
            return None
        return self.publish()

    def touch(self) -> None:
        """Ages, time in trade and staleness change with the clock (and the trading day may have rolled)."""
        with self._lock:
            self.publisher.changes.marks.update(self.ledger.positions)
            self.publisher.changes.trades = True

    def reload_statistics(self) -> None:
        """Stored trades were added or re-marked out of time order (Sierra Chart's trade list, issue 15): the
        period's statistics and trades are read again, and a full snapshot is published when they are."""
        with self._lock:
            self.stats.invalidate()
            self.publisher.changes.full = True
        self.publish()

    def _statistics_loaded(self) -> None:
        """The loader thread finished reading a period's history: the next publication shows it — the DTC
        thread's next tick, or (not connected) a publication from a short-lived thread of its own."""
        with self._lock:
            self.publisher.changes.full = True
            if self._worker or self._closed:
                return
            thread = threading.Thread(target=self.publish, name="statistics-publish", daemon=True)
            self._publishers = [*(t for t in self._publishers if t.is_alive()), thread]
        thread.start()

    def close(self) -> None:
        """Stop the statistics loader thread and wait for a publication it started (a publication reads the
        database: one still running when the database closes would leave it open, its WAL behind)."""
        with self._lock:
            self._closed = True
        self.stats.close()
        for thread in self._publishers:
            thread.join(CLOSE_WAIT_S)

"""``StateManager``: the in-memory cache of positions, written through to SQLite, published as snapshots.

Write-through order for every fill: database commit first, then the cache, then a Qt signal carrying an
immutable ``AppSnapshot``. If the commit fails the cache is unchanged, the error is shown, and the fill is
held (in arrival order) and retried; it is never dropped and never written twice.

Threads: fills, reports and prices arrive on the DTC and price threads; ``set_scope``/``set_period`` on the
GUI thread. One lock guards the cache. Live fills publish at once (every intermediate position reaches the
screen); prices and everything else publish through ``publish_throttled`` (≤ ~30 per second).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from PySide6.QtCore import QObject, Signal

from core.accounting import Fill, FillOutcome, Position, PositionEventKind, apply_fill
from core.decisions import ReconciliationDecisions
from core.instruments import InstrumentBook, symbol_root
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import WILDCARD, PriceBook, Quote
from core.reconcile import BrokerPosition, Reconciler
from core.snapshots import (
    AccountView,
    AppSnapshot,
    BrokerOnlyPosition,
    ConnectionInfo,
    ConnectionState,
    Notification,
    PositionView,
    ScopeSummary,
)
from core.statistics_cache import StatisticsCache
from core.tradingday import Period
from core.views import position_view
from data.models import AccountBalance
from data.repository import DuplicateFill, PositionStore, StorageError

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (mode, account, symbol)
PUBLISH_INTERVAL = 1 / 30
MARKS_FLUSH_INTERVAL = 0.1


def _describe(mode: str, account: str, outcome: FillOutcome, symbol: str) -> str:
    pos = outcome.position
    text = f"{mode} {account} · {outcome.event.value.upper()} · "
    text += f"{symbol} flat" if pos is None else f"{pos.side} {abs(pos.quantity)} {symbol} @ {pos.avg_entry:.2f}"
    if outcome.closed_trade is not None:
        text += f" · trade P&L {outcome.closed_trade.net_pnl:+.2f}"
    return text


class StateManager(ReconciliationDecisions, QObject):
    """Cache of open positions per (mode, account, symbol) over ``PositionStore``.

    Signals: ``snapshot_ready(AppSnapshot)``.
    """

    snapshot_ready = Signal(object)

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
        super().__init__()
        self._store = store
        self._instruments = instruments
        self._modes = modes
        self.prices = prices or PriceBook()
        self.orders = orders or OrderBook()
        self._stats = StatisticsCache(store, session_start, session_timezone)
        self._lock = threading.RLock()
        self._positions: dict[Key, Position] = {}
        self.reconciler = Reconciler()
        self._accounts_reported: set[str] = set()
        self._commands: deque[Callable[[], None]] = deque()
        self._worker = False
        self._accounts: dict[str, AccountView] = {}
        self._pending: deque[Fill] = deque()
        self._marks_dirty: set[Key] = set()
        self._storage_error: str | None = None
        self._connection = ConnectionInfo()
        self._scope: tuple[str, str] | None = None
        self._pinned = False
        self._period = Period.TODAY
        self._last_event = ""
        self._notifications: deque[Notification] = deque(maxlen=200)
        self._heat_since: dict[Key, datetime] = {}
        self._seq = 0
        self._dirty = True
        self._last_publish = 0.0
        self._last_marks_flush = 0.0
        if pinned_account:
            self._scope = (self.mode_of(pinned_account), pinned_account)
            self._pinned = True

    # --- startup -----------------------------------------------------------------------------------

    def recover(self) -> int:
        """Load every stored open position into the cache (marked unconfirmed); returns how many.

        When no scope is pinned, the displayed scope becomes that of the most recently filled position.
        Raises ``StorageError`` if the database cannot be read.
        """
        stored = self._store.load_open_positions()
        with self._lock:
            for item in stored:
                key = (item.mode, item.position.account, item.position.symbol)
                self._positions[key] = item.position
                self.reconciler.recovered(key)
                self._accounts.setdefault(item.position.account, AccountView(item.position.account, item.mode))
            if not self._pinned and stored:
                latest = max(stored, key=lambda s: s.position.last_fill_time or s.position.entry_time)
                self._scope = (latest.mode, latest.position.account)
            self._dirty = True
        log.info("recovered %d open position(s) from the database", len(stored))
        return len(stored)

    def mode_of(self, account: str) -> str:
        return self._modes.mode_of(account).value

    def open_symbols(self) -> set[str]:
        with self._lock:
            return {key[2] for key in self._positions}

    def position(self, mode: str, account: str, symbol: str) -> Position | None:
        with self._lock:
            return self._positions.get((mode, account, symbol))

    # --- fills -------------------------------------------------------------------------------------

    def apply_fill(self, fill: Fill, publish: bool = True) -> bool:
        """Apply one fill (idempotent by execution id). Returns True if it was stored or already known.

        Held fills are retried first so fills are always stored in arrival order. With ``publish`` (live
        301 fills) the new position is published at once; replays of history (304) pass ``False``.
        """
        with self._lock:
            self._pending.append(fill)
            self._drain()
            stored = fill not in self._pending
        if publish:
            self.publish()
        return stored

    def retry_pending(self) -> None:
        """Retry fills held after a storage failure (called periodically by the DTC thread)."""
        with self._lock:
            if self._pending:
                self._drain()

    def _drain(self) -> None:
        while self._pending:
            try:
                self._store_one(self._pending[0])
            except StorageError as exc:
                if self._storage_error != str(exc):
                    log.error("storage failure, %d fill(s) held for retry: %s", len(self._pending), exc)
                self._storage_error = str(exc)
                self._dirty = True
                return
            self._pending.popleft()
            if self._storage_error is not None:
                log.info("storage recovered")
                self._storage_error = None
                self._dirty = True

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

    def _store_one(self, fill: Fill, reason: str = "fill") -> None:
        mode = self.mode_of(fill.account)
        key = (mode, fill.account, fill.symbol)
        before = self._positions.get(key)
        outcome = apply_fill(before, fill, self._instruments.lookup(fill.symbol).point_value)
        if outcome.position is not None and outcome.event in (PositionEventKind.OPENED, PositionEventKind.FLIPPED):
            outcome = replace(outcome, position=self._with_entry_context(outcome.position))
        try:
            self._store.commit_fill(mode, fill, before, outcome, reason)
        except DuplicateFill:
            log.debug("fill %s already applied; ignored", fill.execution_id)
            return
        # committed: now the cache; the signal follows at publish
        if outcome.position is None:
            self._positions.pop(key, None)
        else:
            self._positions[key] = outcome.position
        self.reconciler.on_fill(key, outcome.position, time.monotonic())
        self._marks_dirty.discard(key)
        self._accounts.setdefault(fill.account, AccountView(fill.account, mode))
        if not self._pinned:
            self._scope = (mode, fill.account)
        if outcome.closed_trade is not None:
            self._stats.invalidate()
        if outcome.event in (PositionEventKind.OPENED, PositionEventKind.FLIPPED) or outcome.position is None:
            self._heat_since.pop(key, None)
        self._last_event = _describe(mode, fill.account, outcome, fill.symbol)
        self.notify(outcome.event.value, self._last_event)
        log.info("%s (fill %s)", self._last_event, fill.execution_id)
        self._dirty = True

    def notify(self, kind: str, text: str) -> None:
        """Add one entry to the in-window notification feed."""
        with self._lock:
            self._notifications.append(Notification(datetime.now(UTC), kind, text))
            self._dirty = True

    # --- prices and orders ---------------------------------------------------------------------------

    def on_price(self, quote: Quote) -> None:
        """A new last price: updates open P&L, trade extremes and MAE/MFE of every position in that symbol."""
        if not self.prices.update(quote):
            return
        root = None if quote.symbol == WILDCARD else symbol_root(quote.symbol)
        with self._lock:
            for key, pos in self._positions.items():
                if root is not None and symbol_root(key[2]) != root:
                    continue
                point_value = self._instruments.lookup(key[2]).point_value
                marked = pos.mark(quote.price, point_value)
                if marked is not pos:
                    self._positions[key] = marked
                    self._marks_dirty.add(key)
                if marked.open_pnl(quote.price, point_value) < 0:
                    self._heat_since.setdefault(key, quote.time)
                else:
                    self._heat_since.pop(key, None)
            self._dirty = True

    def on_orders_changed(self, account: str, symbol: str) -> None:
        """The working orders of (account, symbol) changed: refresh the bracket of its position. The first
        stop seen for a trade is kept as the stop at entry (initial risk); the target follows the order."""
        with self._lock:
            for key, pos in list(self._positions.items()):
                if key[1:] != (account, symbol):
                    continue
                stop, target = self.orders.bracket(account, symbol, 1 if pos.quantity > 0 else -1)
                updated = replace(
                    pos, stop_price=pos.stop_price if pos.stop_price is not None else stop, target_price=target
                )
                if updated != pos:
                    self._positions[key] = updated
                    self._marks_dirty.add(key)
                    self._dirty = True

    def flush_marks(self, force: bool = False) -> None:
        """Write changed MAE/MFE, extremes and brackets to the database, at most every 100 ms."""
        now = time.monotonic()
        with self._lock:
            if not self._marks_dirty or (not force and now - self._last_marks_flush < MARKS_FLUSH_INTERVAL):
                return
            self._last_marks_flush = now
            for key in list(self._marks_dirty):
                pos = self._positions.get(key)
                try:
                    if pos is not None:
                        self._store.update_marks(key[0], pos)
                except StorageError as exc:
                    log.warning("excursions not stored yet (will retry): %s", exc)
                    return
                self._marks_dirty.discard(key)

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

        Solicited reports are compared when the batch ends (``end_position_report``); an unsolicited one
        that agrees confirms the position, one that disagrees is flagged unless a fill explains it soon.
        Nothing here ever overwrites a stored position.
        """
        with self._lock:
            key = (self.mode_of(account), account, symbol)
            report = BrokerPosition(quantity, average_price, entry_time)
            self.reconciler.on_report(key, report, solicited, self._positions.get(key), time.monotonic())
            self._accounts.setdefault(account, AccountView(account, key[0]))
            self._dirty = True

    def on_no_positions(self, account: str) -> None:
        """A 306 with ``NoPositions`` 1: Sierra Chart holds no position in ``account`` (any, if empty)."""
        with self._lock:
            self.reconciler.on_no_positions(account)
            self._dirty = True

    def begin_position_report(self) -> None:
        with self._lock:
            self.reconciler.begin_report(time.monotonic())
            self._dirty = True

    def end_position_report(self) -> None:
        """The 305 answer is complete: compare, announce every new discrepancy once."""
        with self._lock:
            accounts = set(self._accounts_reported)
            new = self.reconciler.end_report(self._positions, accounts, time.monotonic(), {})
            for found in new:
                self.notify("stale", found.text)
            self._dirty = True

    def position_report_failed(self, reason: str) -> None:
        with self._lock:
            self.reconciler.report_failed(reason)
            self.notify("warning", f"Sierra Chart's positions unknown: {reason}")

    def check_reconciliation(self) -> None:
        """Flag unsolicited disagreements whose grace period passed (called by the DTC thread's tick)."""
        with self._lock:
            for found in self.reconciler.due(self._positions, time.monotonic()):
                self.notify("stale", found.text)

    def on_disconnected(self) -> None:
        """The link dropped: every position is unconfirmed until the next report agrees with it."""
        with self._lock:
            self.reconciler.on_disconnected()
            self._dirty = True

    def set_accounts(self, accounts: list[tuple[str, bool]]) -> None:
        """The trade accounts Sierra Chart reported (401): (name, trading disabled)."""
        with self._lock:
            self._accounts_reported = {name for name, _ in accounts if name}
            for name, disabled in accounts:
                if name:
                    current = self._accounts.get(name) or AccountView(name, self.mode_of(name))
                    self._accounts[name] = replace(current, trading_disabled=disabled)
            if self._scope is None and self._accounts:
                first = sorted(self._accounts.values(), key=lambda a: (a.mode != "LIVE", a.account))[0]
                self._scope = (first.mode, first.account)
            self._dirty = True

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
        """An ACCOUNT_BALANCE_UPDATE (600) for ``account``; money in ``currency``. Kept as history too."""
        mode = self.mode_of(account)
        try:
            self._store.add_balance(
                AccountBalance(
                    mode=mode,
                    account=account,
                    time=datetime.now(UTC),
                    cash_balance=cash,
                    securities_value=securities_value,
                    daily_pnl=daily_pnl,
                    currency=currency,
                )
            )
        except StorageError as exc:
            log.warning("balance history not stored: %s", exc)
        with self._lock:
            current = self._accounts.get(account) or AccountView(account, mode)
            self._accounts[account] = replace(
                current,
                cash_balance=cash,
                currency=currency,
                open_pnl=open_pnl,
                daily_pnl=daily_pnl,
                trading_disabled=trading_disabled,
                available_funds=available_funds,
                margin_requirement=margin_requirement,
            )
            self._stats.invalidate()  # the LIVE equity curve is the balance history
            self._dirty = True

    def set_connection(self, state: ConnectionState, detail: str = "", server: str = "") -> None:
        with self._lock:
            self._connection = replace(
                self._connection, state=state, detail=detail, server=server or self._connection.server
            )
            self._dirty = True

    def set_data_age(self, seconds: float | None) -> None:
        """Seconds since the last byte from Sierra Chart (``None`` when not connected)."""
        with self._lock:
            self._connection = replace(self._connection, data_age_seconds=seconds)
            self._dirty = True

    # --- scope and period ----------------------------------------------------------------------------

    def attach_worker(self, attached: bool) -> None:
        """Whether a thread runs ``run_commands`` (the DTC client's tick). While one does, the GUI's requests
        are published from it, so a statistics load for a new scope or period never runs on the GUI thread."""
        self._worker = attached

    def _publish_from_worker(self) -> None:
        if self._worker:
            self._commands.append(self.publish)
        else:
            self.publish()

    def set_scope(self, mode: str, account: str, pinned: bool = True) -> None:
        """Show (mode, account). Never touches any position; the other scopes stay as they are."""
        with self._lock:
            self._scope = (mode, account)
            self._pinned = pinned
            self._dirty = True
        self._publish_from_worker()

    def follow_latest_fill(self) -> None:
        with self._lock:
            self._pinned = False
            self._dirty = True
        self._publish_from_worker()

    def set_period(self, period: Period) -> None:
        with self._lock:
            self._period = Period(period)
            self._dirty = True
        self._publish_from_worker()

    # --- publication ---------------------------------------------------------------------------------

    def _view(self, key: Key, pos: Position) -> PositionView:
        broker = self.reconciler.broker.get(key)
        return position_view(
            key,
            pos,
            self._instruments.lookup(key[2]),
            self.prices.best(key[2]),
            confirmed=self.reconciler.confirmed.get(key, False),
            broker_quantity=broker.quantity if broker else None,
            heat_since=self._heat_since.get(key),
        )

    def _orphans(self) -> tuple[str, ...]:
        open_keys = {(k[1], k[2]) for k in self._positions}
        return tuple(
            f"{o.account} {o.symbol}: {'stop' if o.is_stop else 'target'} "
            f"{'buy' if o.side > 0 else 'sell'} @ {o.price} working on a flat position"
            for o in self.orders.orphans(open_keys)
        )

    def snapshot(self) -> AppSnapshot:
        """The current state as an immutable snapshot."""
        with self._lock:
            self._seq += 1
            scope = self._scope
            in_scope: list[PositionView] = []
            other: list[PositionView] = []
            for key, pos in sorted(self._positions.items()):
                (in_scope if scope and key[:2] == scope else other).append(self._view(key, pos))
            broker_only = tuple(
                BrokerOnlyPosition(k[0], k[1], k[2], b.quantity, b.average_price)
                for k, b in sorted(self.reconciler.broker.items())
                if scope and k[:2] == scope and b.quantity != 0 and k not in self._positions
            )
            open_values = [v.open_pnl for v in in_scope if v.open_pnl is not None]
            open_pnl = sum(open_values, Decimal(0)) if open_values else None
            if scope:
                today, statistics, trades, curve, curve_source = self._stats.get(scope[0], scope[1], self._period)
            else:
                today, statistics, trades, curve, curve_source = self._stats.empty()
            return AppSnapshot(
                seq=self._seq,
                scope_mode=scope[0] if scope else None,
                scope_account=scope[1] if scope else None,
                scope_pinned=self._pinned,
                positions=tuple(in_scope),
                broker_only=broker_only,
                other_open=tuple(other),
                accounts=tuple(sorted(self._accounts.values(), key=lambda a: (a.mode, a.account))),
                today=ScopeSummary(today.realized_pnl, today.trades, open_pnl),
                period=self._period.value,
                statistics=statistics,
                trades=trades,
                connection=self._connection,
                storage_error=self._storage_error,
                pending_fills=len(self._pending),
                last_event=self._last_event,
                notifications=tuple(self._notifications),
                equity_curve=curve,
                equity_source=curve_source,
                orphan_orders=self._orphans(),
                discrepancies=tuple(d for _, d in sorted(self.reconciler.discrepancies.items())),
                positions_status=self.reconciler.status,
            )

    def publish(self, force: bool = False) -> AppSnapshot | None:
        """Emit ``snapshot_ready`` with a fresh snapshot if anything changed since the last one."""
        with self._lock:
            if not (self._dirty or force):
                return None
            self._dirty = False
            self._last_publish = time.monotonic()
            snap = self.snapshot()
        self.snapshot_ready.emit(snap)
        return snap

    def publish_throttled(self) -> AppSnapshot | None:
        """``publish()`` unless the last publication was less than 1/30 s ago (price storms)."""
        if time.monotonic() - self._last_publish < PUBLISH_INTERVAL:
            return None
        return self.publish()

    def touch(self) -> None:
        """Mark the snapshot out of date (ages and staleness are time-dependent)."""
        with self._lock:
            self._dirty = True

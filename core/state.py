"""``StateManager``: the in-memory cache of positions, written through to SQLite, published as snapshots.

Write-through order for every fill: database commit first, then the cache, then a Qt signal carrying an
immutable ``AppSnapshot``. If the commit fails the cache is unchanged, the error is shown, and the fill is
held (in arrival order) and retried; it is never dropped and never written twice.

Threads: ``apply_*``/``on_*`` run on the DTC thread; ``set_scope`` may run on the GUI thread. A lock guards
the cache. ``publish()`` emits ``snapshot_ready`` at most once per call, only when something changed; the
DTC client calls it once per received chunk so bursts become one repaint.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from PySide6.QtCore import QObject, Signal

from core.accounting import Fill, Position, apply_fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.snapshots import (
    AccountView,
    AppSnapshot,
    BrokerOnlyPosition,
    ConnectionInfo,
    ConnectionState,
    PositionView,
    ScopeSummary,
)
from core.tradingday import trading_day_start
from data.repository import DuplicateFill, PositionStore, StorageError

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (mode, account, symbol)


@dataclass(frozen=True)
class BrokerPosition:
    quantity: Decimal
    average_price: Decimal
    received_at: datetime


def _describe(mode: str, account: str, kind: str, pos: Position | None, symbol: str) -> str:
    if pos is None:
        return f"{mode} {account} · {kind.upper()} · {symbol} flat"
    return f"{mode} {account} · {kind.upper()} · {pos.side} {abs(pos.quantity)} {symbol} @ {pos.avg_entry:.2f}"


class StateManager(QObject):
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
        pinned_account: str | None = None,
        session_start: str = "18:00",
        session_timezone: str = "America/New_York",
    ) -> None:
        super().__init__()
        self._store = store
        self._instruments = instruments
        self._modes = modes
        self._session = (session_start, session_timezone)
        self._lock = threading.RLock()
        self._positions: dict[Key, Position] = {}
        self._confirmed: dict[Key, bool] = {}
        self._broker: dict[Key, BrokerPosition] = {}
        self._accounts: dict[str, AccountView] = {}
        self._pending: deque[Fill] = deque()
        self._storage_error: str | None = None
        self._connection = ConnectionInfo()
        self._scope: tuple[str, str] | None = None
        self._pinned = False
        self._last_event = ""
        self._seq = 0
        self._dirty = True
        self._today_cache: tuple[tuple[str, str, datetime], ScopeSummary] | None = None
        if pinned_account:
            self._scope = (self._modes.mode_of(pinned_account).value, pinned_account)
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
                self._confirmed[key] = False
                self._accounts.setdefault(item.position.account, AccountView(item.position.account, item.mode))
            if not self._pinned and stored:
                latest = max(stored, key=lambda s: s.position.last_fill_time or s.position.entry_time)
                self._scope = (latest.mode, latest.position.account)
            self._dirty = True
        log.info("recovered %d open position(s) from the database", len(stored))
        return len(stored)

    # --- fills ---------------------------------------------------------------------------------------

    def mode_of(self, account: str) -> str:
        return self._modes.mode_of(account).value

    def apply_fill(self, fill: Fill, publish: bool = True) -> bool:
        """Apply one fill (idempotent by execution id). Returns True if it was stored or already known.

        Held fills are retried first so fills are always stored in arrival order. With ``publish`` (live
        301 fills) the new position is published at once, so every intermediate position reaches the
        screen; replays of history (304) pass ``publish=False`` and are published once per chunk.
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
            fill = self._pending[0]
            try:
                self._store_one(fill)
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

    def _store_one(self, fill: Fill) -> None:
        mode = self.mode_of(fill.account)
        key = (mode, fill.account, fill.symbol)
        before = self._positions.get(key)
        instrument = self._instruments.lookup(fill.symbol)
        outcome = apply_fill(before, fill, instrument.point_value)
        try:
            self._store.commit_fill(mode, fill, before, outcome)
        except DuplicateFill:
            log.debug("fill %s already applied; ignored", fill.execution_id)
            return
        # committed: now the cache, then (at publish) the signal
        if outcome.position is None:
            self._positions.pop(key, None)
            self._confirmed.pop(key, None)
        else:
            self._positions[key] = outcome.position
            self._confirmed[key] = True
        self._accounts.setdefault(fill.account, AccountView(fill.account, mode))
        if not self._pinned:
            self._scope = (mode, fill.account)
        self._today_cache = None
        self._last_event = _describe(mode, fill.account, outcome.event.value, outcome.position, fill.symbol)
        if outcome.closed_trade is not None:
            self._last_event += f" · trade P&L {outcome.closed_trade.net_pnl:+.2f}"
        log.info("%s (fill %s)", self._last_event, fill.execution_id)
        self._dirty = True

    # --- broker reports --------------------------------------------------------------------------------

    def on_broker_position(self, account: str, symbol: str, quantity: Decimal, average_price: Decimal) -> None:
        """Sierra Chart's position for (account, symbol) from a POSITION_UPDATE (306); ``quantity`` signed.

        A stored position becomes confirmed when the report agrees with it. A disagreement is kept for the
        reconciliation step and never overwrites the stored position.
        """
        with self._lock:
            key = (self.mode_of(account), account, symbol)
            self._broker[key] = BrokerPosition(quantity, average_price, datetime.now(UTC))
            pos = self._positions.get(key)
            if pos is not None:
                agrees = pos.quantity == quantity
                if agrees and not self._confirmed.get(key):
                    self._confirmed[key] = True
                elif not agrees and self._confirmed.get(key):
                    log.warning(
                        "Sierra Chart reports %s %s qty %s; stored position is %s",
                        account,
                        symbol,
                        quantity,
                        pos.quantity,
                    )
            self._accounts.setdefault(account, AccountView(account, key[0]))
            self._dirty = True

    def on_no_positions(self, account: str) -> None:
        """A 306 with ``NoPositions`` 1: Sierra Chart holds no position in ``account`` (or in any, if empty)."""
        with self._lock:
            for key in list(self._broker):
                if not account or key[1] == account:
                    self._broker[key] = replace(self._broker[key], quantity=Decimal(0))
            self._dirty = True

    def set_accounts(self, accounts: list[tuple[str, bool]]) -> None:
        """The trade accounts Sierra Chart reported (401): (name, trading disabled)."""
        with self._lock:
            for name, disabled in accounts:
                if not name:
                    continue
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
    ) -> None:
        """An ACCOUNT_BALANCE_UPDATE (600) for ``account``; money in ``currency``."""
        with self._lock:
            current = self._accounts.get(account) or AccountView(account, self.mode_of(account))
            self._accounts[account] = replace(
                current,
                cash_balance=cash,
                currency=currency,
                open_pnl=open_pnl,
                daily_pnl=daily_pnl,
                trading_disabled=trading_disabled,
            )
            self._dirty = True

    def on_disconnected(self) -> None:
        """The link dropped: Sierra Chart's reports are no longer current, so every position is unconfirmed
        until the next position report agrees with it."""
        with self._lock:
            self._broker.clear()
            for key in self._confirmed:
                self._confirmed[key] = False
            self._dirty = True

    def set_connection(self, state: ConnectionState, detail: str = "", server: str = "") -> None:
        with self._lock:
            self._connection = ConnectionInfo(state, detail, server or self._connection.server)
            self._dirty = True

    # --- scope -------------------------------------------------------------------------------------------

    def set_scope(self, mode: str, account: str, pinned: bool = True) -> None:
        """Show (mode, account). Never touches any position; the other scopes stay as they are."""
        with self._lock:
            self._scope = (mode, account)
            self._pinned = pinned
            self._dirty = True
        self.publish()

    def follow_latest_fill(self) -> None:
        with self._lock:
            self._pinned = False
            self._dirty = True
        self.publish()

    # --- publication ---------------------------------------------------------------------------------------

    def position(self, mode: str, account: str, symbol: str) -> Position | None:
        with self._lock:
            return self._positions.get((mode, account, symbol))

    def _view(self, key: Key, pos: Position) -> PositionView:
        instrument = self._instruments.lookup(key[2])
        broker = self._broker.get(key)
        return PositionView(
            mode=key[0],
            account=key[1],
            symbol=key[2],
            quantity=pos.quantity,
            avg_entry=pos.avg_entry,
            entry_time=pos.entry_time,
            realized_in_trade=pos.realized_gross,
            commissions=pos.commissions,
            point_value=instrument.point_value,
            point_value_known=instrument.known,
            tick_size=instrument.tick_size,
            confirmed=self._confirmed.get(key, False),
            broker_quantity=broker.quantity if broker else None,
        )

    def _today(self, mode: str, account: str) -> ScopeSummary:
        start = trading_day_start(datetime.now(UTC), *self._session)
        ident = (mode, account, start)
        if self._today_cache is not None and self._today_cache[0] == ident:
            return self._today_cache[1]
        try:
            summary = self._store.summary_since(mode, account, start)
        except StorageError as exc:
            log.error("cannot read today's trades: %s", exc)
            return ScopeSummary()
        result = ScopeSummary(summary.realized_pnl, summary.trades)
        self._today_cache = (ident, result)
        return result

    def snapshot(self) -> AppSnapshot:
        """The current state as an immutable snapshot."""
        with self._lock:
            self._seq += 1
            scope = self._scope
            in_scope: list[PositionView] = []
            other: list[PositionView] = []
            for key, pos in sorted(self._positions.items()):
                view = self._view(key, pos)
                (in_scope if scope and key[:2] == scope else other).append(view)
            broker_only = tuple(
                BrokerOnlyPosition(k[0], k[1], k[2], b.quantity, b.average_price)
                for k, b in sorted(self._broker.items())
                if scope and k[:2] == scope and b.quantity != 0 and k not in self._positions
            )
            today = self._today(*scope) if scope else ScopeSummary()
            return AppSnapshot(
                seq=self._seq,
                scope_mode=scope[0] if scope else None,
                scope_account=scope[1] if scope else None,
                scope_pinned=self._pinned,
                positions=tuple(in_scope),
                broker_only=broker_only,
                other_open=tuple(other),
                accounts=tuple(sorted(self._accounts.values(), key=lambda a: (a.mode, a.account))),
                today=today,
                connection=self._connection,
                storage_error=self._storage_error,
                pending_fills=len(self._pending),
                last_event=self._last_event,
            )

    def publish(self, force: bool = False) -> AppSnapshot | None:
        """Emit ``snapshot_ready`` with a fresh snapshot if anything changed since the last one."""
        with self._lock:
            if not (self._dirty or force):
                return None
            self._dirty = False
            snap = self.snapshot()
        self.snapshot_ready.emit(snap)
        return snap

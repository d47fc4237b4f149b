"""``Publisher``: turns what changed in the state into ``Update``s for the window and other listeners.

The state parts record *what* changed (``Changes``: position keys, marked keys, closed trades, connection,
accounts, …); ``publish`` turns that into one batch of typed events — building a view only for the
positions that changed — or into a full ``AppSnapshot`` when the window must start over (start-up, scope
or period change, statistics loaded). Listeners are plain callables (``subscribe``); the Qt bridge in
``panels/`` is one of them. Nothing here imports Qt, and nothing here costs more with a longer history.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from core import events as ev
from core.accounting import Position
from core.disputed import broker_open_pnl, disputed_view
from core.instruments import POINTS, InstrumentBook
from core.ledger import PositionLedger
from core.marks import Marks
from core.orders import OrderBook
from core.prices import PriceBook
from core.reconcile import Discrepancy, Reconciler
from core.scope import ScopeState
from core.snapshots import AppSnapshot, BrokerOnlyPosition, Notification, PositionView, ScopeSummary
from core.statistics_cache import StatisticsCache
from core.stats import Statistics
from core.units import format_price
from core.views import position_view

log = logging.getLogger(__name__)

Key = tuple[str, str, str]
Listener = Callable[[ev.Update], None]
NOTIFICATIONS_KEPT = 200


@dataclass
class Changes:
    """What changed since the last publication (filled by the state parts, emptied by ``publish``)."""

    positions: dict[Key, bool] = field(default_factory=dict)
    """Keys whose position a fill or a decision changed → True if it was opened (or flipped)."""
    marks: set[Key] = field(default_factory=set)
    trades: bool = False
    notifications: list[tuple[Notification, str]] = field(default_factory=list)
    connection: bool = False
    accounts: bool = False
    reconciliation: bool = False
    storage: bool = False
    full: bool = True
    """The next publication replaces everything (start-up, scope/period change, statistics loaded)."""

    def any(self) -> bool:
        return bool(
            self.full
            or self.positions
            or self.marks
            or self.trades
            or self.notifications
            or self.connection
            or self.accounts
            or self.reconciliation
            or self.storage
        )


class Publisher:
    """Builds updates from the state parts. The caller holds the state lock while calling ``build``."""

    def __init__(
        self,
        ledger: PositionLedger,
        marks: Marks,
        scope: ScopeState,
        reconciler: Reconciler,
        prices: PriceBook,
        instruments: InstrumentBook,
        orders: OrderBook,
        stats: StatisticsCache,
    ) -> None:
        self._ledger = ledger
        self._marks = marks
        self._scope = scope
        self._reconciler = reconciler
        self._prices = prices
        self._instruments = instruments
        self._orders = orders
        self._stats = stats
        self.changes = Changes()
        self.notifications: deque[Notification] = deque(maxlen=NOTIFICATIONS_KEPT)
        self.last_event = ""
        self._listeners: list[Listener] = []
        self._seq = 0
        self._sent_orphans: tuple[str, ...] = ()
        self._sent_storage: tuple[str | None, int] = (None, 0)
        self._sent_reconciliation: object = None
        self._statistics = Statistics()
        self._today_booked = ScopeSummary()
        self._loading = False
        self._sent_presented: set[Key] = set()

    # --- listeners ---------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(update)`` for every update (on the publishing thread; it must not block)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def send(self, update: ev.Update) -> None:
        for listener in list(self._listeners):
            listener(update)

    # --- recording -----------------------------------------------------------------------------------

    def notify(self, kind: str, text: str, last_event: bool = False) -> None:
        note = Notification(datetime.now(UTC), kind, text)
        self.notifications.append(note)
        if last_event:
            self.last_event = text
        self.changes.notifications.append((note, text if last_event else ""))

    # --- views ---------------------------------------------------------------------------------------

    def view(self, key: Key, pos: Position | None) -> PositionView:
        """What the window shows for ``key``: the stored position, or — while a discrepancy is open — Sierra
        Chart's reported one with the panel's beside it (``core/disputed.py``)."""
        broker = self._reconciler.broker.get(key)
        found = self._reconciler.discrepancies.get(key)
        if found is not None or pos is None:
            assert found is not None, "a view needs a stored position or an open discrepancy"
            instrument = self._instruments.lookup(key[2])
            return disputed_view(
                key,
                pos,
                found,
                instrument,
                self._prices.best(key[2]),
                broker_entry=broker.entry_time if broker else None,
                pnl_unit=instrument.pnl_unit(self._scope.currency_of(key[1])),
            )
        return position_view(
            key,
            pos,
            self._instruments.lookup(key[2]),
            self._prices.best(key[2]),
            confirmed=self._reconciler.confirmed.get(key, False),
            broker_quantity=broker.quantity if broker else None,
            heat_since=self._marks.heat_since.get(key),
            pnl_unit=self._instruments.lookup(key[2]).pnl_unit(self._scope.currency_of(key[1])),
        )

    def _orphans(self) -> tuple[str, ...]:
        open_keys = {(k[1], k[2]) for k in self._ledger.positions}
        return tuple(
            f"{o.account} {o.symbol}: {'stop' if o.is_stop else 'target'} "
            f"{'buy' if o.side > 0 else 'sell'} @ {format_price(o.price, self._instruments.lookup(o.symbol).tick_size)}"
            " working on a flat position"
            for o in self._orders.orphans(open_keys)
        )

    def _broker_only(self) -> tuple[BrokerOnlyPosition, ...]:
        scope = self._scope.scope
        return tuple(
            BrokerOnlyPosition(k[0], k[1], k[2], b.quantity, b.average_price)
            for k, b in sorted(self._reconciler.broker.items())
            if scope
            and k[:2] == scope
            and b.quantity != 0
            and k not in self._ledger.positions
            and k not in self._reconciler.discrepancies  # shown as the position itself
        )

    def _presented(self) -> list[Key]:
        """The keys the window shows a position for: stored positions and open discrepancies."""
        return sorted(self._ledger.positions.keys() | self._reconciler.discrepancies.keys())

    def _open_pnl(self) -> tuple[Decimal | None, tuple[str, ...]]:
        """The scope's open P&L in the account currency at the last prices (``None`` without any price), and
        the positions left out because their P&L is in points or another currency."""
        scope = self._scope.scope
        values = []
        excluded = []
        for key in self._presented():
            if scope and key[:2] == scope:
                found = self._reconciler.discrepancies.get(key)
                if found is not None and found.broker_quantity == 0:
                    continue  # Sierra Chart reports flat: no open P&L
                instrument = self._instruments.lookup(key[2])
                unit = instrument.pnl_unit(self._scope.currency_of(key[1]))
                if unit:
                    excluded.append(f"{key[2]} ({'points' if unit == POINTS else unit})")
                    continue
                best = self._prices.best(key[2])
                if best is not None and found is not None:
                    values.append(broker_open_pnl(found, best[0].price, instrument.point_value))
                elif best is not None:
                    values.append(self._ledger.positions[key].open_pnl(best[0].price, instrument.point_value))
        return (sum(values, Decimal(0)) if values else None), tuple(excluded)

    # --- building ------------------------------------------------------------------------------------

    def snapshot(self) -> AppSnapshot:
        """Everything, now (start-up, scope or period change), with the next sequence number. Statistics may
        still be loading."""
        self._seq += 1
        self._stats.reshow = False
        scope = self._scope.scope
        in_scope: list[PositionView] = []
        other: list[PositionView] = []
        presented = self._presented()
        self._sent_presented = set(presented)
        for key in presented:
            (in_scope if scope and key[:2] == scope else other).append(self.view(key, self._ledger.positions.get(key)))
        figures = self._stats.figures(scope[0], scope[1], self._scope.period) if scope else None
        self._loading = scope is not None and figures is None
        open_pnl, excluded = self._open_pnl()
        today = self._today_booked = figures.today if figures else ScopeSummary()
        self._statistics = figures.statistics if figures else Statistics()
        self._sent_orphans = self._orphans()
        self._sent_storage = self._storage()
        self._sent_reconciliation = self._reconciliation_key()
        return AppSnapshot(
            seq=self._seq,
            scope_mode=scope[0] if scope else None,
            scope_account=scope[1] if scope else None,
            scope_pinned=self._scope.pinned,
            positions=tuple(in_scope),
            broker_only=self._broker_only(),
            other_open=tuple(other),
            accounts=self._scope.account_views(),
            today=ScopeSummary(today.realized_pnl, today.trades, open_pnl, excluded),
            period=self._scope.period.value,
            statistics=self._statistics,
            trades=figures.trades if figures else (),
            connection=self._scope.connection,
            storage_error=self._sent_storage[0],
            pending_fills=self._ledger.held,
            last_event=self.last_event,
            notifications=tuple(self.notifications),
            equity_curve=figures.equity_curve if figures else (),
            equity_source=figures.equity_source if figures else "",
            orphan_orders=self._sent_orphans,
            discrepancies=self._discrepancies(),
            positions_status=self._reconciler.status,
            statistics_loading=self._loading,
            decision_results=tuple(self._reconciler.results),
        )

    def _discrepancies(self) -> tuple[Discrepancy, ...]:
        return tuple(d for _, d in sorted(self._reconciler.discrepancies.items()))

    def _full(self) -> ev.Update:
        snap = self.snapshot()
        return ev.Update(snap.seq, datetime.now(UTC), snapshot=snap)

    def _reconciliation_key(self) -> object:
        return (
            self._discrepancies(),
            self._reconciler.status,
            self._broker_only(),
            tuple(sorted(self._reconciler.confirmed.items())),
            tuple(self._reconciler.results),
        )

    def build(self) -> ev.Update | None:
        """The update for what changed since the last one (``None`` if nothing did); clears ``changes``."""
        changes, self.changes = self.changes, Changes(full=False)
        if not changes.any() and self._orphans() == self._sent_orphans:
            return None
        scope = self._scope.scope
        loaded = self._loading and scope is not None and self._stats.ready(scope[0], scope[1], self._scope.period)
        if changes.full or loaded:
            return self._full()
        out: list[ev.Event] = []
        positions = self._ledger.positions
        confirmation_changed = False
        if changes.reconciliation:
            key = self._reconciliation_key()
            if key != self._sent_reconciliation:
                self._sent_reconciliation = key
                confirmation_changed = True
                out.append(
                    ev.ReconciliationChanged(
                        self._discrepancies(),
                        self._reconciler.status,
                        self._broker_only(),
                        tuple(self._reconciler.results),
                    )
                )
        presented = set(self._presented())
        before, self._sent_presented = self._sent_presented, presented
        for key, opened in changes.positions.items():
            if key not in presented:
                out.append(ev.PositionClosed(*key))
            elif opened:
                out.append(ev.PositionOpened(self.view(key, positions.get(key))))
            else:
                out.append(ev.PositionChanged(self.view(key, positions.get(key))))
        for key in sorted((presented ^ before) - changes.positions.keys()):  # a discrepancy opened or closed
            if key in presented:
                out.append(ev.PositionOpened(self.view(key, positions.get(key))))
            else:
                out.append(ev.PositionClosed(*key))
        marked = changes.marks - changes.positions.keys()
        if confirmation_changed:  # the confirmed flag (and a disputed position's figures) are part of every view
            marked |= (presented & before) - changes.positions.keys()
        views = tuple(self.view(k, positions.get(k)) for k in sorted(marked) if k in presented)
        if views:
            out.append(ev.MarksUpdated(views))
        today_changed = bool(changes.positions or views)
        if (changes.trades or changes.positions) and scope is not None and not self._loading:
            # a fill: new trades, and today's realized P&L (partial exits count while the trade is open)
            increment = self._stats.refresh(scope[0], scope[1], self._scope.period, trades=changes.trades)
            if increment is None or self._stats.reshow:  # the history must be read (or drawn) again
                return self._full()
            self._today_booked = increment.today
            if increment.rows or increment.equity:
                self._statistics = increment.statistics
                out.append(ev.TradesClosed(scope[0], scope[1], increment.rows, increment.statistics, increment.equity))
            today_changed = True
        if today_changed and scope is not None:
            out.append(ev.TodayChanged(self._today()))
        out.extend(ev.NotificationAdded(note, last) for note, last in changes.notifications)
        if changes.connection:
            out.append(ev.ConnectionChanged(self._scope.connection))
        if changes.accounts:
            out.append(ev.BalanceUpdated(self._scope.account_views()))
        orphans = self._orphans()  # working orders are few: compared every time
        if orphans != self._sent_orphans:
            self._sent_orphans = orphans
            out.append(ev.OrdersChanged(orphans))
        storage = self._storage()
        if storage != self._sent_storage:
            self._sent_storage = storage
            out.append(ev.StorageChanged(*storage))
        if not out:
            return None
        self._seq += 1
        return ev.Update(self._seq, datetime.now(UTC), events=tuple(out))

    def _storage(self) -> tuple[str | None, int]:
        """(the database error the window shows — a refused write first, else a failed read — held fills)."""
        return (self._ledger.storage_error or self._stats.read_error, self._ledger.held)

    def _today(self) -> ScopeSummary:
        return ScopeSummary(self._today_booked.realized_pnl, self._today_booked.trades, *self._open_pnl())

"""What the window shows, kept current from the core's events.

``ViewState`` starts from a full ``AppSnapshot`` and applies each batch of events (``core.events``) to it:
the result is again an ``AppSnapshot`` the panels render, built with ``dataclasses.replace`` so its cost is
the number of open positions, not the number of trades. Closed trades and equity points are not copied
into it: they are handed out (``Applied.trades``/``Applied.equity``) for the trades table and the chart to
append. Pure bookkeeping — no figure is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core import events as ev
from core.snapshots import AppSnapshot, EquityPoint, PositionView, TradeRow

Key = tuple[str, str, str]
NOTIFICATIONS_SHOWN = 200


@dataclass
class Applied:
    """What one batch changed besides the snapshot: rows for the trades table, points for the chart."""

    trades: list[TradeRow] = field(default_factory=list)
    equity: list[EquityPoint] = field(default_factory=list)
    positions_changed: bool = False


class ViewState:
    """The window's current ``AppSnapshot`` and its open positions by key."""

    def __init__(self) -> None:
        self.snapshot: AppSnapshot | None = None
        self._views: dict[Key, PositionView] = {}

    def reset(self, snap: AppSnapshot) -> None:
        self.snapshot = snap
        self._views = {(v.mode, v.account, v.symbol): v for v in (*snap.positions, *snap.other_open)}

    def apply(self, update: ev.Update) -> Applied | None:
        """Apply a batch of events; ``None`` if there is no snapshot yet or the update is older."""
        snap = self.snapshot
        if snap is None or update.seq <= snap.seq:
            return None
        out = Applied()
        changes: dict[str, object] = {"seq": update.seq}
        views_changed = False
        for event in update.events:
            match event:
                case ev.PositionOpened(view) | ev.PositionChanged(view):
                    self._views[(view.mode, view.account, view.symbol)] = view
                    views_changed = out.positions_changed = True
                case ev.PositionClosed(mode, account, symbol):
                    self._views.pop((mode, account, symbol), None)
                    views_changed = out.positions_changed = True
                case ev.MarksUpdated(views):
                    for view in views:
                        self._views[(view.mode, view.account, view.symbol)] = view
                    views_changed = True
                case ev.TradesClosed(mode, account, rows, statistics, equity):
                    if (mode, account) == (snap.scope_mode, snap.scope_account):
                        out.trades.extend(rows)
                        out.equity.extend(equity)
                        changes["statistics"] = statistics
                case ev.TodayChanged(today):
                    changes["today"] = today
                case ev.BalanceUpdated(accounts, equity):
                    changes["accounts"] = accounts
                    out.equity.extend(equity)
                case ev.ConnectionChanged(connection):
                    changes["connection"] = connection
                case ev.NotificationAdded(note, last_event):
                    notes = changes.get("notifications", snap.notifications)
                    assert isinstance(notes, tuple)
                    changes["notifications"] = (*notes, note)[-NOTIFICATIONS_SHOWN:]
                    if last_event:
                        changes["last_event"] = last_event
                case ev.ReconciliationChanged(discrepancies, status, broker_only, decision_results):
                    changes["discrepancies"] = discrepancies
                    changes["positions_status"] = status
                    changes["broker_only"] = broker_only
                    changes["decision_results"] = decision_results
                case ev.OrdersChanged(orphans):
                    changes["orphan_orders"] = orphans
                case ev.StorageChanged(error, pending):
                    changes["storage_error"] = error
                    changes["pending_fills"] = pending
        if views_changed:
            scope = (snap.scope_mode, snap.scope_account)
            in_scope, other = [], []
            for key in sorted(self._views):
                (in_scope if key[:2] == scope else other).append(self._views[key])
            changes["positions"] = tuple(in_scope)
            changes["other_open"] = tuple(other)
        self.snapshot = replace(snap, **changes)  # type: ignore[arg-type]
        return out

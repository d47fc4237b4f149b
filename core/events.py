"""Typed, past-tense events the core publishes to the window (and to anything else that listens).

The core publishes ``Update``s through a plain callback (no Qt here): an ``Update`` holds either a full
``AppSnapshot`` (start-up, a scope or period change, statistics finished loading) or a batch of small
events that happened since the previous update — at most one batch per received chunk of DTC data, and
at most ~30 a second for prices. Applying a batch costs the receiver work proportional to what changed,
never to the number of stored trades.

Every type is frozen and holds only immutable values: updates cross threads by reference.
Money in account currency, prices in points, times UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.reconcile import DecisionResult, Discrepancy
from core.snapshots import (
    AccountView,
    AppSnapshot,
    BrokerOnlyPosition,
    ConnectionInfo,
    EquityPoint,
    Notification,
    PositionView,
    ScopeSummary,
    TradeRow,
)
from core.stats import Statistics


@dataclass(frozen=True)
class PositionOpened:
    """A position was opened (from flat, or the new side of a flip) and is stored."""

    view: PositionView


@dataclass(frozen=True)
class PositionChanged:
    """A stored position changed size, entry, bracket or price-derived figures."""

    view: PositionView


@dataclass(frozen=True)
class PositionClosed:
    """The position of (mode, account, symbol) is flat (a fill closed it, or the trader's decision)."""

    mode: str
    account: str
    symbol: str


@dataclass(frozen=True)
class MarksUpdated:
    """New prices changed the open P&L, excursions or heat of these positions (≤ ~30 per second)."""

    views: tuple[PositionView, ...]


@dataclass(frozen=True)
class TradesClosed:
    """Trades of the displayed scope and period closed; ``rows`` oldest exit first. ``statistics`` are the
    period's statistics after them (folded in O(1) per trade); ``equity`` the points to append to the curve
    when it is drawn from closed trades (empty when the curve comes from balances)."""

    mode: str
    account: str
    rows: tuple[TradeRow, ...]
    statistics: Statistics
    equity: tuple[EquityPoint, ...]


@dataclass(frozen=True)
class TodayChanged:
    """Today's figures of the displayed scope (realized since the session start, open, trade count)."""

    today: ScopeSummary


@dataclass(frozen=True)
class BalanceUpdated:
    """Sierra Chart's account figures (600), or the accounts it reported (401), changed."""

    accounts: tuple[AccountView, ...]
    equity: tuple[EquityPoint, ...] = ()
    """Points to append to a balance-drawn equity curve of the displayed scope."""


@dataclass(frozen=True)
class ConnectionChanged:
    connection: ConnectionInfo


@dataclass(frozen=True)
class NotificationAdded:
    notification: Notification
    last_event: str = ""
    """The one-line description of the latest position change, when this notification is one."""


@dataclass(frozen=True)
class ReconciliationChanged:
    """Discrepancies found or resolved, or where reconciliation stands changed."""

    discrepancies: tuple[Discrepancy, ...]
    status: str
    broker_only: tuple[BrokerOnlyPosition, ...]
    decision_results: tuple[DecisionResult, ...] = ()
    """What became of the trader's latest decisions (newest last)."""


@dataclass(frozen=True)
class OrdersChanged:
    """The stops/targets left working on flat positions changed."""

    orphan_orders: tuple[str, ...]


@dataclass(frozen=True)
class StorageChanged:
    """The database refused writes (``error``; fills held) or recovered (``None``)."""

    error: str | None
    pending_fills: int


Event = (
    PositionOpened
    | PositionChanged
    | PositionClosed
    | MarksUpdated
    | TradesClosed
    | TodayChanged
    | BalanceUpdated
    | ConnectionChanged
    | NotificationAdded
    | ReconciliationChanged
    | OrdersChanged
    | StorageChanged
)


@dataclass(frozen=True)
class Update:
    """One publication. ``seq`` increases with every update; ``snapshot`` is set for a full replacement,
    otherwise ``events`` happened since the previous update (in order)."""

    seq: int
    time: datetime
    events: tuple[Event, ...] = ()
    snapshot: AppSnapshot | None = None

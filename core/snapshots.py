"""Immutable snapshots that ``StateManager`` publishes and the panels render.

They cross from the DTC thread to the GUI thread by reference, so every type here is frozen and holds only
immutable values (tuples, Decimals, strings, datetimes). Money in account currency, prices in points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from core.reconcile import DecisionResult, Discrepancy
from core.stats import Statistics
from core.units import ticks


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    LOGGING_ON = "logging on"
    SYNCING = "syncing"
    SYNCED = "synced"
    STALE = "stale"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ConnectionInfo:
    state: ConnectionState = ConnectionState.DISCONNECTED
    detail: str = ""
    server: str = ""
    data_age_seconds: float | None = None
    """Seconds since anything (data or heartbeat) arrived from Sierra Chart; ``None`` when not connected."""


@dataclass(frozen=True)
class PositionView:
    """One open position as Panel2 shows it.

    ``quantity`` signed contracts; ``avg_entry`` points; ``open_pnl`` account currency at ``last_price``
    (``None`` without a price); ``realized_in_trade`` gross P&L already realized by partial exits of this
    trade; ``confirmed`` is False for a recovered position until Sierra Chart's position report agrees.
    """

    mode: str
    account: str
    symbol: str
    quantity: Decimal
    avg_entry: Decimal
    entry_time: datetime
    realized_in_trade: Decimal
    commissions: Decimal
    point_value: Decimal
    point_value_known: bool
    tick_size: Decimal
    last_price: Decimal | None = None
    last_price_time: datetime | None = None
    last_price_source: str = ""
    last_price_stale: bool = False
    open_pnl: Decimal | None = None
    open_points: Decimal | None = None
    """Price move in the position's favour since the average entry, in points per contract."""
    confirmed: bool = True
    broker_quantity: Decimal | None = None
    mae: Decimal = Decimal(0)
    mfe: Decimal = Decimal(0)
    mae_points: Decimal | None = None
    """Worst price distance from the average entry of its moment over the trade, points (≤ 0)."""
    mfe_points: Decimal | None = None
    """Best price distance from the average entry of its moment over the trade, points (≥ 0)."""
    stop_price: Decimal | None = None
    target_price: Decimal | None = None
    stop_distance: Decimal | None = None
    """Points from the last price to the working stop (positive while the stop is not hit)."""
    target_distance: Decimal | None = None
    initial_risk: Decimal | None = None
    live_r: Decimal | None = None
    """Trade P&L so far (realized + open, net of commissions) in units of the initial risk."""
    entry_vwap: Decimal | None = None
    entry_cum_delta: Decimal | None = None
    entry_poc: Decimal | None = None
    live_vwap: Decimal | None = None
    live_cum_delta: Decimal | None = None
    live_poc: Decimal | None = None
    heat_since: datetime | None = None
    """When the open P&L last turned negative (the position is "in heat" since); ``None`` if not negative."""
    pnl_unit: str = ""
    """What the money fields are in: "" the account currency; "pt" points × contracts (the point value is
    unknown); else the symbol's currency code. Only "" positions are added into the account's totals."""
    disputed: bool = False
    """An open discrepancy: ``quantity``/``avg_entry`` are Sierra Chart's reported position (0 = flat); the
    panel's own figure is ``panel_quantity`` @ ``panel_avg_entry`` (``core/disputed.py``)."""
    panel_quantity: Decimal | None = None
    panel_avg_entry: Decimal | None = None

    @property
    def side(self) -> str:
        if self.quantity == 0:
            return "FLAT"
        return "LONG" if self.quantity > 0 else "SHORT"

    @property
    def open_ticks(self) -> Decimal | None:
        """``open_points`` in ticks of the instrument."""
        return ticks(self.open_points, self.tick_size)

    @property
    def mae_ticks(self) -> Decimal | None:
        return ticks(self.mae_points, self.tick_size)

    @property
    def mfe_ticks(self) -> Decimal | None:
        return ticks(self.mfe_points, self.tick_size)

    @property
    def stop_distance_ticks(self) -> Decimal | None:
        return ticks(self.stop_distance, self.tick_size)

    @property
    def target_distance_ticks(self) -> Decimal | None:
        return ticks(self.target_distance, self.tick_size)


@dataclass(frozen=True)
class BrokerOnlyPosition:
    """A position Sierra Chart reports (306) that no stored fill explains (first contact, or outside fills)."""

    mode: str
    account: str
    symbol: str
    quantity: Decimal
    average_price: Decimal


@dataclass(frozen=True)
class AccountView:
    """A trade account Sierra Chart reported (401), its mode and the latest balance (600), if any."""

    account: str
    mode: str
    trading_disabled: bool = False
    cash_balance: Decimal | None = None
    currency: str = ""
    open_pnl: Decimal | None = None
    daily_pnl: Decimal | None = None
    available_funds: Decimal | None = None
    """``BalanceAvailableForNewPositions`` (cash minus margin in use)."""
    margin_requirement: Decimal | None = None


@dataclass(frozen=True)
class ScopeSummary:
    """Today's (trading day) figures for the displayed scope, account currency: realized — what every fill
    since the session start realized, partial exits of open trades included, less their commissions — the
    number of trades closed today, the open P&L of the scope's positions at their last prices, and the
    total (realized + open)."""

    realized_pnl: Decimal = Decimal(0)
    trades: int = 0
    open_pnl: Decimal | None = None
    excluded: tuple[str, ...] = ()
    """Open positions left out of ``open_pnl`` because their P&L is not in the account currency, as
    ``MES (points)`` / ``FDAX (EUR)``."""

    @property
    def total_pnl(self) -> Decimal:
        return self.realized_pnl + (self.open_pnl or Decimal(0))


@dataclass(frozen=True)
class TradeRow:
    """One closed trade as Panel3's list shows it (money in account currency, efficiency a fraction).

    ``mae``/``mfe``: the trade's P&L (realized so far + open, gross) at its worst/best while open;
    ``mae_points``/``mfe_points``: the worst/best price distance from the average entry of its moment;
    ``tick_size`` points (``None`` for trades stored before it was kept)."""

    symbol: str
    side: str
    quantity: Decimal
    entry_time: datetime
    exit_time: datetime
    entry_price: Decimal
    exit_price: Decimal
    net_pnl: Decimal
    mae: Decimal | None
    mfe: Decimal | None
    total_efficiency: Decimal | None
    r_multiple: Decimal | None
    mae_points: Decimal | None = None
    mfe_points: Decimal | None = None
    tick_size: Decimal | None = None
    pnl_unit: str = ""
    """What ``net_pnl``, ``mae``, ``mfe`` are in: "" the account currency, "pt" points × contracts (point value
    unknown), else a currency code; only "" trades are in the statistics."""
    sierra: str = ""
    """Against Sierra Chart's own trade list: "" not compared, "imported" (taken from it: closed before the panel
    first saw the account), "agrees", "differs" (see Differences with Sierra Chart)."""
    commissions: Decimal | None = None
    """The trade's commissions (entry and exit), in ``pnl_unit``; ``net_pnl`` is after them."""

    @property
    def mae_ticks(self) -> Decimal | None:
        return ticks(self.mae_points, self.tick_size)

    @property
    def mfe_ticks(self) -> Decimal | None:
        return ticks(self.mfe_points, self.tick_size)


@dataclass(frozen=True)
class Notification:
    """One entry of the in-window feed. ``kind``: opened, increased, decreased, flipped, closed, reconciled,
    stale, warning, error."""

    time: datetime
    kind: str
    text: str


@dataclass(frozen=True)
class EquityPoint:
    time: datetime
    value: Decimal


@dataclass(frozen=True)
class AppSnapshot:
    """Everything the window shows, at one instant. ``seq`` increases with every publication."""

    seq: int
    scope_mode: str | None
    scope_account: str | None
    scope_pinned: bool
    positions: tuple[PositionView, ...]
    broker_only: tuple[BrokerOnlyPosition, ...]
    other_open: tuple[PositionView, ...]
    accounts: tuple[AccountView, ...]
    today: ScopeSummary
    period: str
    statistics: Statistics
    trades: Sequence[TradeRow]
    """The period's closed trades, oldest exit first (an immutable sequence; rows may be built on access)."""
    connection: ConnectionInfo
    storage_error: str | None
    pending_fills: int
    last_event: str
    notifications: tuple[Notification, ...] = ()
    """Newest last; at most the last 200."""
    equity_curve: tuple[EquityPoint, ...] = ()
    """LIVE: account value (``SecuritiesValue``, else cash) from balance updates; SIM: cumulative net P&L of
    closed trades. Covers the chosen period."""
    equity_source: str = ""
    orphan_orders: tuple[str, ...] = ()
    """Descriptions of stops/targets working on a flat position."""
    discrepancies: tuple[Discrepancy, ...] = ()
    """Stored positions Sierra Chart's report does not explain, waiting for the trader's decision."""
    positions_status: str = ""
    """Where reconciliation stands: confirmed, waiting, unknown (with the reason), not available …"""
    statistics_loading: bool = False
    """The period's statistics and trades are being read in the background (``statistics``/``trades`` empty)."""
    decision_results: tuple[DecisionResult, ...] = ()
    """What became of the trader's latest reconciliation decisions, newest last."""

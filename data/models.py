"""SQLModel tables (ARCHITECTURE §5). Every row is keyed by (mode, account, symbol); times are UTC.

Units: quantities in contracts (signed where named ``qty``/``quantity`` on positions and fills), prices in
points, money in account currency. Decimals are stored as exact text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from data.types import DecimalText, UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class OpenPosition(SQLModel, table=True):
    """One row per open (mode, account, symbol): the single source of truth for open positions.

    ``qty`` signed contracts; ``entry_price`` average entry (points); ``cost_basis`` Σ price × signed qty
    of the open contracts (exact, from which ``entry_price`` derives); trade running totals in account
    currency (``realized_gross``, ``commissions``) and contracts.
    """

    __table_args__ = (UniqueConstraint("mode", "account", "symbol", name="uq_openposition_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=8)
    account: str = Field(max_length=64)
    symbol: str = Field(max_length=64)
    qty: Decimal = Field(sa_type=DecimalText)
    side: str = Field(max_length=8)
    entry_price: Decimal = Field(sa_type=DecimalText)
    cost_basis: Decimal = Field(sa_type=DecimalText)
    entry_time: datetime = Field(sa_type=UTCDateTime)
    opened_quantity: Decimal = Field(sa_type=DecimalText)
    opened_value: Decimal = Field(sa_type=DecimalText)
    closed_quantity: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    closed_value: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    realized_gross: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    commissions: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    max_quantity: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    trade_min_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    trade_max_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    target_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    stop_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    entry_vwap: Decimal | None = Field(default=None, sa_type=DecimalText)
    entry_cum_delta: Decimal | None = Field(default=None, sa_type=DecimalText)
    entry_poc: Decimal | None = Field(default=None, sa_type=DecimalText)
    last_fill_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    mae: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Lowest trade P&L (realized so far + open, gross) reached while open; ≤ 0, account currency."""
    mfe: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Highest trade P&L reached while open; ≥ 0, account currency."""
    initial_quantity: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Contracts of the order that opened the trade (the size the initial risk applies to)."""
    initial_entry: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Average price of the fills of the opening order (points)."""
    mae_points: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Worst price distance from the average entry of its moment, points (≤ 0)."""
    mfe_points: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Best price distance from the average entry of its moment, points (≥ 0)."""
    opening_order_id: str = Field(default="", max_length=64)
    """``ServerOrderID`` of the order that opened the trade."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TradeRecord(SQLModel, table=True):
    """A closed flat-to-flat trade. ``realized_pnl`` is net of ``commissions`` (account currency)."""

    __table_args__ = (
        Index("ix_traderecord_scope_exit", "mode", "account", "exit_time"),
        Index("uq_traderecord_sierra_key", "mode", "account", "sierra_key", unique=True),
    )
    # MAE/MFE: lowest/highest trade P&L (realized so far + open, gross, account currency) while open.
    # Efficiencies (Sierra Chart's): range = mfe − mae; entry = mfe/range; exit = (gross − mae)/range;
    # total = gross/range, as fractions; None when the range is zero. R = realized_pnl / initial_risk.

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=8)
    account: str = Field(max_length=64)
    symbol: str = Field(max_length=64)
    side: str = Field(max_length=8)
    qty: Decimal = Field(sa_type=DecimalText)
    max_qty: Decimal = Field(sa_type=DecimalText)
    entry_price: Decimal = Field(sa_type=DecimalText)
    exit_price: Decimal = Field(sa_type=DecimalText)
    entry_time: datetime = Field(sa_type=UTCDateTime)
    exit_time: datetime = Field(sa_type=UTCDateTime)
    gross_pnl: Decimal = Field(sa_type=DecimalText)
    commissions: Decimal = Field(sa_type=DecimalText)
    realized_pnl: Decimal = Field(sa_type=DecimalText)
    point_value: Decimal = Field(sa_type=DecimalText)
    trade_min_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    trade_max_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    mae: Decimal | None = Field(default=None, sa_type=DecimalText)
    mfe: Decimal | None = Field(default=None, sa_type=DecimalText)
    exit_reason: str = Field(default="fill", max_length=32)
    stop_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    """The stop working when the trade opened (points); ``None`` if there was none."""
    target_price: Decimal | None = Field(default=None, sa_type=DecimalText)
    initial_risk: Decimal | None = Field(default=None, sa_type=DecimalText)
    r_multiple: Decimal | None = Field(default=None, sa_type=DecimalText)
    entry_efficiency: Decimal | None = Field(default=None, sa_type=DecimalText)
    exit_efficiency: Decimal | None = Field(default=None, sa_type=DecimalText)
    total_efficiency: Decimal | None = Field(default=None, sa_type=DecimalText)
    entry_vwap: Decimal | None = Field(default=None, sa_type=DecimalText)
    entry_cum_delta: Decimal | None = Field(default=None, sa_type=DecimalText)
    entry_poc: Decimal | None = Field(default=None, sa_type=DecimalText)
    mae_points: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Worst price distance from the average entry of its moment over the trade, points (≤ 0)."""
    mfe_points: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Best price distance from the average entry of its moment over the trade, points (≥ 0)."""
    tick_size: Decimal | None = Field(default=None, sa_type=DecimalText)
    """The instrument's tick when the trade closed (points), for MAE/MFE in ticks."""
    pnl_unit: str = Field(default="", max_length=8)
    """What the money columns are in: "" the account currency; "pt" points × contracts (point value unknown);
    else the symbol's currency code. Only "" trades enter the statistics."""
    sierra: str = Field(default="", max_length=16)
    """Sierra Chart's trade list (issue 15): "" not compared, "imported" a trade Sierra Chart reported that closed
    before the panel first saw the account (no fills or positions behind it), "agrees" / "differs" the result
    of comparing a trade computed from fills with Sierra Chart's."""
    sierra_key: str | None = Field(default=None, max_length=240)
    """An imported trade's identity in Sierra Chart's list (unique per mode and account): never imported twice."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SierraDifference(SQLModel, table=True):
    """A difference between a trade computed by the panel and Sierra Chart's own trade list (issue 15).

    ``kind``: "differs" (``field`` differs: ``panel_value`` vs ``sierra_value``, as exact text in the field's
    unit — points, contracts or account currency), "sierra_only" (Sierra Chart lists a trade the panel lacks),
    "panel_only" (the reverse). ``key`` identifies the difference per (mode, account): found again on a later
    check, it is not listed twice; once a later check finds it agreeing, the row is removed (the audit log keeps
    both: ``PositionEvent`` kinds ``sierra_differs``/``sierra_only``/``panel_only`` and ``sierra_resolved``).
    Times UTC."""

    __table_args__ = (UniqueConstraint("mode", "account", "key", name="uq_sierradifference_key"),)

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=8)
    account: str = Field(max_length=64)
    symbol: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    field: str = Field(default="", max_length=32)
    panel_value: str | None = Field(default=None, max_length=64)
    sierra_value: str | None = Field(default=None, max_length=64)
    entry_time: datetime = Field(sa_type=UTCDateTime)
    exit_time: datetime = Field(sa_type=UTCDateTime)
    trade_id: int | None = Field(default=None)
    key: str = Field(max_length=240)
    found_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FillRecord(SQLModel, table=True):
    """Every fill ever applied; ``execution_id`` is unique per (mode, account), which makes replays safe."""

    __table_args__ = (
        UniqueConstraint("mode", "account", "execution_id", name="uq_fillrecord_execution"),
        Index("ix_fillrecord_scope_time", "mode", "account", "symbol", "time"),
        Index("ix_fillrecord_account_time", "mode", "account", "time"),
        Index("ix_fillrecord_order", "mode", "account", "server_order_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=8)
    account: str = Field(max_length=64)
    symbol: str = Field(max_length=64)
    execution_id: str = Field(max_length=96)
    server_order_id: str = Field(default="", max_length=64)
    quantity: Decimal = Field(sa_type=DecimalText)
    price: Decimal = Field(sa_type=DecimalText)
    commission: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    time: datetime = Field(sa_type=UTCDateTime)
    source: str = Field(default="301", max_length=8)
    realized_gross: Decimal | None = Field(default=None, sa_type=DecimalText)
    """Gross P&L this fill realized (in ``pnl_unit``; 0 for an opening fill); ``None`` if unknown."""
    pnl_unit: str = Field(default="", max_length=8)
    """What ``realized_gross`` and ``commission`` are in: "" the account currency, "pt", or a currency code."""
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PositionEvent(SQLModel, table=True):
    """Append-only audit of every position change, with the reason and the message that caused it."""

    __table_args__ = (Index("ix_positionevent_scope_at", "mode", "account", "symbol", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    mode: str = Field(max_length=8)
    account: str = Field(max_length=64)
    symbol: str = Field(max_length=64)
    kind: str = Field(max_length=24)
    quantity_before: Decimal = Field(sa_type=DecimalText)
    quantity_after: Decimal = Field(sa_type=DecimalText)
    avg_entry_after: Decimal | None = Field(default=None, sa_type=DecimalText)
    realized: Decimal = Field(default=Decimal(0), sa_type=DecimalText)
    reason: str = Field(default="fill", max_length=32)
    source: str = Field(default="", max_length=128)


class AccountBalance(SQLModel, table=True):
    """ACCOUNT_BALANCE_UPDATE (600) history, for the LIVE equity curve; money in ``currency``."""

    __table_args__ = (Index("ix_accountbalance_account_time", "account", "time"),)

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=8)
    account: str = Field(max_length=64)
    time: datetime = Field(sa_type=UTCDateTime)
    cash_balance: Decimal | None = Field(default=None, sa_type=DecimalText)
    securities_value: Decimal | None = Field(default=None, sa_type=DecimalText)
    daily_pnl: Decimal | None = Field(default=None, sa_type=DecimalText)
    currency: str = Field(default="", max_length=8)


class TradeAccount(SQLModel, table=True):
    """A trade account Sierra Chart reported, and when this panel first saw it (UTC).

    History (304) is only ever requested from ``first_seen`` on: fills from before it could start in the
    middle of a position; positions opened before it come from Sierra Chart's position report.
    """

    account: str = Field(primary_key=True, max_length=64)
    mode: str = Field(max_length=8)
    first_seen: datetime = Field(sa_type=UTCDateTime)
    history_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Every fill of the account up to this fill time (UTC, Sierra Chart's) is stored: the newest stored fill
    when the last history answer was complete and stored. The next history request starts here."""
    sierra_checked_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sierra_checked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Every trade that exited between these (UTC; the start asked for and when the request was sent) has been
    compared with Sierra Chart's trade list (HISTORICAL_TRADES_RESPONSE 10102) and stored: the next logon asks
    Sierra Chart only for what is newer (``core.sierra_trades``). Both ``None`` until the first complete answer."""


class TradeDaySummary(SQLModel, table=True):
    """The statistics of one (mode, account)'s closed trades that exited on one UTC calendar day, folded
    (``core.day_summary``), so a long period's statistics read a few hundred of these instead of every trade.

    ``summary`` is JSON written and read only by ``core.day_summary`` (Decimals as exact text). A cache: any
    row can be dropped and is computed again from ``traderecord``; ``TradeSummaryMark`` says up to which trade
    id the rows of a scope are complete."""

    mode: str = Field(primary_key=True, max_length=8)
    account: str = Field(primary_key=True, max_length=64)
    day: str = Field(primary_key=True, max_length=10)
    """``YYYY-MM-DD``, the UTC date of the trades' ``exit_time``."""
    summary: str


class TradeSummaryMark(SQLModel, table=True):
    """Every trade of (mode, account) with ``id`` ≤ ``covered_id`` is in its ``TradeDaySummary`` rows. Trades are
    only ever inserted (never changed or deleted), so the days of trades with a larger id are the only ones to
    fold again."""

    mode: str = Field(primary_key=True, max_length=8)
    account: str = Field(primary_key=True, max_length=64)
    covered_id: int = 0


class HeldTrade(SQLModel, table=True):
    """A trade that fills closed while Sierra Chart's report contradicted the panel's position (an open
    discrepancy, issue 13): stored, but not a ``TradeRecord`` — not in any statistics — until the discrepancy
    resolves. Released into ``traderecord`` when Sierra Chart's report comes to agree, or the trader keeps the
    panel's position or closes it; discarded (with an audit event) when the trader adopts Sierra Chart's.

    ``trade`` is the ``TradeRecord`` row as JSON written and read only by ``data.held_trades``."""

    __table_args__ = (Index("ix_heldtrade_key", "mode", "account", "symbol"),)

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=8)
    account: str = Field(max_length=64)
    symbol: str = Field(max_length=64)
    held_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    trade: str


"""Position accounting: the position is a fold over fills (ARCHITECTURE §3). Pure Python, exact ``Decimal``.

Conventions:
- quantities are contracts, signed (+ long / buy, − short / sell);
- prices are in points, already snapped to the instrument's tick;
- money (P&L, commissions) is in account currency: points × point value × contracts;
- the open position keeps its exact cost basis (Σ price × signed qty of the open contracts); the average
  entry price is derived from it and changes only when the position grows;
- a reducing fill realizes ``(fill − avg_entry) × qty_closed × point_value × sign``;
- a fill that crosses zero is split into a close and a new open, its commission pro-rated by quantity;
- a trade runs flat to flat and is emitted as a ``ClosedTrade`` when the position returns to zero or flips;
- excursions in account currency: the trade's P&L at price p is realized-so-far + open P&L at p (gross);
  MFE is its highest value while open (≥ 0), MAE its lowest (≤ 0). Every fill price and every marked price
  counts, so the closed trade's gross P&L always lies between MAE and MFE (and exit efficiency within
  0–100 %);
- excursions in points: the price's distance from the average entry price of that moment, in the trade's
  favour (+) or against it (−); MFE points is the best, MAE points the worst over the trade's life. Size
  changes do not scale them (a scale-out does not double the points of the contract left).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from core.trade_metrics import Efficiency, efficiency, initial_risk, r_multiple

ZERO = Decimal(0)
SPLIT_QUANTUM = Decimal("1e-12")
"""A share of a cost basis or commission split by quantity is rounded to this, so every later sum stays
exact within Decimal's 28 digits (the split amounts move between buckets; totals never change)."""


def _exact(value: Decimal) -> Decimal:
    return value.quantize(SPLIT_QUANTUM)


class InvalidFill(ValueError):
    """A fill that cannot be applied (zero quantity, negative commission, non-finite price)."""


class PositionEventKind(StrEnum):
    OPENED = "opened"
    INCREASED = "increased"
    DECREASED = "decreased"
    FLIPPED = "flipped"
    CLOSED = "closed"


@dataclass(frozen=True)
class Fill:
    """One execution. ``quantity`` signed (+ buy / − sell), ``price`` in points, ``commission`` ≥ 0 in
    account currency for the whole fill, ``time`` UTC. ``execution_id`` is its identity (DTC
    ``LastFillExecutionID`` / ``UniqueExecutionID``)."""

    execution_id: str
    account: str
    symbol: str
    quantity: Decimal
    price: Decimal
    time: datetime
    commission: Decimal = ZERO
    server_order_id: str = ""
    source: str = "301"

    def __post_init__(self) -> None:
        if self.quantity == 0 or not self.quantity.is_finite():
            raise InvalidFill(f"fill {self.execution_id}: quantity must be a non-zero number")
        if not self.price.is_finite():
            raise InvalidFill(f"fill {self.execution_id}: price must be finite")
        if self.commission < 0 or not self.commission.is_finite():
            raise InvalidFill(f"fill {self.execution_id}: commission must be >= 0")
        if not self.execution_id:
            raise InvalidFill("fill without execution id")


@dataclass(frozen=True)
class Position:
    """An open position in one (account, symbol) and the running totals of its trade.

    ``cost_basis`` is Σ price × signed quantity of the open contracts (points × contracts), exact.
    ``opened_value`` / ``opened_quantity`` and ``closed_value`` / ``closed_quantity`` accumulate every
    opening and closing fill of the trade (unsigned contracts), for the trade's average entry and exit.
    ``realized_gross`` and ``commissions`` are account currency, accumulated over the trade so far.
    """

    account: str
    symbol: str
    quantity: Decimal
    cost_basis: Decimal
    entry_time: datetime
    opened_quantity: Decimal
    opened_value: Decimal
    closed_quantity: Decimal = ZERO
    closed_value: Decimal = ZERO
    realized_gross: Decimal = ZERO
    commissions: Decimal = ZERO
    max_quantity: Decimal = ZERO
    trade_min_price: Decimal | None = None
    trade_max_price: Decimal | None = None
    last_fill_time: datetime | None = None
    mae: Decimal = ZERO
    mfe: Decimal = ZERO
    stop_price: Decimal | None = None
    """The first stop working for this trade (points), for the initial risk; carried, not computed here."""
    target_price: Decimal | None = None
    entry_vwap: Decimal | None = None
    entry_cum_delta: Decimal | None = None
    entry_poc: Decimal | None = None
    initial_quantity: Decimal = ZERO
    """Contracts of the order that opened the trade, all its fills (the size the initial risk applies to)."""
    initial_entry: Decimal = ZERO
    """Average price of the fills of the opening order (points)."""
    mae_points: Decimal = ZERO
    """Worst price distance from the average entry of its moment, points (≤ 0)."""
    mfe_points: Decimal = ZERO
    """Best price distance from the average entry of its moment, points (≥ 0)."""
    opening_order_id: str = ""
    """``ServerOrderID`` of the order that opened the trade: its later fills add to the initial size."""

    @property
    def side(self) -> str:
        return "LONG" if self.quantity > 0 else "SHORT"

    @property
    def avg_entry(self) -> Decimal:
        """Average entry price of the open contracts, in points."""
        return self.cost_basis / self.quantity

    def open_pnl(self, price: Decimal, point_value: Decimal) -> Decimal:
        """Unrealized P&L at ``price`` in account currency: (price − avg_entry) × qty × point_value."""
        return (price * self.quantity - self.cost_basis) * point_value

    def trade_pnl(self, price: Decimal, point_value: Decimal) -> Decimal:
        """The whole trade's gross P&L if marked at ``price``: realized so far + open (account currency)."""
        return self.realized_gross + self.open_pnl(price, point_value)

    def mark(self, price: Decimal, point_value: Decimal) -> Position:
        """This position with ``price`` counted in the trade's min/max price and MAE/MFE."""
        lo = price if self.trade_min_price is None else min(self.trade_min_price, price)
        hi = price if self.trade_max_price is None else max(self.trade_max_price, price)
        pnl = self.trade_pnl(price, point_value)
        mae, mfe = min(self.mae, pnl), max(self.mfe, pnl)
        points = self.points_from_entry(price)
        mae_points, mfe_points = min(self.mae_points, points), max(self.mfe_points, points)
        if (lo, hi, mae, mfe, mae_points, mfe_points) == (
            self.trade_min_price,
            self.trade_max_price,
            self.mae,
            self.mfe,
            self.mae_points,
            self.mfe_points,
        ):
            return self
        return replace(
            self,
            trade_min_price=lo,
            trade_max_price=hi,
            mae=mae,
            mfe=mfe,
            mae_points=mae_points,
            mfe_points=mfe_points,
        )

    def points_from_entry(self, price: Decimal) -> Decimal:
        """(``price`` − average entry) in the position's favour, points: + when it gains, − when it loses."""
        return (price - self.avg_entry) if self.quantity > 0 else (self.avg_entry - price)


@dataclass(frozen=True)
class ClosedTrade:
    """A flat-to-flat trade. ``quantity`` = contracts opened over the trade; prices are quantity-weighted
    averages of the opening and closing fills (points); money in account currency; ``net_pnl`` =
    ``gross_pnl − commissions``."""

    account: str
    symbol: str
    side: str
    quantity: Decimal
    max_quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_time: datetime
    exit_time: datetime
    gross_pnl: Decimal
    commissions: Decimal
    net_pnl: Decimal
    point_value: Decimal
    trade_min_price: Decimal | None
    trade_max_price: Decimal | None
    mae: Decimal = ZERO
    mfe: Decimal = ZERO
    stop_price: Decimal | None = None
    target_price: Decimal | None = None
    initial_quantity: Decimal = ZERO
    initial_entry: Decimal = ZERO
    entry_vwap: Decimal | None = None
    entry_cum_delta: Decimal | None = None
    entry_poc: Decimal | None = None
    mae_points: Decimal = ZERO
    """Worst price distance from the average entry of its moment over the trade, points (≤ 0)."""
    mfe_points: Decimal = ZERO
    """Best price distance from the average entry of its moment over the trade, points (≥ 0)."""

    @property
    def efficiency(self) -> Efficiency | None:
        """Entry/exit/total efficiency of the gross P&L within the MAE–MFE range."""
        return efficiency(self.mae, self.mfe, self.gross_pnl)

    @property
    def initial_risk(self) -> Decimal | None:
        """|opening price − stop at entry| × opening size × point value (account currency)."""
        return initial_risk(self.initial_entry, self.stop_price, self.initial_quantity, self.point_value)

    @property
    def r_multiple(self) -> Decimal | None:
        return r_multiple(self.net_pnl, self.initial_risk)


@dataclass(frozen=True)
class FillOutcome:
    """What one fill did: the position after it (``None`` when flat), the trade it closed (if any), the
    event kind, and the gross P&L it realized (account currency)."""

    position: Position | None
    closed_trade: ClosedTrade | None
    event: PositionEventKind
    realized_gross: Decimal


def _open(fill: Fill, quantity: Decimal, commission: Decimal) -> Position:
    return Position(
        account=fill.account,
        symbol=fill.symbol,
        quantity=quantity,
        cost_basis=fill.price * quantity,
        entry_time=fill.time,
        opened_quantity=abs(quantity),
        opened_value=fill.price * abs(quantity),
        commissions=commission,
        max_quantity=abs(quantity),
        trade_min_price=fill.price,
        trade_max_price=fill.price,
        last_fill_time=fill.time,
        initial_quantity=abs(quantity),
        initial_entry=fill.price,
        opening_order_id=fill.server_order_id,
    )


def _close_trade(pos: Position, side: str, exit_time: datetime, point_value: Decimal) -> ClosedTrade:
    return ClosedTrade(
        account=pos.account,
        symbol=pos.symbol,
        side=side,
        quantity=pos.opened_quantity,
        max_quantity=pos.max_quantity,
        entry_price=pos.opened_value / pos.opened_quantity,
        exit_price=pos.closed_value / pos.closed_quantity,
        entry_time=pos.entry_time,
        exit_time=exit_time,
        gross_pnl=pos.realized_gross,
        commissions=pos.commissions,
        net_pnl=pos.realized_gross - pos.commissions,
        point_value=point_value,
        trade_min_price=pos.trade_min_price,
        trade_max_price=pos.trade_max_price,
        mae=pos.mae,
        mfe=pos.mfe,
        stop_price=pos.stop_price,
        target_price=pos.target_price,
        initial_quantity=pos.initial_quantity,
        initial_entry=pos.initial_entry,
        entry_vwap=pos.entry_vwap,
        entry_cum_delta=pos.entry_cum_delta,
        entry_poc=pos.entry_poc,
        mae_points=pos.mae_points,
        mfe_points=pos.mfe_points,
    )


def apply_fill(position: Position | None, fill: Fill, point_value: Decimal) -> FillOutcome:
    """Fold one fill into ``position`` (``None`` = flat) for the same (account, symbol).

    ``point_value`` is account currency per point per contract. Raises ``ValueError`` if the fill belongs
    to another account or symbol. Idempotency is the caller's job (execution ids are checked before).
    """
    if position is not None and (position.account, position.symbol) != (fill.account, fill.symbol):
        raise ValueError("fill applied to a position of another account/symbol")
    q = fill.quantity
    if position is None:
        return FillOutcome(_open(fill, q, fill.commission), None, PositionEventKind.OPENED, ZERO)

    pos = position.mark(fill.price, point_value)
    held = pos.quantity
    if (held > 0) == (q > 0):  # grows: weighted average changes
        new_qty = held + q
        initial_quantity, initial_entry = pos.initial_quantity, pos.initial_entry
        if fill.server_order_id and fill.server_order_id == pos.opening_order_id and pos.closed_quantity == 0:
            # another part of the order that opened the trade: the initial risk covers the whole order
            initial_quantity = pos.initial_quantity + abs(q)
            initial_entry = (pos.initial_entry * pos.initial_quantity + fill.price * abs(q)) / initial_quantity
        grown = replace(
            pos,
            quantity=new_qty,
            cost_basis=pos.cost_basis + fill.price * q,
            opened_quantity=pos.opened_quantity + abs(q),
            opened_value=pos.opened_value + fill.price * abs(q),
            commissions=pos.commissions + fill.commission,
            max_quantity=max(pos.max_quantity, abs(new_qty)),
            last_fill_time=fill.time,
            initial_quantity=initial_quantity,
            initial_entry=initial_entry,
        )
        return FillOutcome(grown, None, PositionEventKind.INCREASED, ZERO)

    closing = min(abs(q), abs(held))  # contracts closed by this fill
    close_commission = fill.commission if closing == abs(q) else _exact(fill.commission * closing / abs(q))
    open_commission = fill.commission - close_commission
    remaining = held + q if abs(q) <= abs(held) else ZERO
    # basis of the closed contracts: exact on a full close, proportional on a partial one
    removed_basis = pos.cost_basis if remaining == 0 else _exact(pos.cost_basis * closing / abs(held))
    sign = 1 if held > 0 else -1
    realized = (fill.price * closing * sign - removed_basis) * point_value
    after = replace(
        pos,
        quantity=remaining,
        cost_basis=pos.cost_basis - removed_basis,
        closed_quantity=pos.closed_quantity + closing,
        closed_value=pos.closed_value + fill.price * closing,
        realized_gross=pos.realized_gross + realized,
        commissions=pos.commissions + close_commission,
        last_fill_time=fill.time,
    )
    if remaining != 0:
        return FillOutcome(after, None, PositionEventKind.DECREASED, realized)
    trade = _close_trade(after, pos.side, fill.time, point_value)
    rest = q + held  # signed contracts beyond flat
    if rest == 0:
        return FillOutcome(None, trade, PositionEventKind.CLOSED, realized)
    return FillOutcome(_open(fill, rest, open_commission), trade, PositionEventKind.FLIPPED, realized)


def replay(fills: list[Fill], point_value: Decimal) -> tuple[Position | None, list[ClosedTrade]]:
    """Fold ``fills`` (one account/symbol, in order, distinct execution ids) from flat."""
    position: Position | None = None
    trades: list[ClosedTrade] = []
    for fill in fills:
        outcome = apply_fill(position, fill, point_value)
        position = outcome.position
        if outcome.closed_trade is not None:
            trades.append(outcome.closed_trade)
    return position, trades

"""Position accounting: the position is a fold over fills (ARCHITECTURE §3). Pure Python, exact ``Decimal``.

Conventions:
- quantities are contracts, signed (+ long / buy, − short / sell);
- prices are in points, already snapped to the instrument's tick;
- money (P&L, commissions) is in account currency: points × point value × contracts;
- the open position keeps its exact cost basis (Σ price × signed qty of the open contracts); the average
  entry price is derived from it and changes only when the position grows;
- a reducing fill realizes ``(fill − avg_entry) × qty_closed × point_value × sign``;
- a fill that crosses zero is split into a close and a new open, its commission pro-rated by quantity;
- a trade runs flat to flat and is emitted as a ``ClosedTrade`` when the position returns to zero or flips.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


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

    def with_price_extremes(self, price: Decimal) -> Position:
        """This position with ``price`` included in the trade's min/max price."""
        lo = price if self.trade_min_price is None else min(self.trade_min_price, price)
        hi = price if self.trade_max_price is None else max(self.trade_max_price, price)
        if lo == self.trade_min_price and hi == self.trade_max_price:
            return self
        return replace(self, trade_min_price=lo, trade_max_price=hi)


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

    pos = position.with_price_extremes(fill.price)
    held = pos.quantity
    if (held > 0) == (q > 0):  # grows: weighted average changes
        new_qty = held + q
        grown = replace(
            pos,
            quantity=new_qty,
            cost_basis=pos.cost_basis + fill.price * q,
            opened_quantity=pos.opened_quantity + abs(q),
            opened_value=pos.opened_value + fill.price * abs(q),
            commissions=pos.commissions + fill.commission,
            max_quantity=max(pos.max_quantity, abs(new_qty)),
            last_fill_time=fill.time,
        )
        return FillOutcome(grown, None, PositionEventKind.INCREASED, ZERO)

    closing = min(abs(q), abs(held))  # contracts closed by this fill
    close_commission = fill.commission if closing == abs(q) else fill.commission * closing / abs(q)
    open_commission = fill.commission - close_commission
    remaining = held + q if abs(q) <= abs(held) else ZERO
    # basis of the closed contracts: exact on a full close, proportional on a partial one
    removed_basis = pos.cost_basis if remaining == 0 else pos.cost_basis * closing / abs(held)
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

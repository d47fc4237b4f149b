"""Sierra Chart's own trade list in the simulator: HISTORICAL_TRADES_REQUEST (10100) → one
HISTORICAL_TRADES_RESPONSE (10102) per flat-to-flat trade (the last with ``IsFinalMessage`` 1; a lone final one
when there are none), or HISTORICAL_TRADES_REJECT (10101).

Trades are built from the simulator's own fills the way the panel builds them (ARCHITECTURE §3–4): a trade runs
from flat to flat, a fill that crosses zero closes one trade and opens the next; prices are quantity-weighted
averages of the opening and the closing fills; ``ClosedProfitLoss`` is the gross P&L (before commission);
``MaximumOpenPositionProfit`` / ``MaximumOpenPositionLoss`` are the highest / lowest trade P&L (realized so far +
open) at any fill or recorded trade price while open, the loss sent as a number ≤ 0; ``Commission`` is
``commission_per_contract`` × contracts of every fill of the trade (per side). Money in the account currency,
with the point value from the instrument table (tick value / tick) or the common contracts below.

Fault injection (``TradesFaults``): a reject text (for every account or only some), ignoring the request (no
answer at all), per closing execution id an amount added to one field of that trade (Sierra's figures differ
from the panel's), and ``cut_at_start``: trades built only from the fills at or after ``StartDateTime`` — a
Sierra Chart that does so answers a trade open at that moment with a different entry (or not at all).
Message fields: dtc-protocol §15.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import msgspec

from dtc import messages as m
from dtc.sim.steps import InstrumentSpec
from dtc.sim.world import FLAT_EPSILON, FillRecord, World
from dtc.timeconv import epoch_seconds

POINT_VALUES = {"ES": 50.0, "MES": 5.0, "NQ": 20.0, "MNQ": 2.0, "YM": 5.0, "MYM": 0.5, "RTY": 50.0, "M2K": 5.0,
                "CL": 1000.0, "MCL": 100.0, "GC": 100.0, "MGC": 10.0}  # fmt: skip
"""Point value (USD per point per contract) of common futures roots, when the instrument table lacks one."""
_ROOT = re.compile(r"^([A-Z0-9]+?)[FGHJKMNQUVXZ]\d{1,2}(?:[-.].*)?$")


def point_value(symbol: str, instruments: Mapping[str, InstrumentSpec]) -> float:
    """Currency per point per contract of ``symbol`` (1.0 when nothing is known)."""
    spec = instruments.get(symbol)
    if spec is not None and spec.tick > 0:
        return spec.tick_value / spec.tick
    match = _ROOT.match(symbol.upper())
    return POINT_VALUES.get(match.group(1) if match else symbol.upper(), 1.0)


@dataclass
class TradesFaults:
    """How 10100 is answered: ``reject`` set → 10101 with this text (only for the TradeAccounts in
    ``reject_accounts`` when that is not empty); ``ignore`` → no answer at all (a server that does not know the
    message); ``adjust`` closing execution id → (field, amount added); ``cut_at_start`` → trades built only
    from the fills at or after the request's ``StartDateTime``."""

    reject: str | None = None
    reject_accounts: frozenset[str] = frozenset()
    ignore: bool = False
    adjust: dict[str, tuple[str, float]] = field(default_factory=dict)
    commission_per_contract: float = 0.0
    cut_at_start: bool = False


@dataclass
class _Open:
    side: int  # +1 long, -1 short
    entry_time: float
    open_id: str
    quantity: float = 0.0  # signed, now
    opened: float = 0.0
    opened_value: float = 0.0
    cost: float = 0.0  # Σ entry price × contracts of the open contracts
    closed: float = 0.0
    closed_value: float = 0.0
    max_open: float = 0.0
    realized: float = 0.0
    fills: float = 0.0  # contracts of every fill (for the commission)
    low: float = 0.0
    high: float = 0.0
    marked_at: float = 0.0

    @property
    def average(self) -> float:
        """Average entry of the open contracts: changes only when the position grows (a scale-out keeps it)."""
        return self.cost / abs(self.quantity) if self.quantity else 0.0

    def mark(self, price: float, pv: float) -> None:
        pnl = self.realized + (price - self.average) * self.quantity * pv
        self.low, self.high = min(self.low, pnl), max(self.high, pnl)


def flat_to_flat(
    fills: list[FillRecord], ticks: Callable[[str, float, float], list[tuple[float, float]]],
    pv: Callable[[str], float], commission_per_contract: float,
) -> list[m.HistoricalTradesResponse]:  # fmt: skip
    """Closed flat-to-flat trades of ``fills`` (one account, execution order), oldest exit first, as 10102s
    without RequestID/IsFinalMessage. A trade still open at the end is not listed."""
    out: list[tuple[float, m.HistoricalTradesResponse]] = []
    open_: dict[str, _Open] = {}
    for f in fills:
        value = pv(f.symbol)
        t = open_.get(f.symbol)
        if t is not None:  # the recorded trade prices since the last fill of the trade, marked in order
            for when, price in ticks(f.symbol, t.marked_at, f.time):
                if when > t.marked_at:
                    t.mark(price, value)
            t.marked_at = f.time
        signed = f.quantity if f.side == "BUY" else -f.quantity
        remaining = signed
        while abs(remaining) > FLAT_EPSILON:
            t = open_.get(f.symbol)
            if t is None:
                t = open_[f.symbol] = _Open(1 if remaining > 0 else -1, f.time, f.execution_id, marked_at=f.time)
            if (remaining > 0) == (t.side > 0):  # opening or adding
                t.opened += abs(remaining)
                t.opened_value += abs(remaining) * f.price
                t.cost += abs(remaining) * f.price
                t.fills += abs(remaining)
                t.quantity += remaining
                t.max_open = max(t.max_open, abs(t.quantity))
                remaining = 0.0
                t.mark(f.price, value)
                continue
            closing = min(abs(remaining), abs(t.quantity))
            average = t.average
            t.realized += (f.price - average) * closing * t.side * value
            t.cost -= closing * average
            t.closed += closing
            t.closed_value += closing * f.price
            t.fills += closing
            t.quantity += closing * (1 if remaining > 0 else -1)
            remaining += closing * (-1 if remaining > 0 else 1)
            t.mark(f.price, value)
            if abs(t.quantity) <= FLAT_EPSILON:
                out.append((f.time, _response(f, t, commission_per_contract)))
                del open_[f.symbol]
    return [r for _, r in sorted(out, key=lambda x: x[0])]


def _response(close: FillRecord, t: _Open, commission_per_contract: float) -> m.HistoricalTradesResponse:
    return m.HistoricalTradesResponse(
        Symbol=close.symbol,
        TradeAccount=close.account,
        EntryDateTime=round(t.entry_time, 3),
        ExitDateTime=round(close.time, 3),
        EntryPrice=round(t.opened_value / t.opened, 10),
        ExitPrice=round(t.closed_value / t.closed, 10),
        TradeType=1 if t.side > 0 else 2,
        EntryQuantity=t.opened,
        ExitQuantity=t.closed,
        MaxOpenQuantity=t.max_open,
        ClosedProfitLoss=round(t.realized, 10),
        MaximumOpenPositionLoss=round(t.low, 10),
        MaximumOpenPositionProfit=round(t.high, 10),
        Commission=round(commission_per_contract * t.fills, 10),
        OpenFillExecutionID=t.open_id,
        CloseFillExecutionID=close.execution_id,
    )


class TradesHandler:
    """Answers 10100 from the world's fills; ``requests`` lists (TradeAccount, StartDateTime) of each answered."""

    def __init__(self, world: World, instruments: Mapping[str, InstrumentSpec]) -> None:
        self._world, self._instruments = world, instruments
        self.faults = TradesFaults()
        self.requests: list[tuple[str, int]] = []

    def handle(self, req: m.HistoricalTradesRequest) -> list[m.DTCMessage]:
        if self.faults.ignore:
            return []
        rejected = not self.faults.reject_accounts or req.TradeAccount in self.faults.reject_accounts
        if self.faults.reject is not None and rejected:
            return [m.HistoricalTradesReject(RequestID=req.RequestID, RejectText=self.faults.reject)]
        if not req.TradeAccount:
            return [m.HistoricalTradesReject(RequestID=req.RequestID, RejectText="TradeAccount is not set")]
        self.requests.append((req.TradeAccount, int(req.StartDateTime)))
        start = epoch_seconds(req.StartDateTime) if req.StartDateTime else 0.0
        fills = [f for f in self._world.fills(req.TradeAccount) if not req.Symbol or f.symbol == req.Symbol]
        if self.faults.cut_at_start:
            fills = [f for f in fills if f.time >= start]
        rate = self.faults.commission_per_contract
        built = flat_to_flat(fills, self._world.ticks, lambda s: point_value(s, self._instruments), rate)
        trades = [t for t in built if t.ExitDateTime >= start]
        out = [self._adjusted(t) for t in trades]
        return [
            msgspec.structs.replace(t, RequestID=req.RequestID, IsFinalMessage=int(i == len(out)))
            for i, t in enumerate(out, 1)
        ] or [m.HistoricalTradesResponse(RequestID=req.RequestID, TradeAccount=req.TradeAccount, IsFinalMessage=1)]

    def _adjusted(self, t: m.HistoricalTradesResponse) -> m.HistoricalTradesResponse:
        change = self.faults.adjust.get(t.CloseFillExecutionID)
        if change is None:
            return t
        name, amount = change
        return msgspec.structs.replace(t, **{name: (getattr(t, name) or 0.0) + amount})

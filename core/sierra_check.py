"""Sierra Chart's own trade list against the panel's trades (issue 15). Pure Python, exact ``Decimal``; no I/O.

``SierraTrade.from_message`` reads one HISTORICAL_TRADES_RESPONSE (10102). ``compare`` splits one account's
answer into:

- **imports**: Sierra Chart's trades that closed before the panel first saw the account (their fills were never
  folded: they could start in the middle of a position) — stored as imported trades, never as fills or positions;
- **matches**: each trade the panel computed from fills paired with Sierra Chart's — by symbol and the opening
  and closing fills' execution ids (``OpenFillExecutionID``/``CloseFillExecutionID``), else by symbol, entry
  and exit time (within ``TIME_TOLERANCE``) and quantity — and the fields that differ;
- trades only Sierra Chart lists, and trades only the panel has (closed since the start asked for and before
  the request was sent).

Compared fields, panel (``TradeRecord``) ↔ Sierra (10102): entry and exit average price (points) ↔
``EntryPrice``/``ExitPrice``; contracts opened ↔ ``EntryQuantity``; gross closed P&L ↔ ``ClosedProfitLoss``;
commissions ↔ ``Commission``; MAE ↔ ``MaximumOpenPositionLoss`` and MFE ↔ ``MaximumOpenPositionProfit``
(account currency). Sierra Chart's sign of the open-position loss is not documented: it is compared as −|value|.
A difference smaller than ``PRICE_TOLERANCE`` points or ``MONEY_TOLERANCE`` of the currency is agreement
(10102 carries doubles). Trades whose money is not in the account currency are matched but not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from data.sierra_store import PanelTrade
from dtc.messages import HistoricalTradesResponse
from dtc.timeconv import to_utc
from dtc.values import wire_decimal

TIME_TOLERANCE = timedelta(seconds=1)
"""Entry/exit times closer than this match (304 history carries whole seconds, 10102 milliseconds)."""
PRICE_TOLERANCE = Decimal("0.000001")
MONEY_TOLERANCE = Decimal("0.005")
BUY, SELL = 1, 2


class InvalidTrade(ValueError):
    """A 10102 that cannot be a trade (no symbol, times or prices; unknown TradeType)."""


def _money(value: float | None) -> Decimal | None:
    return wire_decimal(value, limit=1e15)


@dataclass(frozen=True)
class SierraTrade:
    """One trade of Sierra Chart's list: times UTC, prices points, quantities contracts, money account currency."""

    account: str
    symbol: str
    side: str
    """LONG (TradeType 1, buy) or SHORT (2, sell)."""
    entry_time: datetime
    exit_time: datetime
    entry_price: Decimal
    exit_price: Decimal
    entry_quantity: Decimal
    exit_quantity: Decimal
    max_open_quantity: Decimal | None
    closed_pnl: Decimal | None
    max_open_loss: Decimal | None
    """``MaximumOpenPositionLoss`` as −|value| (≤ 0)."""
    max_open_profit: Decimal | None
    commission: Decimal | None
    open_execution_id: str
    close_execution_id: str

    @classmethod
    def from_message(cls, m: HistoricalTradesResponse) -> SierraTrade:
        """Raises ``InvalidTrade`` for a 10102 without the fields a trade needs."""
        entry, exit_ = to_utc(m.EntryDateTime), to_utc(m.ExitDateTime)
        prices = wire_decimal(m.EntryPrice), wire_decimal(m.ExitPrice)
        quantities = _money(m.EntryQuantity), _money(m.ExitQuantity)
        if not m.Symbol or not m.TradeAccount or entry is None or exit_ is None:
            raise InvalidTrade("HISTORICAL_TRADES_RESPONSE without Symbol, TradeAccount or times")
        if prices[0] is None or prices[1] is None or quantities[0] is None or quantities[1] is None:
            raise InvalidTrade(f"HISTORICAL_TRADES_RESPONSE of {m.Symbol} without prices or quantities")
        if m.TradeType not in (BUY, SELL):
            raise InvalidTrade(f"HISTORICAL_TRADES_RESPONSE of {m.Symbol} with TradeType {m.TradeType}")
        loss = _money(m.MaximumOpenPositionLoss)
        profit = _money(m.MaximumOpenPositionProfit)
        return cls(
            account=m.TradeAccount,
            symbol=m.Symbol,
            side="LONG" if m.TradeType == BUY else "SHORT",
            entry_time=entry,
            exit_time=exit_,
            entry_price=prices[0],
            exit_price=prices[1],
            entry_quantity=abs(quantities[0]),
            exit_quantity=abs(quantities[1]),
            max_open_quantity=_money(m.MaxOpenQuantity),
            closed_pnl=_money(m.ClosedProfitLoss),
            max_open_loss=None if loss is None else -abs(loss),
            max_open_profit=None if profit is None else abs(profit),
            commission=_money(m.Commission),
            open_execution_id=m.OpenFillExecutionID,
            close_execution_id=m.CloseFillExecutionID,
        )

    @property
    def key(self) -> str:
        """Its identity in Sierra Chart's list: symbol, fill execution ids, entry/exit time (ms), quantity."""
        entry_ms = round(self.entry_time.timestamp() * 1000)
        exit_ms = round(self.exit_time.timestamp() * 1000)
        return "|".join(
            (self.symbol, self.open_execution_id, self.close_execution_id, str(entry_ms), str(exit_ms),
             f"{self.entry_quantity.normalize():f}")
        )[:240]  # fmt: skip


@dataclass(frozen=True)
class FieldDifference:
    """``field`` (its 10102 name) differs: the panel's value and Sierra Chart's, in the field's unit."""

    field: str
    panel: Decimal | None
    sierra: Decimal | None


@dataclass(frozen=True)
class Match:
    panel: PanelTrade
    sierra: SierraTrade
    differences: tuple[FieldDifference, ...]


@dataclass(frozen=True)
class Comparison:
    """One account's answer, sorted out (see the module docstring)."""

    imports: tuple[SierraTrade, ...]
    matches: tuple[Match, ...]
    sierra_only: tuple[SierraTrade, ...]
    panel_only: tuple[PanelTrade, ...]


def _near(a: datetime, b: datetime) -> bool:
    return abs(a - b) <= TIME_TOLERANCE


def _differs(a: Decimal | None, b: Decimal | None, tolerance: Decimal) -> bool:
    if a is None or b is None:
        return False  # one side does not know it: nothing to compare
    return abs(a - b) >= tolerance


def field_differences(p: PanelTrade, s: SierraTrade) -> tuple[FieldDifference, ...]:
    """The compared fields whose values differ (see the module docstring)."""
    pairs: list[tuple[str, Decimal | None, Decimal | None, Decimal]] = [
        ("EntryPrice", p.entry_price, s.entry_price, PRICE_TOLERANCE),
        ("ExitPrice", p.exit_price, s.exit_price, PRICE_TOLERANCE),
        ("EntryQuantity", p.qty, s.entry_quantity, PRICE_TOLERANCE),
    ]
    if not p.pnl_unit:  # money in the account currency: comparable with Sierra Chart's
        pairs += [
            ("ClosedProfitLoss", p.gross_pnl, s.closed_pnl, MONEY_TOLERANCE),
            ("Commission", p.commissions, s.commission, MONEY_TOLERANCE),
            ("MaximumOpenPositionLoss", p.mae, s.max_open_loss, MONEY_TOLERANCE),
            ("MaximumOpenPositionProfit", p.mfe, s.max_open_profit, MONEY_TOLERANCE),
        ]
    return tuple(FieldDifference(name, a, b) for name, a, b, tol in pairs if _differs(a, b, tol))


def compare(
    sierra: Sequence[SierraTrade],
    panel: Sequence[PanelTrade],
    first_seen: datetime,
    asked_at: datetime,
    start: datetime | None = None,
    covered_from: datetime | None = None,
) -> Comparison:
    """Sort one account's Sierra Chart trades (10102, dtc-protocol §15) against the panel's trades of the same period.

    ``first_seen``: when the panel first saw the account (trades closed before it are imported); ``asked_at``:
    when the request was sent (a panel trade closed after it cannot be in the answer, so it is not "missing");
    ``start``: the ``StartDateTime`` asked for — a trade that opened before it is matched if both sides have it,
    but never listed as missing on one side (whether Sierra Chart starts by entry or by exit time is not
    documented); ``covered_from``: the start of the span earlier complete answers covered (None: none yet).

    **Import rule** (never counts a trade twice): a Sierra Chart trade is imported only if it closed before
    ``first_seen`` and, when an earlier answer covered from ``covered_from``, also before ``covered_from``.
    That earlier answer already brought every trade that closed after its start; one listed again may carry a
    different entry (a Sierra Chart that builds its trades from the fills after ``StartDateTime`` cuts a trade
    open at that moment), so its identity alone cannot tell it is the same trade.

    Each Sierra Chart trade, in its order, takes the first not yet matched panel trade (in ``panel``'s order)
    with the same symbol and opening/closing execution ids, else the first with the same symbol and quantity
    and entry and exit within ``TIME_TOLERANCE``. Both are looked up in indexes, so the cost per trade does
    not grow with the number of trades (a year of trades is compared after every logon)."""
    imports = tuple(
        s for s in sierra if s.exit_time < first_seen and (covered_from is None or s.exit_time < covered_from)
    )
    index = _PanelIndex(panel)
    matches: list[Match] = []
    sierra_only: list[SierraTrade] = []
    for s in sierra:
        if s.exit_time < first_seen:
            continue
        found = index.take(s)
        if found is None:
            if start is None or s.entry_time >= start:
                sierra_only.append(s)
            continue
        matches.append(Match(found, s, field_differences(found, s)))
    panel_only = tuple(
        p
        for p in index.unmatched()
        if first_seen <= p.exit_time <= asked_at and (start is None or p.entry_time >= start)
    )
    return Comparison(imports, tuple(matches), tuple(sierra_only), panel_only)


class _PanelIndex:
    """The panel's trades by (symbol, opening id, closing id) and by (symbol, quantity, entry second); each
    list holds positions in ``panel`` in ascending order, and a trade once taken is never taken again."""

    def __init__(self, panel: Sequence[PanelTrade]) -> None:
        self._panel = panel
        self._taken = [False] * len(panel)
        self._by_ids: dict[tuple[str, str, str], list[int]] = {}
        self._by_time: dict[tuple[str, Decimal, int], list[int]] = {}
        for i, p in enumerate(panel):
            self._by_ids.setdefault((p.symbol, p.open_execution_id, p.close_execution_id), []).append(i)
            self._by_time.setdefault((p.symbol, p.qty, _second(p.entry_time)), []).append(i)

    def take(self, s: SierraTrade) -> PanelTrade | None:
        """The panel trade ``s`` pairs with (see ``compare``), marked taken; None if there is none."""
        if s.open_execution_id and s.close_execution_id:
            for i in self._by_ids.get((s.symbol, s.open_execution_id, s.close_execution_id), ()):
                if not self._taken[i]:
                    return self._take(i)
        second = _second(s.entry_time)
        best: int | None = None
        for bucket in (second - 1, second, second + 1):  # entry within TIME_TOLERANCE of Sierra Chart's
            for i in self._by_time.get((s.symbol, s.entry_quantity, bucket), ()):
                if best is not None and i >= best:
                    break
                p = self._panel[i]
                if not self._taken[i] and _near(p.entry_time, s.entry_time) and _near(p.exit_time, s.exit_time):
                    best = i
                    break
        return None if best is None else self._take(best)

    def _take(self, i: int) -> PanelTrade:
        self._taken[i] = True
        return self._panel[i]

    def unmatched(self) -> list[PanelTrade]:
        return [p for i, p in enumerate(self._panel) if not self._taken[i]]


def _second(t: datetime) -> int:
    """The ``TIME_TOLERANCE``-wide bucket of ``t``: times within the tolerance are at most one bucket apart."""
    return int(t.timestamp() // TIME_TOLERANCE.total_seconds())

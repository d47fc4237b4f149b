"""Statistics and the equity curve of the displayed scope and period.

The first ``get`` of a (mode, account, period start) reads its trades and folds them; after that, when a trade
closes or a balance arrives (``invalidate``), only the rows stored since are read (by primary key) and folded
in, so a refresh costs the same with ten trades or a hundred thousand. A row that does not extend the history
in time (a replayed older trade) makes the next ``get`` read everything again. Nothing is read per repaint."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from decimal import Decimal

from core.snapshots import EquityPoint, ScopeSummary, TradeRow
from core.stats import RunningStatistics, Statistics, TradeFacts
from core.tradingday import Period, period_start
from data.models import AccountBalance, TradeRecord
from data.repository import PositionStore, StorageError

log = logging.getLogger(__name__)

CacheValue = tuple[ScopeSummary, Statistics, tuple[TradeRow, ...], tuple[EquityPoint, ...], str]


def _facts(row: TradeRecord) -> TradeFacts:
    return TradeFacts(
        entry_time=row.entry_time,
        exit_time=row.exit_time,
        net_pnl=row.realized_pnl,
        commissions=row.commissions,
        mae=row.mae,
        mfe=row.mfe,
        total_efficiency=row.total_efficiency,
        r_multiple=row.r_multiple,
    )


def _row(row: TradeRecord) -> TradeRow:
    return TradeRow(
        symbol=row.symbol,
        side=row.side,
        quantity=row.qty,
        entry_time=row.entry_time,
        exit_time=row.exit_time,
        entry_price=row.entry_price,
        exit_price=row.exit_price,
        net_pnl=row.realized_pnl,
        mae=row.mae,
        mfe=row.mfe,
        total_efficiency=row.total_efficiency,
        r_multiple=row.r_multiple,
    )


class _Fold:
    """The folded history of one (mode, account, period, start): statistics, trade rows, equity curve."""

    def __init__(self, base: tuple[object, ...]) -> None:
        self.base = base
        self.running = RunningStatistics()
        self.rows: list[TradeRow] = []
        self.trade_curve: list[EquityPoint] = []
        self.last_id = 0
        self.last_exit: datetime | None = None
        self.balances: list[EquityPoint] = []
        self.last_balance_id = 0
        self.last_balance_time: datetime | None = None

    def extends(self, rows: list[TradeRecord]) -> bool:
        return all(self.last_exit is None or r.exit_time >= self.last_exit for r in rows)

    def add_trades(self, rows: list[TradeRecord]) -> None:
        for r in sorted(rows, key=lambda r: (r.exit_time, r.id or 0)):
            facts = _facts(r)
            if not self.trade_curve:
                self.trade_curve.append(EquityPoint(facts.entry_time, Decimal(0)))
            self.running.add(facts)
            self.rows.append(_row(r))
            self.trade_curve.append(EquityPoint(facts.exit_time, self.running.cumulative))
            self.last_id = max(self.last_id, r.id or 0)
            self.last_exit = r.exit_time

    def add_balances(self, rows: list[AccountBalance]) -> bool:
        """Fold in balance rows; False if one is older than the newest folded (then read them all again)."""
        for b in rows:
            if self.last_balance_time is not None and b.time < self.last_balance_time:
                return False
            self.last_balance_id = max(self.last_balance_id, b.id or 0)
            self.last_balance_time = b.time
            value = b.securities_value if b.securities_value else b.cash_balance
            if value is not None:
                self.balances.append(EquityPoint(b.time, value))
        return True


class StatisticsCache:
    """Caches (today's summary, period statistics, period trade rows, equity curve) of one scope and period."""

    def __init__(self, store: PositionStore, session_start: str, session_timezone: str) -> None:
        self._store = store
        self._session = (session_start, session_timezone)
        self._version = 0
        self._key: tuple[object, ...] | None = None
        self._value: CacheValue = self.empty()
        self._fold: _Fold | None = None
        self.recomputations = 0

    @staticmethod
    def empty() -> CacheValue:
        return ScopeSummary(), Statistics(), (), (), ""

    def invalidate(self) -> None:
        """A trade closed or a balance arrived: the next ``get`` folds in what was stored since."""
        self._version += 1

    def _load(self, base: tuple[object, ...], mode: str, account: str, start: datetime | None) -> _Fold:
        fold = _Fold(base)
        rows = self._store.trades_since(mode, account, start)
        fold.add_trades(rows)
        fold.last_id = max((r.id or 0 for r in rows), default=0)
        if mode == "LIVE":
            fold.add_balances(self._store.balances_since(account, start))
        self.recomputations += 1
        return fold

    def _update(self, fold: _Fold, mode: str, account: str, start: datetime | None) -> _Fold | None:
        """Fold in what was stored since; None when the new rows do not simply extend the history."""
        new = self._store.trades_after(mode, account, fold.last_id)
        new = [r for r in new if start is None or r.exit_time >= start]
        if not fold.extends(new):
            return None
        fold.add_trades(new)
        if mode == "LIVE":
            balances = self._store.balances_after(account, fold.last_balance_id)
            if not fold.add_balances([b for b in balances if start is None or b.time >= start]):
                return None
        return fold

    def get(self, mode: str, account: str, period: Period) -> CacheValue:
        now = datetime.fromtimestamp(time.time(), tz=UTC)
        today_start = period_start(Period.TODAY, now, *self._session)
        start = period_start(period, now, *self._session)
        base = (mode, account, period, start)
        key = (*base, today_start, self._version)
        if key == self._key:
            return self._value
        try:
            fold = self._fold if self._fold is not None and self._fold.base == base else None
            if fold is not None:
                fold = self._update(fold, mode, account, start)
            if fold is None:
                fold = self._load(base, mode, account, start)
        except StorageError as exc:
            log.error("cannot read trades or balances for statistics: %s", exc)
            return self._value
        self._fold = fold
        today = [r.net_pnl for r in _tail_since(fold.rows, today_start)]
        summary = ScopeSummary(sum(today, Decimal(0)), len(today))
        curve, source = (tuple(fold.balances), "balance") if fold.balances else (tuple(fold.trade_curve), "trades")
        self._value = (summary, fold.running.result(), tuple(fold.rows), curve, source)
        self._key = key
        return self._value


def _tail_since(rows: list[TradeRow], since: datetime | None) -> list[TradeRow]:
    """The rows (oldest exit first) whose exit is at or after ``since`` — a tail, found from the end."""
    if since is None:
        return rows
    i = len(rows)
    while i > 0 and rows[i - 1].exit_time >= since:
        i -= 1
    return rows[i:]

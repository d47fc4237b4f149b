"""Statistics and the equity curve of the displayed scope and period, recomputed only when a trade closes,
a balance arrives, or the scope, period or trading day changes (indexed queries, none per repaint)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from decimal import Decimal

from core.snapshots import EquityPoint, ScopeSummary, TradeRow
from core.stats import Statistics, TradeFacts, compute
from core.tradingday import Period, period_start
from data.models import TradeRecord
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


class StatisticsCache:
    """Caches (today's summary, period statistics, period trade rows) per scope and period."""

    def __init__(self, store: PositionStore, session_start: str, session_timezone: str) -> None:
        self._store = store
        self._session = (session_start, session_timezone)
        self._version = 0
        self._key: tuple[object, ...] | None = None
        self._value: CacheValue = self.empty()
        self.recomputations = 0

    @staticmethod
    def empty() -> CacheValue:
        return ScopeSummary(), Statistics(), (), (), ""

    def invalidate(self) -> None:
        """A trade closed or a balance arrived: the next ``get`` recomputes."""
        self._version += 1

    def _equity(
        self, mode: str, account: str, start: datetime | None, facts: list[TradeFacts]
    ) -> tuple[tuple[EquityPoint, ...], str]:
        if mode == "LIVE":
            balances = self._store.balances_since(account, start)
            points = [
                EquityPoint(b.time, b.securities_value if b.securities_value else b.cash_balance)
                for b in balances
                if (b.securities_value or b.cash_balance) is not None
            ]
            if points:
                return tuple(points), "balance"  # type: ignore[arg-type]
        cumulative = Decimal(0)
        curve = [EquityPoint(facts[0].entry_time, cumulative)] if facts else []
        for f in facts:
            cumulative += f.net_pnl
            curve.append(EquityPoint(f.exit_time, cumulative))
        return tuple(curve), "trades"

    def get(self, mode: str, account: str, period: Period) -> CacheValue:
        now = datetime.fromtimestamp(time.time(), tz=UTC)
        today_start = period_start(Period.TODAY, now, *self._session)
        start = period_start(period, now, *self._session)
        key = (mode, account, period, start, today_start, self._version)
        if key == self._key:
            return self._value
        try:
            rows = self._store.trades_since(mode, account, start)
        except StorageError as exc:
            log.error("cannot read trades for statistics: %s", exc)
            return self._value
        facts = [_facts(r) for r in rows]
        # every period contains today, so today's trades are a tail of the period's
        today_pnl = [f.net_pnl for f in facts if today_start is not None and f.exit_time >= today_start]
        summary = ScopeSummary(sum(today_pnl, Decimal(0)), len(today_pnl))
        try:
            curve, source = self._equity(mode, account, start, facts)
        except StorageError as exc:
            log.error("cannot read balances for the equity curve: %s", exc)
            curve, source = (), ""
        self._value = (summary, compute(facts), tuple(_row(r) for r in rows), curve, source)
        self._key = key
        self.recomputations += 1
        return self._value

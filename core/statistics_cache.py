"""Statistics, closed trades and the equity curve of the displayed scope and period.

The first request for a (mode, account, period start) loads that history with a column query
(``core.history_load``) and folds it — in the background when ``background`` is set (the running app), so
neither the DTC thread nor the window waits; meanwhile ``current`` answers ``None`` ("loading") and, when
the load is done, ``on_loaded`` is called (from the loader thread) so the owner can publish. After that,
``refresh`` folds in only the trades stored since (read by primary key) and hands them back, so the cost of
a closed trade is the same with ten trades or a hundred thousand. A row that does not extend the history in
time (a replayed older trade) makes the next request load everything again. Today's trade count is kept as a
running count of the trades closed since the trading day's start; today's realized P&L as a running sum over
the fills since then (``data.fill_queries``: what each fill realized less its commission, so partial exits of
a trade still open count), read by primary key after the first read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine

from core.long_history import load_period
from core.snapshots import EquityPoint, ScopeSummary, TradeRow
from core.stats import RunningStatistics, Statistics, TradeFacts
from core.trade_rows import TradeRows, trade_row
from core.tradingday import Period, period_start
from data.fill_queries import realized_after, realized_since
from data.models import AccountBalance, TradeRecord
from data.repository import PositionStore, StorageError
from data.sierra_store import SierraTradeStore
from data.trade_queries import newest_trade_id

log = logging.getLogger(__name__)

Base = tuple[str, str, Period, datetime | None]  # (mode, account, period, period start)


@dataclass(frozen=True)
class ScopeFigures:
    """What the window shows of a scope's closed trades: today's realized P&L and count, the period's
    statistics, its trades (oldest exit first) and equity curve (``source``: ``trades`` or ``balance``)."""

    today: ScopeSummary
    statistics: Statistics
    trades: Sequence[TradeRow]
    equity_curve: tuple[EquityPoint, ...]
    equity_source: str


@dataclass(frozen=True)
class Increment:
    """What ``refresh`` folded in: new trade rows, new equity points, and the figures after them."""

    rows: tuple[TradeRow, ...]
    equity: tuple[EquityPoint, ...]
    statistics: Statistics
    today: ScopeSummary


EMPTY = ScopeFigures(ScopeSummary(), Statistics(), (), (), "")


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


class _Fold:
    """The folded history of one (mode, account, period, start)."""

    def __init__(self, base: Base) -> None:
        self.base = base
        self.running = RunningStatistics()
        self.rows = TradeRows()
        self.trade_curve: list[EquityPoint] = []
        self.last_id = 0
        self.last_exit: datetime | None = None
        self.balances: list[EquityPoint] = []
        self.last_balance_id = 0
        self.last_balance_time: datetime | None = None
        self.today_start: datetime | None = None
        self.today_count = 0
        self.today_realized = Decimal(0)
        """Σ (realized − commission) of the scope's fills since ``realized_start`` (account currency)."""
        self.realized_start: datetime | None = None
        self.last_fill_id = 0
        self.curve_tuple: tuple[EquityPoint, ...] | None = None
        """Built once per change (a full snapshot of a long period copies them, nothing else does)."""

    def extends(self, rows: list[TradeRecord]) -> bool:
        return all(self.last_exit is None or r.exit_time >= self.last_exit for r in rows)

    def add_trades(self, rows: list[TradeRecord]) -> tuple[list[TradeRow], list[EquityPoint]]:
        new_rows: list[TradeRow] = []
        new_points: list[EquityPoint] = []
        for r in sorted(rows, key=lambda r: (r.exit_time, r.id or 0)):
            row = trade_row(r)
            new_rows.append(row)
            if r.pnl_unit:  # points or another currency: listed, never summed with the account's money
                self.running.excluded += 1
            else:
                self.running.imported += r.sierra == "imported"
                facts = _facts(r)
                if not self.trade_curve:
                    self.trade_curve.append(EquityPoint(facts.entry_time, Decimal(0)))
                    new_points.append(self.trade_curve[-1])
                self.running.add(facts)
                self.trade_curve.append(EquityPoint(facts.exit_time, self.running.cumulative))
                new_points.append(self.trade_curve[-1])
            self.last_id = max(self.last_id, r.id or 0)
            self.last_exit = r.exit_time
            if self.today_start is not None and row.exit_time >= self.today_start:
                self.today_count += 1
        if new_rows:
            self.rows = self.rows.plus(new_rows)
            self.curve_tuple = None
        return new_rows, new_points

    def add_balances(self, rows: list[AccountBalance]) -> list[EquityPoint] | None:
        """Fold in balance rows; ``None`` if one is older than the newest folded (then read them all again)."""
        added = []
        for b in rows:
            if self.last_balance_time is not None and b.time < self.last_balance_time:
                return None
            self.last_balance_id = max(self.last_balance_id, b.id or 0)
            self.last_balance_time = b.time
            value = b.securities_value if b.securities_value else b.cash_balance
            if value is not None:
                self.balances.append(EquityPoint(b.time, value))
                added.append(self.balances[-1])
                self.curve_tuple = None
        return added

    def set_today(self, today_start: datetime) -> None:
        """Today's trade count starts at ``today_start`` (recounted once per trading day, from the end)."""
        if today_start == self.today_start:
            return
        self.today_start = today_start
        self.today_count = 0
        rows = self.rows
        for i in range(len(rows) - 1, -1, -1):  # exit times only: no row is built
            if rows.exit_time(i) < today_start:
                break
            self.today_count += 1

    def figures(self) -> ScopeFigures:
        if self.curve_tuple is None:
            self.curve_tuple = tuple(self.balances) if self.balances else tuple(self.trade_curve)
        source = "balance" if self.balances else "trades"
        return ScopeFigures(self.today(), self.running.result(), self.rows, self.curve_tuple, source)

    def today(self) -> ScopeSummary:
        return ScopeSummary(self.today_realized, self.today_count)

    def read_realized(self, engine: Engine, today_start: datetime) -> None:
        """Bring today's realized P&L up to date: every fill since ``today_start`` on a new trading day (or the
        first time), else only the fills stored since the last read. Raises ``StorageError``."""
        mode, account = self.base[0], self.base[1]
        if self.realized_start != today_start:
            self.last_fill_id, self.today_realized = realized_since(engine, mode, account, today_start)
            self.realized_start = today_start
        else:
            self.last_fill_id, added = realized_after(engine, mode, account, today_start, self.last_fill_id)
            self.today_realized += added


class StatisticsCache:
    """Figures of one scope and period at a time (the displayed one)."""

    def __init__(
        self,
        store: PositionStore,
        session_start: str,
        session_timezone: str,
        *,
        background: bool = False,
        on_loaded: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._session = (session_start, session_timezone)
        self.background = background
        self.on_loaded = on_loaded
        self._fold: _Fold | None = None
        self._stale = False
        self._lock = threading.Lock()
        self._loading: tuple[Base, Future[_Fold]] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.read_error: str | None = None
        """Why the trade history could not be read the last time (``None``: it was); the window shows it."""
        self.reshow = False
        """Set when the figures changed in a way an ``Increment`` cannot carry (the curve's source)."""

    def _bases(self, mode: str, account: str, period: Period) -> tuple[Base, datetime]:
        now = datetime.fromtimestamp(time.time(), tz=UTC)
        today_start = period_start(Period.TODAY, now, *self._session)
        return (mode, account, Period(period), period_start(period, now, *self._session)), today_start

    def _load(self, base: Base) -> _Fold:
        mode, account, _, start = base
        fold = _Fold(base)
        # the newest ids before the reads: later catch-ups read only rows stored after them, even when the
        # scope has no trade (or balance) yet — never the whole table again
        newest_trade = newest_trade_id(self._store.engine)
        newest_balance = self._store.newest_balance_id() if mode == "LIVE" else 0
        loaded = load_period(self._store.engine, mode, account, start)  # day summaries or a column query
        fold.running, fold.rows, fold.trade_curve = loaded.running, loaded.rows, loaded.trade_curve
        fold.running.imported = SierraTradeStore(self._store.engine).imported_count(mode, account, start)
        fold.last_id, fold.last_exit = max(loaded.last_id, newest_trade), loaded.last_exit
        if mode == "LIVE":
            fold.add_balances(self._store.balances_since(account, start))
            fold.last_balance_id = max(fold.last_balance_id, newest_balance)
        return fold

    def _done(self, future: Future[_Fold]) -> None:
        """The background load finished (the future is done, so ``figures`` can take its result); a load
        cancelled by ``close`` tells nobody."""
        if self.on_loaded is not None and not future.cancelled():
            self.on_loaded()

    def _fold_for(self, base: Base) -> _Fold | None:
        """The fold of ``base`` if it is loaded (loading it now, or starting a background load, if not)."""
        fold = self._fold
        if fold is not None and fold.base == base and not self._stale:
            return fold
        if not self.background:
            self._fold, self._stale = self._load(base), False
            return self._fold
        with self._lock:
            loading = self._loading
            if loading is not None and loading[0] == base and not self._stale:
                if not loading[1].done():
                    return None
                self._loading = None
                if loading[1].cancelled():  # closing: nothing more is shown
                    return None
                self._fold = loading[1].result()  # StorageError of the load is raised here
                return self._fold
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="statistics")
            self._stale = False
            future = self._executor.submit(self._load, base)
            self._loading = (base, future)
        future.add_done_callback(self._done)  # outside the lock: it may run at once, and it asks for figures
        return None

    def _catch_up(self, fold: _Fold) -> Increment | None:
        """Fold in what was stored since ``fold`` was read; ``None`` (and ``_stale``: load again) if it does
        not simply extend it. Reads everything first, so a read error leaves the fold as it was."""
        mode, account, _, start = fold.base
        stored = self._store.trades_after(mode, account, fold.last_id)
        balances = self._store.balances_after(account, fold.last_balance_id) if mode == "LIVE" else []
        new = [r for r in stored if start is None or r.exit_time >= start]
        if not fold.extends(new) or (
            balances and fold.last_balance_time is not None and min(b.time for b in balances) < fold.last_balance_time
        ):
            self._stale = True
            return None
        had_balances = bool(fold.balances)
        rows, points = fold.add_trades(new)
        fold.last_id = max([fold.last_id, *(r.id or 0 for r in stored)])
        if mode == "LIVE":
            added = fold.add_balances([b for b in balances if start is None or b.time >= start]) or []
            fold.last_balance_id = max([fold.last_balance_id, *(b.id or 0 for b in balances)])
            if fold.balances and not had_balances:
                self.reshow = True  # the curve now comes from balances: the window must redraw it whole
            if fold.balances:
                points = added
        return Increment(tuple(rows), tuple(points), fold.running.result(), fold.today())

    def ready(self, mode: str, account: str, period: Period) -> bool:
        """Whether ``figures`` of (mode, account, period) would answer now (loaded, or the load finished)."""
        base, _ = self._bases(mode, account, period)
        if self._fold is not None and self._fold.base == base and not self._stale:
            return True
        loading = self._loading
        return loading is not None and loading[0] == base and loading[1].done()

    def figures(self, mode: str, account: str, period: Period) -> ScopeFigures | None:
        """Everything of (mode, account, period) — ``None`` while it loads in the background. Costs the
        history's length only on the first call for a scope and period (the trades tuple is built once)."""
        base, today_start = self._bases(mode, account, period)
        try:
            fold = self._fold_for(base)
            if fold is None:
                return None
            self._catch_up(fold)
            if self._stale:  # a replayed older trade: read the history again
                return self.figures(mode, account, period)
        except StorageError as exc:
            self._read_failed("trades or balances for statistics", exc)
            return EMPTY
        fold.set_today(today_start)
        try:
            fold.read_realized(self._store.engine, today_start)
        except StorageError as exc:
            self._read_failed("today's fills", exc)
        else:
            self.read_error = None
        return fold.figures()

    def _read_failed(self, what: str, exc: StorageError) -> None:
        """Log the failed read and keep, for the window, what it means for the figures shown."""
        log.error("cannot read %s: %s", what, exc)
        text = f"cannot read the stored {what} ({exc}); the statistics and trades shown are incomplete"
        if "malformed" in str(exc) or "not a database" in str(exc):
            text += (
                " — the database file is damaged: quit and start DTC Panel again to check it and restore "
                "the newest good backup"
            )
        self.read_error = text

    def refresh(self, mode: str, account: str, period: Period, trades: bool = True) -> Increment | None:
        """Trades stored since the last call, folded in (O(new trades)), and today's realized P&L brought up to
        date; with ``trades`` False (fills stored, no trade closed) only the latter. ``None`` when the fold is
        not loaded (or must be loaded again — the next ``figures`` does it)."""
        base, today_start = self._bases(mode, account, period)
        fold = self._fold
        if fold is None or fold.base != base or self._stale:
            return None
        try:
            fold.set_today(today_start)
            fold.read_realized(self._store.engine, today_start)
            increment = self._catch_up(fold) if trades else Increment((), (), fold.running.result(), fold.today())
        except StorageError as exc:  # keep what is shown; the next refresh reads again
            self._read_failed("new trades for statistics", exc)
            return Increment((), (), fold.running.result(), fold.today())
        self.read_error = None
        return increment

    def invalidate(self) -> None:
        """Stored trades changed in a way a catch-up cannot see (imported or re-marked): read them again. The
        old fold is dropped (not only marked stale): a background load clears ``_stale`` when it starts, and
        the old fold of the same base must not be answered after that."""
        self._fold, self._stale = None, True

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

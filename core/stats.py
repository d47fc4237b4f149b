"""Trading statistics over closed trades (ARCHITECTURE §4). Pure Python, exact ``Decimal``.

Definitions (account currency unless said):
- a trade is a win if its net P&L > 0, a loss if < 0, a breakeven if = 0; breakevens count as trades but
  are left out of the win rate and break win/loss streaks;
- gross profit = Σ net P&L of wins; gross loss = Σ net P&L of losses (≤ 0); net P&L = Σ net P&L of all;
  commissions = Σ commissions (already inside net P&L);
- win rate = wins / (wins + losses); expectancy = avg win × win rate + avg loss × loss rate;
- profit factor = gross profit / |gross loss|, not available without losses;
- max drawdown = the largest fall of cumulative net P&L from a running peak (starting at 0), as a positive
  amount; max run-up = the largest rise from a running trough (starting at 0);
- averages of MAE, MFE, efficiency and R are over the trades that have them; hold time in seconds.
Trades are taken in the order given (oldest exit first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from itertools import accumulate, chain, compress, repeat
from operator import add, gt, is_not, lt, sub

ZERO = Decimal(0)


@dataclass(frozen=True)
class TradeFacts:
    """What statistics need of one closed trade."""

    entry_time: datetime
    exit_time: datetime
    net_pnl: Decimal
    commissions: Decimal = ZERO
    mae: Decimal | None = None
    mfe: Decimal | None = None
    total_efficiency: Decimal | None = None
    r_multiple: Decimal | None = None


@dataclass(frozen=True)
class Statistics:
    trades: int = 0
    wins: int = 0
    losses: int = 0
    breakevens: int = 0
    net_pnl: Decimal = ZERO
    gross_profit: Decimal = ZERO
    gross_loss: Decimal = ZERO
    commissions: Decimal = ZERO
    win_rate: Decimal | None = None
    avg_win: Decimal | None = None
    avg_loss: Decimal | None = None
    expectancy: Decimal | None = None
    profit_factor: Decimal | None = None
    max_drawdown: Decimal = ZERO
    max_runup: Decimal = ZERO
    best: Decimal | None = None
    worst: Decimal | None = None
    longest_win_streak: int = 0
    longest_loss_streak: int = 0
    avg_hold_seconds: Decimal | None = None
    avg_mae: Decimal | None = None
    avg_mfe: Decimal | None = None
    avg_efficiency: Decimal | None = None
    avg_r: Decimal | None = None
    excluded_trades: int = 0
    """Closed trades of the period left out because their P&L is not in the account currency (another
    currency, or points × contracts when the point value is unknown)."""
    imported_trades: int = 0
    """Closed trades of the period imported from Sierra Chart's own trade list (they closed before the panel
    first saw the account); they are in every figure above."""


def compute(trades: Sequence[TradeFacts]) -> Statistics:
    """Statistics of ``trades`` (oldest first). An empty list gives zeros and "not available"."""
    trades = list(trades)
    running = RunningStatistics()
    running.add_columns(
        [t.entry_time for t in trades],
        [t.exit_time for t in trades],
        [t.net_pnl for t in trades],
        [t.commissions for t in trades],
        [t.mae for t in trades],
        [t.mfe for t in trades],
        [t.total_efficiency for t in trades],
        [t.r_multiple for t in trades],
    )
    return running.result()


class _Mean:
    __slots__ = ("count", "total")

    def __init__(self) -> None:
        self.total, self.count = ZERO, 0

    def add(self, value: Decimal | None) -> None:
        if value is not None:
            self.total += value
            self.count += 1

    def add_all(self, values: Iterable[Decimal | None]) -> None:
        """``add`` of each value in order (the same additions)."""
        present = list(filter(_not_none, values))
        self.total = sum(present, self.total)
        self.count += len(present)

    def value(self) -> Decimal | None:
        return self.total / self.count if self.count else None


_not_none = partial(is_not, None)


class _HoldSeconds(dict[float, Decimal]):
    """Seconds (float) → ``Decimal(str(seconds))``, each distinct value once (hold times repeat). Keys never
    include -0.0 (whose text would differ from 0.0's): ``timedelta.total_seconds`` does not return it."""

    def __missing__(self, seconds: float) -> Decimal:
        value = self[seconds] = Decimal(str(seconds))
        return value


def _hold_seconds(entry_time: datetime, exit_time: datetime) -> Decimal:
    """Hold time in seconds as the Decimal of the float's text, e.g. ``Decimal("125.36")``, ``Decimal("60.0")``."""
    return Decimal(str((exit_time - entry_time).total_seconds()))


def _longest_runs(flags: bytes, before: int) -> tuple[int, int]:
    """(longest run of 1s, the run at the end) in ``flags``, a run of ``before`` 1s preceding them."""
    runs = flags.split(b"\0")
    lengths = list(map(len, runs))
    lengths[0] += before
    return max(lengths), lengths[-1]


class RunningStatistics:
    """``compute`` as a fold: ``add`` one more closed trade (oldest exit first), ``result()`` at any time — the
    same Decimal operations in the same order, so the result equals ``compute`` of the trades added.

    ``add_columns`` adds many trades at once, column by column, with the same operations in the same order
    (identical results, including the exponent of every Decimal), about ten times faster for long histories."""

    def __init__(self) -> None:
        self.trades = self.wins = self.losses = 0
        self.gross_profit = self.gross_loss = self.commissions = ZERO
        self.cumulative = self.peak = self.trough = self.drawdown = self.runup = ZERO
        self.streak_w = self.streak_l = self.best_w = self.best_l = 0
        self.best: Decimal | None = None
        self.worst: Decimal | None = None
        self.hold, self.mae, self.mfe, self.efficiency, self.r = _Mean(), _Mean(), _Mean(), _Mean(), _Mean()
        self.excluded = 0
        """Trades not added because their money is not in the account currency (counted by the caller)."""
        self.imported = 0
        """Trades imported from Sierra Chart's trade list among those added (counted by the caller)."""

    def add(self, t: TradeFacts) -> None:
        # Written out for speed; each step is what max()/min() of the previous value and the new one gives
        # (the previous value is kept on a tie, so equal Decimals of another exponent do not replace it).
        pnl = t.net_pnl
        self.trades += 1
        if pnl > 0:
            self.wins += 1
            self.gross_profit += pnl
            self.streak_w += 1
            self.streak_l = 0
            if self.streak_w > self.best_w:
                self.best_w = self.streak_w
        elif pnl < 0:
            self.losses += 1
            self.gross_loss += pnl
            self.streak_w = 0
            self.streak_l += 1
            if self.streak_l > self.best_l:
                self.best_l = self.streak_l
        else:
            self.streak_w = self.streak_l = 0
        self.commissions += t.commissions
        cumulative = self.cumulative = self.cumulative + pnl
        if cumulative > self.peak:
            self.peak = cumulative
        if cumulative < self.trough:
            self.trough = cumulative
        drawdown = self.peak - cumulative
        if drawdown > self.drawdown:
            self.drawdown = drawdown
        runup = cumulative - self.trough
        if runup > self.runup:
            self.runup = runup
        if self.best is None or pnl > self.best:
            self.best = pnl
        if self.worst is None or pnl < self.worst:
            self.worst = pnl
        self.hold.add(_hold_seconds(t.entry_time, t.exit_time))
        self.mae.add(t.mae)
        self.mfe.add(t.mfe)
        self.efficiency.add(t.total_efficiency)
        self.r.add(t.r_multiple)

    def add_columns(
        self,
        entry_times: Sequence[datetime],
        exit_times: Sequence[datetime],
        net_pnls: Sequence[Decimal],
        commissions: Sequence[Decimal],
        maes: Sequence[Decimal | None],
        mfes: Sequence[Decimal | None],
        efficiencies: Sequence[Decimal | None],
        r_multiples: Sequence[Decimal | None],
    ) -> list[Decimal]:
        """``add`` of every trade given column by column (index i of each sequence is trade i, oldest exit
        first; all of the same length) — the same result, much faster. Returns the cumulative net P&L after
        each trade (what ``cumulative`` was after each ``add``), for the equity curve."""
        n = len(net_pnls)
        if not all(len(c) == n for c in (entry_times, exit_times, commissions, maes, mfes, efficiencies, r_multiples)):
            raise ValueError("add_columns: the columns differ in length")
        if not n:
            return []
        # Every sum is a left fold from the current value, as the += of add; max()/min() of an iterable keep the
        # first of equal values, as the pairwise max()/min() of add keep the previous one.
        cumulative = list(accumulate(net_pnls, add, initial=self.cumulative))
        peaks = list(accumulate(cumulative, max, initial=self.peak))[2:]
        troughs = list(accumulate(cumulative, min, initial=self.trough))[2:]
        del cumulative[0]
        self.drawdown = max(chain((self.drawdown,), map(sub, peaks, cumulative)))
        self.runup = max(chain((self.runup,), map(sub, cumulative, troughs)))
        self.cumulative, self.peak, self.trough = cumulative[-1], peaks[-1], troughs[-1]
        won = bytes(map(gt, net_pnls, repeat(ZERO)))
        lost = bytes(map(lt, net_pnls, repeat(ZERO)))
        wins, losses = list(compress(net_pnls, won)), list(compress(net_pnls, lost))
        self.trades += n
        self.wins += len(wins)
        self.losses += len(losses)
        self.gross_profit = sum(wins, self.gross_profit)
        self.gross_loss = sum(losses, self.gross_loss)
        self.commissions = sum(commissions, self.commissions)
        longest_w, self.streak_w = _longest_runs(won, self.streak_w)
        longest_l, self.streak_l = _longest_runs(lost, self.streak_l)
        self.best_w, self.best_l = max(self.best_w, longest_w), max(self.best_l, longest_l)
        self.best = max(net_pnls) if self.best is None else max(chain((self.best,), net_pnls))
        self.worst = min(net_pnls) if self.worst is None else min(chain((self.worst,), net_pnls))
        seconds = map(timedelta.total_seconds, map(sub, exit_times, entry_times))
        self.hold.total = sum(map(_HoldSeconds().__getitem__, seconds), self.hold.total)  # never None
        self.hold.count += n
        self.mae.add_all(maes)
        self.mfe.add_all(mfes)
        self.efficiency.add_all(efficiencies)
        self.r.add_all(r_multiples)
        return cumulative

    def result(self) -> Statistics:
        if not self.trades:
            return Statistics(excluded_trades=self.excluded, imported_trades=self.imported)
        decided = self.wins + self.losses
        win_rate = Decimal(self.wins) / decided if decided else None
        avg_win = self.gross_profit / self.wins if self.wins else None
        avg_loss = self.gross_loss / self.losses if self.losses else None
        expectancy = None
        if win_rate is not None:
            expectancy = (avg_win or ZERO) * win_rate + (avg_loss or ZERO) * (1 - win_rate)
        return Statistics(
            trades=self.trades,
            wins=self.wins,
            losses=self.losses,
            breakevens=self.trades - decided,
            net_pnl=self.gross_profit + self.gross_loss,
            gross_profit=self.gross_profit,
            gross_loss=self.gross_loss,
            commissions=self.commissions,
            win_rate=win_rate,
            avg_win=avg_win,
            avg_loss=avg_loss,
            expectancy=expectancy,
            profit_factor=self.gross_profit / -self.gross_loss if self.losses else None,
            max_drawdown=self.drawdown,
            max_runup=self.runup,
            best=self.best,
            worst=self.worst,
            longest_win_streak=self.best_w,
            longest_loss_streak=self.best_l,
            avg_hold_seconds=self.hold.value(),
            excluded_trades=self.excluded,
            imported_trades=self.imported,
            avg_mae=self.mae.value(),
            avg_mfe=self.mfe.value(),
            avg_efficiency=self.efficiency.value(),
            avg_r=self.r.value(),
        )

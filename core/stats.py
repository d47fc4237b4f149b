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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

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


def compute(trades: Sequence[TradeFacts]) -> Statistics:
    """Statistics of ``trades`` (oldest first). An empty list gives zeros and "not available"."""
    running = RunningStatistics()
    for t in trades:
        running.add(t)
    return running.result()


class _Mean:
    __slots__ = ("count", "total")

    def __init__(self) -> None:
        self.total, self.count = ZERO, 0

    def add(self, value: Decimal | None) -> None:
        if value is not None:
            self.total += value
            self.count += 1

    def value(self) -> Decimal | None:
        return self.total / self.count if self.count else None


class RunningStatistics:
    """``compute`` as a fold: ``add`` one more closed trade (oldest exit first), ``result()`` at any time — the
    same Decimal operations in the same order, so the result equals ``compute`` of the trades added."""

    def __init__(self) -> None:
        self.trades = self.wins = self.losses = 0
        self.gross_profit = self.gross_loss = self.commissions = ZERO
        self.cumulative = self.peak = self.trough = self.drawdown = self.runup = ZERO
        self.streak_w = self.streak_l = self.best_w = self.best_l = 0
        self.best: Decimal | None = None
        self.worst: Decimal | None = None
        self.hold, self.mae, self.mfe, self.efficiency, self.r = _Mean(), _Mean(), _Mean(), _Mean(), _Mean()

    def add(self, t: TradeFacts) -> None:
        pnl = t.net_pnl
        self.trades += 1
        if pnl > 0:
            self.wins += 1
            self.gross_profit += pnl
        elif pnl < 0:
            self.losses += 1
            self.gross_loss += pnl
        self.commissions += t.commissions
        self.cumulative += pnl
        self.peak, self.trough = max(self.peak, self.cumulative), min(self.trough, self.cumulative)
        self.drawdown = max(self.drawdown, self.peak - self.cumulative)
        self.runup = max(self.runup, self.cumulative - self.trough)
        self.streak_w = self.streak_w + 1 if pnl > 0 else 0
        self.streak_l = self.streak_l + 1 if pnl < 0 else 0
        self.best_w, self.best_l = max(self.best_w, self.streak_w), max(self.best_l, self.streak_l)
        self.best = pnl if self.best is None or pnl > self.best else self.best
        self.worst = pnl if self.worst is None or pnl < self.worst else self.worst
        self.hold.add(Decimal(str((t.exit_time - t.entry_time).total_seconds())))
        self.mae.add(t.mae)
        self.mfe.add(t.mfe)
        self.efficiency.add(t.total_efficiency)
        self.r.add(t.r_multiple)

    def result(self) -> Statistics:
        if not self.trades:
            return Statistics()
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
            avg_mae=self.mae.value(),
            avg_mfe=self.mfe.value(),
            avg_efficiency=self.efficiency.value(),
            avg_r=self.r.value(),
        )

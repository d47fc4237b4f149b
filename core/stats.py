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


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def compute(trades: Sequence[TradeFacts]) -> Statistics:
    """Statistics of ``trades`` (oldest first). An empty list gives zeros and "not available"."""
    if not trades:
        return Statistics()
    wins = [t.net_pnl for t in trades if t.net_pnl > 0]
    losses = [t.net_pnl for t in trades if t.net_pnl < 0]
    gross_profit, gross_loss = sum(wins, ZERO), sum(losses, ZERO)
    decided = len(wins) + len(losses)
    win_rate = Decimal(len(wins)) / decided if decided else None
    avg_win, avg_loss = _mean(wins), _mean(losses)
    expectancy = None
    if win_rate is not None:
        expectancy = (avg_win or ZERO) * win_rate + (avg_loss or ZERO) * (1 - win_rate)

    cumulative = peak = trough = ZERO
    drawdown = runup = ZERO
    streak_w = streak_l = best_w = best_l = 0
    for t in trades:
        cumulative += t.net_pnl
        peak, trough = max(peak, cumulative), min(trough, cumulative)
        drawdown, runup = max(drawdown, peak - cumulative), max(runup, cumulative - trough)
        streak_w = streak_w + 1 if t.net_pnl > 0 else 0
        streak_l = streak_l + 1 if t.net_pnl < 0 else 0
        best_w, best_l = max(best_w, streak_w), max(best_l, streak_l)

    holds = [Decimal(str((t.exit_time - t.entry_time).total_seconds())) for t in trades]
    return Statistics(
        trades=len(trades),
        wins=len(wins),
        losses=len(losses),
        breakevens=len(trades) - decided,
        net_pnl=gross_profit + gross_loss,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        commissions=sum((t.commissions for t in trades), ZERO),
        win_rate=win_rate,
        avg_win=avg_win,
        avg_loss=avg_loss,
        expectancy=expectancy,
        profit_factor=gross_profit / -gross_loss if losses else None,
        max_drawdown=drawdown,
        max_runup=runup,
        best=max(t.net_pnl for t in trades),
        worst=min(t.net_pnl for t in trades),
        longest_win_streak=best_w,
        longest_loss_streak=best_l,
        avg_hold_seconds=_mean(holds),
        avg_mae=_mean([t.mae for t in trades if t.mae is not None]),
        avg_mfe=_mean([t.mfe for t in trades if t.mfe is not None]),
        avg_efficiency=_mean([t.total_efficiency for t in trades if t.total_efficiency is not None]),
        avg_r=_mean([t.r_multiple for t in trades if t.r_multiple is not None]),
    )

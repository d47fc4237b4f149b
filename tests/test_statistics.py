"""Golden statistics: 20 trades whose every statistic is computed by hand below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from core.stats import Statistics, TradeFacts, compute
from core.tradingday import Period, period_start, trading_day_start

NET = [100, -50, 200, 0, -150, -25, 75, 50, -100, 300, -200, 0, 125, -75, 25, 150, -50, -50, -50, 100]
EFFICIENCY = {1: D("0.5"), 2: D("0.25"), 3: D(1), 4: D(0)}
R = {1: D(2), 2: D(-1), 3: D(4)}
T0 = datetime(2025, 11, 3, 14, 30, tzinfo=UTC)


def golden_trades() -> list[TradeFacts]:
    trades = []
    for i, pnl in enumerate(NET, start=1):
        entry = T0 + timedelta(hours=i)
        trades.append(
            TradeFacts(
                entry_time=entry,
                exit_time=entry + timedelta(minutes=i),  # held i minutes
                net_pnl=D(pnl),
                commissions=D("1.24"),
                mae=D(-i) if i <= 18 else None,
                mfe=D(2 * i) if i <= 18 else None,
                total_efficiency=EFFICIENCY.get(i),
                r_multiple=R.get(i),
            )
        )
    return trades


def q(value: D | None) -> D | None:
    return None if value is None else value.quantize(D("1e-10"))


def test_golden_statistics() -> None:
    s = compute(golden_trades())
    # wins 100+200+75+50+300+125+25+150+100 = 1125 (9); losses 50+150+25+100+200+75+50+50+50 = 750 (9); 2 breakeven
    assert (s.trades, s.wins, s.losses, s.breakevens) == (20, 9, 9, 2)
    assert (s.gross_profit, s.gross_loss, s.net_pnl) == (D(1125), D(-750), D(375))
    assert s.commissions == D("24.80")
    assert s.win_rate == D("0.5")  # 9 / 18, breakevens left out
    assert s.avg_win == D(125)
    assert q(s.avg_loss) == D("-83.3333333333")  # −750 / 9
    assert q(s.expectancy) == D("20.8333333333")  # 125 × 0.5 − 83.33 × 0.5 = 375 / 18
    assert s.profit_factor == D("1.5")  # 1125 / 750
    # cumulative: 100 50 250 250 100 75 150 200 100 400 200 200 325 250 275 425 375 325 275 375
    assert s.max_drawdown == D(200)  # 400 → 200
    assert s.max_runup == D(425)  # from 0 to 425
    assert (s.best, s.worst) == (D(300), D(-200))
    # W L W B L L W W L W L B W L W W L L L W
    assert (s.longest_win_streak, s.longest_loss_streak) == (2, 3)
    assert s.avg_hold_seconds == D(630)  # mean of 1..20 minutes = 10.5 min
    assert s.avg_mae == D("-9.5")  # −(1..18) / 18
    assert s.avg_mfe == D(19)
    assert s.avg_efficiency == D("0.4375")  # (0.5 + 0.25 + 1 + 0) / 4
    assert q(s.avg_r) == D("1.6666666667")  # (2 − 1 + 4) / 3


def test_empty_and_lossless_periods_say_not_available() -> None:
    assert compute([]) == Statistics()
    only_wins = compute(golden_trades()[:1])
    assert only_wins.profit_factor is None and only_wins.win_rate == 1
    only_breakeven = compute([golden_trades()[3]])
    assert only_breakeven.win_rate is None and only_breakeven.expectancy is None


def test_trading_day_starts_at_six_pm_new_york() -> None:
    # 17:59 New York on Thursday 20 Nov 2025 (22:59 UTC) is still Thursday's session (opened Wed 18:00)
    assert trading_day_start(datetime(2025, 11, 20, 22, 59, tzinfo=UTC)) == datetime(2025, 11, 19, 23, 0, tzinfo=UTC)
    # 18:00 New York opens Friday's session
    assert trading_day_start(datetime(2025, 11, 20, 23, 0, tzinfo=UTC)) == datetime(2025, 11, 20, 23, 0, tzinfo=UTC)
    # summer time: 18:00 EDT = 22:00 UTC
    assert trading_day_start(datetime(2025, 7, 10, 12, 0, tzinfo=UTC)) == datetime(2025, 7, 9, 22, 0, tzinfo=UTC)
    now = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)
    assert period_start(Period.WEEK, now) == datetime(2025, 11, 16, 23, 0, tzinfo=UTC)  # Sunday evening
    assert period_start(Period.MONTH, now) == datetime(2025, 10, 31, 22, 0, tzinfo=UTC)
    assert period_start(Period.YEAR, now) == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)
    assert period_start(Period.ALL, now) is None

"""Hand-computed accounting scenarios (issue 3). Point values: MES $5, MNQ $2, ES $50 per point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from core.accounting import ClosedTrade, Fill, Position, apply_fill, replay

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)


def f(n: int, qty: str, price: str, commission: str = "0", symbol: str = "MESZ25", account: str = "Sim1") -> Fill:
    return Fill(f"E{n}", account, symbol, D(qty), D(price), T0 + timedelta(minutes=n), D(commission))


def run(fills: list[Fill], pv: str = "5") -> tuple[Position | None, list[ClosedTrade]]:
    return replay(fills, D(pv))


def test_scale_in_then_full_exit() -> None:
    # buy 1 @ 100, buy 2 @ 103 → avg 102; sell 3 @ 105 → (105 − 102) × 3 × 5 = 45
    pos, trades = run([f(1, "1", "100"), f(2, "2", "103"), f(3, "-3", "105")])
    assert pos is None
    (t,) = trades
    assert (t.side, t.quantity, t.max_quantity, t.entry_price, t.exit_price) == ("LONG", 3, 3, D(102), D(105))
    assert t.net_pnl == D(45)


def test_partial_exits_at_three_prices() -> None:
    # long 6 @ 4000.00; sell 2 @ 4001.00 (+10), 2 @ 4002.50 (+25), 2 @ 3999.75 (−2.50) → +32.50
    fills = [f(1, "6", "4000.00"), f(2, "-2", "4001.00"), f(3, "-2", "4002.50"), f(4, "-2", "3999.75")]
    position = None
    realized = []
    for fill in fills:
        out = apply_fill(position, fill, D(5))
        position = out.position
        realized.append(out.realized_gross)
    assert realized == [D(0), D(10), D(25), D("-2.50")]
    assert position is None
    (t,) = replay(fills, D(5))[1]
    assert t.net_pnl == D("32.50")
    assert t.exit_price == D("4001.083333333333333333333333")  # (4001 + 4002.5 + 3999.75) / 3


def test_flip_in_one_fill() -> None:
    # long 2 @ 50.00 (NQ-style $20/pt), sell 5 @ 52.00: closes 2 (+80), opens short 3 @ 52
    pos, trades = run([f(1, "2", "50"), f(2, "-5", "52")], pv="20")
    assert trades[0].net_pnl == D(80)
    assert pos is not None and (pos.quantity, pos.avg_entry, pos.side) == (D(-3), D(52), "SHORT")


def test_flip_by_a_partial_fill() -> None:
    # short 1 @ 21000 (MNQ $2), a buy order of 3 partially fills 2 @ 20990: closes 1 (+20), opens long 1
    # then its last piece 1 @ 20992 adds to the long → long 2 @ 20991
    pos, trades = run([f(1, "-1", "21000"), f(2, "2", "20990"), f(3, "1", "20992")], pv="2")
    assert trades[0].side == "SHORT" and trades[0].net_pnl == D(20)
    assert pos is not None and (pos.quantity, pos.avg_entry) == (D(2), D(20991))


def test_short_round_trip() -> None:
    pos, trades = run([f(1, "-3", "6850.25"), f(2, "-1", "6851.25"), f(3, "4", "6848.00")])
    # avg short 6850.50; covered 4 @ 6848 → 2.5 × 4 × 5 = +50
    assert pos is None and trades[0].entry_price == D("6850.50") and trades[0].net_pnl == D(50)


def test_two_symbols_in_one_account_are_independent() -> None:
    mes = [f(1, "1", "6000", symbol="MESZ25"), f(3, "-1", "6002", symbol="MESZ25")]
    mnq = [f(2, "-2", "21000", symbol="MNQZ25"), f(4, "2", "21010", symbol="MNQZ25")]
    assert run(mes)[1][0].net_pnl == D(10)
    assert run(mnq, pv="2")[1][0].net_pnl == D(-40)


def test_two_accounts_at_once() -> None:
    sim = run([f(1, "1", "6000", account="Sim1"), f(2, "-1", "6001", account="Sim1")])
    live = run([f(1, "2", "6000", account="120005"), f(2, "-2", "5999", account="120005")])
    assert (sim[1][0].net_pnl, live[1][0].net_pnl) == (D(5), D(-10))


def test_commissions_on_every_side() -> None:
    # $0.62 per contract per side: buy 2 (1.24), buy 1 (0.62), sell 3 (1.86) → 3.72; gross (6002−6000.5)×3×5
    _, trades = run([f(1, "2", "6000", "1.24"), f(2, "1", "6001.5", "0.62"), f(3, "-3", "6002", "1.86")])
    (t,) = trades
    assert (t.gross_pnl, t.commissions, t.net_pnl) == (D("22.5"), D("3.72"), D("18.78"))


def test_mae_mfe_follow_the_price_path() -> None:
    # long 2 @ 100 ($5/pt): marks 99 (−10), 104 (+40), 97 (−30), exit @ 102 (+20)
    out = apply_fill(None, f(1, "2", "100"), D(5))
    pos = out.position
    assert pos is not None
    for price in ("99", "104", "97"):
        pos = pos.mark(D(price), D(5))
    (trade,) = [apply_fill(pos, f(2, "-2", "102"), D(5)).closed_trade]
    assert trade is not None
    assert (trade.mae, trade.mfe, trade.gross_pnl) == (D(-30), D(40), D(20))
    assert (trade.trade_min_price, trade.trade_max_price) == (D(97), D(104))
    eff = trade.efficiency
    assert eff is not None  # range 70: entry 40/70, exit (20+30)/70, total 20/70
    assert (eff.entry, eff.exit, eff.total) == (D(40) / D(70), D(50) / D(70), D(20) / D(70))


def test_zero_range_has_no_efficiency_and_no_stop_has_no_r() -> None:
    _, trades = run([f(1, "1", "100"), f(2, "-1", "100")])
    assert trades[0].efficiency is None and trades[0].r_multiple is None


def test_r_multiple_from_stop_at_entry() -> None:
    from dataclasses import replace

    pos = apply_fill(None, f(1, "2", "100"), D(5)).position
    assert pos is not None
    pos = replace(pos, stop_price=D(98))  # risk (100 − 98) × 2 × 5 = 20
    trade = apply_fill(pos, f(2, "-2", "105", "2.00"), D(5)).closed_trade
    assert trade is not None and trade.initial_risk == D(20)
    assert trade.r_multiple == D("2.4")  # net 48 / 20

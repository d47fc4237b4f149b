"""Position accounting: hand-computed scenarios (MES, $5 per point)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from core.accounting import Fill, InvalidFill, PositionEventKind, apply_fill, replay

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)
PV = D(5)


def fill(n: int, qty: str, price: str, commission: str = "0", symbol: str = "MESZ25", account: str = "Sim1") -> Fill:
    return Fill(f"E{n}", account, symbol, D(qty), D(price), T0 + timedelta(seconds=n), D(commission))


def test_issue2_round_trip_two_trades_to_the_cent() -> None:
    fills = [
        fill(1, "1", "6000.00"),
        fill(2, "1", "6000.50"),
        fill(3, "1", "6001.00"),
        fill(4, "-2", "6003.00"),
        fill(5, "-2", "6002.00"),
        fill(6, "1", "6001.25"),
    ]
    kinds = []
    position = None
    trades = []
    for f in fills:
        out = apply_fill(position, f, PV)
        kinds.append(out.event)
        position = out.position
        if out.closed_trade:
            trades.append(out.closed_trade)
    assert kinds == [
        PositionEventKind.OPENED,
        PositionEventKind.INCREASED,
        PositionEventKind.INCREASED,
        PositionEventKind.DECREASED,
        PositionEventKind.FLIPPED,
        PositionEventKind.CLOSED,
    ]
    assert position is None
    long_trade, short_trade = trades
    # long 3 @ (6000 + 6000.5 + 6001)/3 = 6000.50; sold 2 @ 6003 (+25.00) and 1 @ 6002 (+7.50)
    assert (long_trade.side, long_trade.quantity, long_trade.entry_price) == ("LONG", 3, D("6000.50"))
    assert long_trade.net_pnl == D("32.50")
    assert long_trade.exit_time == fills[4].time
    # short 1 @ 6002.00 covered @ 6001.25: 0.75 pt x $5 = +3.75
    assert (short_trade.side, short_trade.quantity, short_trade.entry_price) == ("SHORT", 1, D("6002.00"))
    assert (short_trade.exit_price, short_trade.net_pnl) == (D("6001.25"), D("3.75"))


def test_intermediate_positions_of_the_round_trip() -> None:
    position = None
    seen = []
    for f in [fill(1, "1", "6000.00"), fill(2, "1", "6000.50"), fill(3, "1", "6001.00"), fill(4, "-2", "6003.00")]:
        position = apply_fill(position, f, PV).position
        assert position is not None
        seen.append((position.quantity, position.avg_entry))
    assert seen == [(1, D("6000.00")), (2, D("6000.25")), (3, D("6000.50")), (1, D("6000.50"))]
    assert position.realized_gross == D("25.00")


def test_flip_pro_rates_commission_between_close_and_open() -> None:
    # long 1 @ 100 (commission 1.00), sell 3 @ 102 (commission 3.00): closes 1 (1.00), opens short 2 (2.00)
    out1 = apply_fill(None, fill(1, "1", "100", "1.00"), PV)
    out2 = apply_fill(out1.position, fill(2, "-3", "102", "3.00"), PV)
    assert out2.event is PositionEventKind.FLIPPED
    trade = out2.closed_trade
    assert trade is not None
    assert (trade.gross_pnl, trade.commissions, trade.net_pnl) == (D("10.00"), D("2.00"), D("8.00"))
    assert out2.position is not None
    assert (out2.position.quantity, out2.position.avg_entry, out2.position.commissions) == (D(-2), D(102), D("2.00"))


def test_short_round_trip_loses_when_price_rises() -> None:
    position, trades = replay([fill(1, "-2", "5000.25"), fill(2, "2", "5001.00")], PV)
    assert position is None
    assert trades[0].side == "SHORT" and trades[0].net_pnl == D("-7.50")


def test_scale_out_keeps_average_entry() -> None:
    position, _ = replay([fill(1, "4", "10"), fill(2, "2", "13"), fill(3, "-3", "12")], PV)
    assert position is not None
    assert position.quantity == 3 and position.avg_entry == D(11)
    assert position.realized_gross == D(15)  # (12 - 11) x 3 x 5


@pytest.mark.parametrize(
    "qty,price,commission", [("0", "1", "0"), ("NaN", "1", "0"), ("1", "Infinity", "0"), ("1", "1", "-1")]
)
def test_absurd_fills_are_refused(qty: str, price: str, commission: str) -> None:
    with pytest.raises(InvalidFill):
        Fill("X", "Sim1", "MES", D(qty), D(price), T0, D(commission))


def test_fill_for_another_symbol_is_refused() -> None:
    position = apply_fill(None, fill(1, "1", "10"), PV).position
    with pytest.raises(ValueError):
        apply_fill(position, fill(2, "1", "10", symbol="MNQZ25"), PV)

"""Panel3 and Panel1 over real trades: every statistic's text for six trades made from fills and prices,
today's P&L with open P&L, the trades table sorted by value, CSV export, balances and the equity curve.

Instrument XYZ: $1 per point, so every price difference below is directly money. Commission $0.50 per fill.

    #  side   entry low/high  exit  gross  net   MAE   MFE   eff.          stop  R
    1  LONG   100   98/104    103   +3     +2    -2    +4    3/6 = 50.0%   99    +2.00
    2  SHORT  100   97/102    95    +5     +4    -2    +5    5/7 = 71.4%   —     —
    3  LONG   100   96/101    97    -3     -4    -4    +1    -3/5 = -60%   98    -2.00
    4  LONG   100   95/100.5  96    -4     -5    -5    +0.5  -4/5.5        99    -5.00
    5  LONG   100   99/102    101   +1     0     -1    +2    1/3 = 33.3%   —     —
    6  SHORT  100   98/101    98.5  +1.5   +0.5  -1    +2    1.5/3 = 50%   —     —
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from PySide6.QtCore import Qt

from core.prices import Quote
from core.snapshots import EquityPoint, TradeRow
from core.state import StateManager
from core.tradingday import Period
from dtc.types import BuySellEnum, OrderStatusEnum, OrderTypeEnum
from panels.equity_chart import NO_DATA
from panels.main_window import MainWindow
from panels.trades_csv import CSV_HEADER, write_trades_csv
from tests.test_panels import Clock, fill, make_state, make_window, working

XYZ = {"XYZ": (D(1), D("0.01"))}
STOP = OrderTypeEnum.ORDER_TYPE_STOP
CANCELED = OrderStatusEnum.ORDER_STATUS_CANCELED
T0 = datetime(2025, 11, 3, 14, 30, tzinfo=UTC)
# (side, low, high, exit, stop) per trade; every entry at 100
TRADES = [
    (1, "98", "104", "103", "99"),
    (-1, "97", "102", "95", None),
    (1, "96", "101", "97", "98"),
    (1, "95", "100.5", "96", "99"),
    (1, "99", "102", "101", None),
    (-1, "98", "101", "98.5", None),
]


def trade_through_fills(state: StateManager) -> None:
    """Six closed XYZ trades in account Sim1; trade i is held 60 i + 10 seconds."""
    for i, (side, low, high, exit_, stop) in enumerate(TRADES, start=1):
        start = T0 + timedelta(hours=i)
        closing = BuySellEnum.SELL if side > 0 else BuySellEnum.BUY
        if stop is not None:  # working before the entry: the stop at entry gives the initial risk
            state.orders.on_order_update(working(f"S{i}", closing, STOP, float(stop), 1, "XYZ"))
        state.apply_fill(fill(10 * i, str(side), "100", start, symbol="XYZ", fee="0.50"))
        state.on_price(Quote("XYZ", D(low if side > 0 else high), start + timedelta(seconds=20), "dtc"))
        state.on_price(Quote("XYZ", D(high if side > 0 else low), start + timedelta(seconds=40), "dtc"))
        state.apply_fill(
            fill(10 * i + 1, str(-side), exit_, start + timedelta(seconds=60 * i + 10), "Sim1", "XYZ", "0.50")
        )
        if stop is not None:
            state.orders.on_order_update(working(f"S{i}", closing, STOP, float(stop), 1, "XYZ", CANCELED))


def window_with_trades(tmp_path: Path, qtbot) -> tuple[StateManager, MainWindow]:  # type: ignore[no-untyped-def]
    clock = Clock(T0 + timedelta(days=1))
    state = make_state(tmp_path, clock, XYZ)
    window = make_window(state, clock, qtbot)
    trade_through_fills(state)
    state.set_period(Period.ALL)
    return state, window


def test_every_statistic_of_six_trades(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    _, window = window_with_trades(tmp_path, qtbot)
    assert window.panel3.stat_texts() == {
        "trades": "6",
        "wins": "3",
        "losses": "2",
        "breakevens": "1",
        "net_pnl": "-$2.50",
        "gross_profit": "+$6.50",
        "gross_loss": "-$9.00",
        "commissions": "$6.00",
        "win_rate": "60.0%",  # 3 / 5, the breakeven left out
        "avg_win": "+$2.17",
        "avg_loss": "-$4.50",
        "expectancy": "-$0.50",  # 2.1667 x 0.6 - 4.50 x 0.4
        "profit_factor": "0.72",  # 6.50 / 9.00
        "max_drawdown": "-$9.00",  # cumulative 2 6 2 -3 -3 -2.5: from 6 to -3
        "max_runup": "+$6.00",
        "best": "+$4.00",
        "worst": "-$5.00",
        "longest_win_streak": "2",  # W W L L B W
        "longest_loss_streak": "2",
        "avg_hold_seconds": "3 min 40 s",  # (70 + 130 + … + 370) / 6 = 220 s
        "avg_mae": "-$2.50",  # -15 / 6
        "avg_mfe": "+$2.42",  # 14.5 / 6
        "avg_efficiency": "12.0%",  # (0.5 + 0.7143 - 0.6 - 0.7273 + 0.3333 + 0.5) / 6
        "avg_r": "-1.67 R",  # (2 - 2 - 5) / 3
    }
    assert window.panel3.title() == "Statistics — All · SIM Sim1"
    assert window.panel3.trades_title.text() == "6 closed trades — All"


def test_trades_table_sorts_by_value_not_text(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    _, window = window_with_trades(tmp_path, qtbot)
    panel = window.panel3
    assert panel.table_column(0)[0] == "2025-11-03 20:30:00"  # newest exit first by default (UTC display)
    row = [panel.model.index(0, c).data() for c in range(panel.model.columnCount())]
    assert row == ["2025-11-03 20:30:00", "2025-11-03 20:36:10", "XYZ", "SHORT", "1", "100.00", "98.50", "+$0.50",
                   "-$1.00", "+$2.00", "50.0%", "—", ""]  # fmt: skip  (last: not compared with Sierra Chart)
    panel.table.sortByColumn(7, Qt.SortOrder.AscendingOrder)
    assert panel.table_column(7) == ["-$5.00", "-$4.00", "$0.00", "+$0.50", "+$2.00", "+$4.00"]
    panel.table.sortByColumn(10, Qt.SortOrder.DescendingOrder)
    assert panel.table_column(10) == ["71.4%", "50.0%", "50.0%", "33.3%", "-60.0%", "-72.7%"]
    panel.table.sortByColumn(11, Qt.SortOrder.DescendingOrder)
    assert panel.table_column(11) == ["+2.00 R", "-2.00 R", "-5.00 R", "—", "—", "—"]


def test_a_closed_trade_is_appended_to_the_table_without_a_reset(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    state, window = window_with_trades(tmp_path, qtbot)
    resets = window.panel3.model.resets
    for _ in range(5):
        state.touch()
        state.publish()
    assert window.panel3.model.resets == resets
    state.apply_fill(fill(99, "1", "100", T0 + timedelta(hours=9), symbol="XYZ"))
    state.apply_fill(fill(98, "-1", "101", T0 + timedelta(hours=9, minutes=1), symbol="XYZ"))
    qtbot.waitUntil(lambda: len(window.panel3.table_column(0)) == 7, timeout=2000)
    assert window.panel3.model.resets == resets  # the new trade is inserted, the table is not rebuilt
    assert "XYZ" in {t.symbol for t in window.panel3.model.trades}
    assert window.panel3.trades_title.text().startswith("7 closed trades")
    assert window.panel3.stats["trades"].text() == "7"


def test_csv_writer_uses_one_number_format_per_column(tmp_path: Path) -> None:
    trades = (
        TradeRow("MESZ25", "LONG", D(3), T0, T0 + timedelta(minutes=4), D("6000.375"), D("6002.75"), D("32.5"),
                 D("-12.5"), D("40"), D("0.8125"), D("1.3"), D("-0.125"), D("2.75"), D("0.25"), "",
                 commissions=D("3.72")),
        TradeRow("MNQZ25", "SHORT", D(1), T0, T0 + timedelta(seconds=5), D("21000"), D("21001"), D("-2.62"),
                 None, None, None, D("-0.98113207547"), None, None, D("0.25"), "", commissions=D("0")),
        TradeRow("NQZ25", "LONG", D("75.000000000000"), T0, T0 + timedelta(seconds=9), D("21000.25"), D("21001"),
                 D(0), D("-10.00"), D(0), None, None),
    )  # fmt: skip
    path = tmp_path / "trades.csv"
    assert write_trades_csv(path, trades, account="Sim1") == 3
    assert path.read_text(encoding="utf-8").splitlines() == [
        ",".join(CSV_HEADER),
        "Sim1,2025-11-03T14:30:00+00:00,2025-11-03T14:34:00+00:00,MESZ25,LONG,3,6000.375,6002.750,32.50,3.72,,"
        "-12.50,40.00,-0.125,2.750,-0.5,11.0,0.8125,1.30",
        "Sim1,2025-11-03T14:30:00+00:00,2025-11-03T14:30:05+00:00,MNQZ25,SHORT,1,21000.000,21001.000,-2.62,0.00,,"
        ",,,,,,,-0.98",
        "Sim1,2025-11-03T14:30:00+00:00,2025-11-03T14:30:09+00:00,NQZ25,LONG,75,21000.250,21001.000,0.00,,,"
        "-10.00,0.00,,,,,,",
    ]


def test_export_button_path_writes_the_shown_trades(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    _, window = window_with_trades(tmp_path, qtbot)
    target = tmp_path / "out.csv"
    window.panel3.export_to(target)
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [D(r["net_pnl"]) for r in rows] == [D(2), D(4), D(-4), D(-5), D(0), D("0.5")]
    assert window.panel3.export_status.text() == "6 trade(s) written to out.csv"
    window.panel3.export_to(tmp_path / "missing-dir" / "x.csv")
    assert window.panel3.export_status.text().startswith("Export failed:")


def test_today_shows_realized_and_open_pnl(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    clock = Clock(now)
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(fill(1, "2", "6000", now - timedelta(seconds=60)))
    state.apply_fill(fill(2, "-2", "6003.25", now - timedelta(seconds=50)))  # +32.50
    state.apply_fill(fill(3, "-1", "6004", now - timedelta(seconds=40)))
    state.on_price(Quote("MESZ25", D("6006.5"), now, "dtc"))  # short 1 from 6004: -12.50 open
    state.publish()
    panel = window.panel3
    assert (panel.realized.text(), panel.open_pnl.text(), panel.total.text(), panel.trades.text()) == (
        "+$32.50",
        "-$12.50",
        "+$20.00",
        "1",
    )
    assert panel.title() == "Statistics — Today · SIM Sim1"


def test_account_panel_balances_and_live_equity(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(datetime.now(UTC))
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.set_accounts([("120005", True), ("Sim1", False)])
    state.on_balance("120005", D("25030"), "USD", D("-12.5"), D("30"), True)
    state.on_balance("120005", D("25065"), "USD", D("0"), D("65"), True)
    state.set_scope("LIVE", "120005")
    p1 = window.panel1
    assert p1.title() == "Account 120005 (LIVE) — Sierra Chart's figures"
    assert (p1.cash.text(), p1.daily_pnl.text(), p1.open_pnl.text(), p1.available.text()) == (
        "$25,065.00",
        "+$65.00",
        "$0.00",
        "—",
    )
    assert not p1.disabled.isHidden() and p1.disabled.text() == "TRADING DISABLED"
    assert window.scope_picker.itemText(1) == "LIVE · 120005 (trading disabled)"
    curve = window.last_snapshot.equity_curve  # type: ignore[union-attr]
    assert [p.value for p in curve] == [D(25030), D(25065)]
    assert p1.chart.title.text() == "Account value (from Sierra Chart balance updates)"
    stamp = curve[0].time.strftime("%Y-%m-%d %H:%M:%S")
    assert p1.chart.readout_at(curve[0].time.timestamp() - 5) == f"{stamp} · $25,030.00"
    assert p1.chart._stack.currentWidget() is p1.chart.plot


def test_sim_equity_curve_hover_and_empty_period(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    _, window = window_with_trades(tmp_path, qtbot)
    chart = window.panel1.chart
    assert chart.title.text() == "Cumulative net P&L of closed trades"
    assert chart.readout.text() == "Latest: 2025-11-03 20:36:10 · -$2.50"
    exit_2 = (T0 + timedelta(hours=2, seconds=130)).timestamp()
    assert chart.readout_at(exit_2 + 60) == "2025-11-03 16:32:10 · +$6.00"
    assert window.panel1.period_buttons[Period.ALL].isChecked()
    window.panel1.period_buttons[Period.WEEK].click()  # the 2025 trades are not in this week
    assert window.last_snapshot.period == "week"  # type: ignore[union-attr]
    assert window.panel1.period_buttons[Period.WEEK].isChecked()
    assert chart._stack.currentWidget() is chart.empty and chart.empty.text() == NO_DATA
    assert window.panel3.stat_texts()["trades"] == "0" and window.panel3.stat_texts()["win_rate"] == "—"


def test_equity_points_nearest_lookup(qtbot) -> None:  # type: ignore[no-untyped-def]
    from panels.equity_chart import EquityChart
    from panels.theme import SIM

    chart = EquityChart(tz=UTC)
    qtbot.addWidget(chart)
    points = tuple(EquityPoint(T0 + timedelta(minutes=m), D(v)) for m, v in ((0, 0), (10, 5), (20, -7.5)))
    assert chart.set_curve(points, "trades", SIM)
    assert not chart.set_curve(points, "trades", SIM)  # same tuple: nothing redrawn
    assert chart.readout_at(T0.timestamp() + 4 * 60) == "2025-11-03 14:30:00 · $0.00"
    assert chart.readout_at(T0.timestamp() + 6 * 60) == "2025-11-03 14:40:00 · +$5.00"
    assert chart.readout_at(T0.timestamp() + 99 * 60) == "2025-11-03 14:50:00 · -$7.50"


def test_equity_axes_never_zoom_to_fractions_of_a_second_or_cents(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Two balance updates seconds apart with the same value drew a time axis of "55.750 56.000" and a money
    axis of "24999.6 … 25000.4"."""
    from panels.equity_chart import MIN_SPAN_MONEY, MIN_SPAN_S, EquityChart
    from panels.theme import LIVE

    chart = EquityChart(tz=UTC)
    qtbot.addWidget(chart)
    chart.resize(460, 280)
    chart.show()
    points = (EquityPoint(T0, D(25000)), EquityPoint(T0 + timedelta(seconds=3), D(25000)))
    chart.set_curve(points, "balance", LIVE)
    qtbot.waitUntil(lambda: chart.plot is not None and chart._stack.currentWidget() is chart.plot, timeout=10_000)
    assert chart.plot is not None
    (x0, x1), (y0, y1) = chart.plot.getPlotItem().viewRange()
    assert x1 - x0 >= MIN_SPAN_S and x0 <= T0.timestamp() and x1 >= T0.timestamp() + 3
    assert y1 - y0 >= MIN_SPAN_MONEY and y0 <= 25000 <= y1

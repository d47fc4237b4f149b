"""The trade charts: exact figures from core (no Qt), then the real window drawing them for the chosen period and
account from trades stored through fills, and a PNG of each chart written and readable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from PySide6.QtGui import QImage

from core.prices import Quote
from core.trade_charts import R_BIN, R_RANGE, chart_data
from core.tradingday import Period
from tests.test_panels import Clock, fill, make_state, make_window

T = datetime(2025, 11, 3, 14, 30, tzinfo=UTC)


def test_chart_figures_are_exact() -> None:
    facts = [
        (T, T + timedelta(minutes=3), D("32.5"), D("-12.5"), D("1.3"), ""),
        (T.replace(hour=9), T, D("-20"), D("-25"), D("-1"), ""),
        (T.replace(hour=9, minute=59), T, D("0"), None, None, ""),
        (T, T, D("-5"), D("-7.5"), D("-9"), ""),  # beyond −4 R: the first bin
        (T, T, D("99"), D("0"), D("12"), ""),  # beyond +8 R: the last bin
        (T, T, D("40"), D("-1"), D("2"), "EUR"),  # another currency: left out, counted
    ]
    data = chart_data(facts, UTC)
    assert data.trades == 5 and data.excluded == 1
    assert data.mae == (-12.5, -25.0, -7.5, 0.0) and data.pnl == (32.5, -20.0, -5.0, 99.0)
    assert (data.winners, data.losers) == (2, 2)
    assert data.r_edges[0] == R_RANGE[0] and data.r_edges[-1] == R_RANGE[1] - R_BIN
    counts = dict(zip(data.r_edges, data.r_counts, strict=True))
    assert counts[-4.0] == 1 and counts[-1.0] == 1 and counts[1.0] == 1 and counts[7.5] == 1
    assert sum(data.r_counts) == 4 and data.without_r == 1
    assert data.hour_trades[14] == 3 and data.hour_trades[9] == 2
    assert data.hour_pnl[14] == 32.5 - 5 + 99 and data.hour_pnl[9] == -20.0


def test_window_draws_the_periods_charts_and_saves_each_as_png(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(T + timedelta(days=1))
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.set_period(Period.ALL)
    n = 0
    for i, (entry, exit_) in enumerate([("6000", "6004"), ("6000", "5997"), ("6000", "6001.25"), ("6000", "5999")]):
        at = T + timedelta(hours=i)
        n += 1
        state.apply_fill(fill(n, "1", entry, at, account="Sim1"))
        state.on_price(Quote("MESZ25", D(entry) - 2, at, "dtc"))  # 2 points against: the MAE
        n += 1
        state.apply_fill(fill(n, "-1", exit_, at + timedelta(minutes=5), account="Sim1"))
    state.apply_fill(fill(99, "2", "21000", T, account="120005", symbol="MNQZ25"))  # LIVE: another account
    state.set_scope("SIM", "Sim1")
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    assert window.layout_mode == "wide"
    assert window.charts.data is None  # nothing is computed while the charts are not on screen
    window.show_charts()
    qtbot.waitUntil(lambda: window.charts.data is not None and window.charts.data.trades == 4, timeout=5000)
    data = window.charts.data
    assert data is not None
    assert sorted(data.pnl) == [-15.0, -5.0, 6.25, 20.0]  # MES: $5 a point
    assert (data.winners, data.losers) == (2, 2)
    assert window.charts.caption.text() == "Closed trades of All · SIM Sim1"
    assert window.charts.drawn_points() == (2, 2, 0)
    plot = window.charts.r_hist.plot
    assert plot is not None  # no trade had a stop: an empty histogram counts from 0, never negative trades
    low, high = plot.getPlotItem().viewRange()[1]
    assert -0.1 <= low <= 0 and high >= 1
    assert sum(data.hour_trades) == 4 and data.hour_trades[14] == 1 and data.hour_trades[17] == 1
    assert window.charts.hours.note.text().startswith("4 trades by the hour")
    # a trade that closes now is added (redrawn within the burst interval)
    state.apply_fill(fill(200, "1", "6000", T + timedelta(hours=5), account="Sim1"))
    state.apply_fill(fill(201, "-1", "6010", T + timedelta(hours=5, minutes=1), account="Sim1"))
    qtbot.waitUntil(lambda: window.charts.data is not None and window.charts.data.trades == 5, timeout=5000)
    # each chart as a PNG a trader can paste anywhere
    for box in window.charts.boxes():
        path = tmp_path / f"{box.name}.png"
        assert box.export_png(path)
        image = QImage(str(path))
        assert not image.isNull() and image.width() >= 160 and image.height() >= 140
    # another account: its own trades (none closed)
    state.set_scope("LIVE", "120005")
    qtbot.waitUntil(lambda: window.charts.data is not None and window.charts.data.trades == 0, timeout=5000)
    assert window.charts.caption.text() == "Closed trades of All · LIVE 120005"

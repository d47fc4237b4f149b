"""Day summaries (issue 10): folding a period day by day from ``DaySummary`` rows gives exactly the statistics
of folding its trades one by one — every figure, including streaks and drawdowns that span days — also after
a JSON round trip (what the database keeps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from core.day_summary import add_summary, from_json, summarize, to_json
from core.stats import RunningStatistics, TradeFacts
from data.trade_queries import COLUMNS, TradeColumns

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)

trade = st.tuples(
    st.integers(0, 3),  # day
    st.integers(-40, 40),  # net P&L in quarters of a dollar
    st.sampled_from(["", "", "", "pt"]),  # pnl_unit
    st.one_of(st.none(), st.integers(-50, 0)),  # MAE
    st.integers(1, 7200),  # hold seconds
)


def _columns(trades: list[tuple[int, int, str, int | None, int]], first_id: int = 1) -> TradeColumns:
    values: dict[str, list] = {name: [] for name in COLUMNS}
    for k, (day, quarters, unit, mae, hold) in enumerate(trades):
        exit_time = T0 + timedelta(days=day, minutes=k)
        values["id"].append(first_id + k)
        values["entry_time"].append(exit_time - timedelta(seconds=hold, microseconds=k * 7))
        values["exit_time"].append(exit_time)
        values["realized_pnl"].append(D(quarters) / 4)
        values["commissions"].append(D("1.24"))
        values["mae"].append(None if mae is None else D(mae) / 4)
        values["mfe"].append(D(abs(quarters)) / 2)
        values["total_efficiency"].append(None)
        values["r_multiple"].append(D(quarters) / 8 if quarters % 3 else None)
        values["pnl_unit"].append(unit)
    return TradeColumns(**values)


def _day(c: TradeColumns, day: int) -> TradeColumns:
    keep = [i for i, t in enumerate(c.exit_time) if (t - T0).days == day]
    return c.take(keep)


@settings(max_examples=300, deadline=None)
@given(st.lists(trade, max_size=40).map(lambda ts: sorted(ts, key=lambda t: t[0])))
def test_days_folded_from_summaries_equal_the_trades_folded_one_by_one(trades) -> None:  # type: ignore[no-untyped-def]
    c = _columns(trades)
    expected = RunningStatistics()
    cumulatives = []
    for i in range(len(c)):
        if c.pnl_unit[i]:
            expected.excluded += 1
            continue
        expected.add(
            TradeFacts(c.entry_time[i], c.exit_time[i], c.realized_pnl[i], c.commissions[i], c.mae[i], c.mfe[i],
                       c.total_efficiency[i], c.r_multiple[i])
        )  # fmt: skip
        cumulatives.append(expected.cumulative)
    folded = RunningStatistics()
    curve = []
    for day in range(4):
        summary = from_json(to_json(summarize(_day(c, day))))
        curve += add_summary(folded, summary)
    assert folded.result() == expected.result()
    assert (folded.cumulative, folded.peak, folded.trough, folded.streak_w, folded.streak_l) == (
        expected.cumulative, expected.peak, expected.trough, expected.streak_w, expected.streak_l
    )  # fmt: skip
    # the curve keeps each day's first, lowest, highest and last value: every peak and trough, and the end
    values = [v for _, v in curve]
    assert (values[-1:], max(values, default=None), min(values, default=None)) == (
        cumulatives[-1:],
        max(cumulatives, default=None),
        min(cumulatives, default=None),
    )


def test_a_day_summary_survives_json_exactly() -> None:
    c = _columns([(0, 5, "", -3, 60), (0, -7, "pt", None, 90), (0, 0, "", None, 30)])
    summary = summarize(c)
    again = from_json(to_json(summary))
    assert again == summary
    assert (again.trades, again.excluded, again.count, again.last_id) == (2, 1, 3, 3)
    assert str(again.net) == "1.25"

"""Long periods from day summaries (issue 10): ``load_period`` gives exactly the statistics, trade rows and
curve extremes that folding every trade gives (``load_history``), keeps the summaries in the database, and
folds again only the days of trades stored since — also a trade stored late into an old day, and a summary
row that cannot be read. Real SQLite files in a temp dir."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from benchmarks.dbgen import ACCOUNT, MODE, generate
from core.history_load import LoadedHistory, load_history
from core.long_history import load_period
from core.stats import Statistics
from data.db import make_engine
from data.models import TradeRecord
from data.summary_store import read_summaries
from data.trade_queries import newest_trade_id

TRADES = 3000


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "data"
    generate(path, TRADES)
    return path


def _copy(data_dir: Path, tmp_path: Path) -> Engine:
    import shutil

    target = tmp_path / "data"
    shutil.copytree(data_dir, target)
    return make_engine(target)


def _figures(loaded: LoadedHistory) -> Statistics:
    """The statistics, the averages of fractions (efficiency, R: 28 significant digits, so a sum in another
    order may differ in the last one) to 20 decimal places; everything else as computed."""
    s = loaded.running.result()
    return replace(
        s,
        avg_efficiency=None if s.avg_efficiency is None else s.avg_efficiency.quantize(D("1e-20")),
        avg_r=None if s.avg_r is None else s.avg_r.quantize(D("1e-20")),
    )


def assert_same(got: LoadedHistory, ref: LoadedHistory) -> None:
    assert _figures(got) == _figures(ref)
    assert (got.running.cumulative, got.running.streak_w, got.running.streak_l) == (
        ref.running.cumulative, ref.running.streak_w, ref.running.streak_l
    )  # fmt: skip
    assert len(got.rows) == len(ref.rows)
    assert got.rows[-600:] == ref.rows[-600:]  # the listed rows and some beyond
    assert [got.rows[0], got.rows[len(ref.rows) // 2]] == [ref.rows[0], ref.rows[len(ref.rows) // 2]]
    assert (got.last_id, got.last_exit) == (ref.last_id, ref.last_exit)
    assert list(got.rows.facts()) == list(ref.rows.facts())  # what the charts draw: every trade of the period
    got_values, ref_values = [p.value for p in got.trade_curve], [p.value for p in ref.trade_curve]
    assert (got_values[-1], max(got_values), min(got_values)) == (ref_values[-1], max(ref_values), min(ref_values))
    assert got.trade_curve[0] == ref.trade_curve[0]
    assert len(got.trade_curve) < len(ref.trade_curve)  # a few points a day, not one per trade


def _since(days_ago: int, hours: int = 7) -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago, hours=-hours)


@pytest.mark.parametrize("since", [None, "mid"])
def test_a_long_period_from_summaries_equals_every_trade_folded(data_dir: Path, tmp_path: Path, since) -> None:  # type: ignore[no-untyped-def]
    engine = _copy(data_dir, tmp_path)
    start = None if since is None else _since(120)  # 07:00 UTC: the first day is only partly in the period
    got = load_period(engine, MODE, ACCOUNT, start, summarize_above=0)
    assert_same(got, load_history(engine, MODE, ACCOUNT, start))
    covered, stored = read_summaries(engine, MODE, ACCOUNT)
    assert covered == newest_trade_id(engine)
    assert len(stored) >= 300  # one row per UTC day with trades (a year of them)
    again = load_period(engine, MODE, ACCOUNT, start, summarize_above=0)  # now from the stored rows
    assert_same(again, load_history(engine, MODE, ACCOUNT, start))
    engine.dispose()


def _trade(exit_time: datetime, pnl: str) -> TradeRecord:
    return TradeRecord(
        mode=MODE, account=ACCOUNT, symbol="MESZ25", side="LONG", qty=D(1), max_qty=D(1), entry_price=D(6000),
        exit_price=D(6000) + D(pnl) / 5, entry_time=exit_time - timedelta(minutes=3), exit_time=exit_time,
        gross_pnl=D(pnl), commissions=D("1.24"), realized_pnl=D(pnl) - D("1.24"), point_value=D(5),
        mae=D(-5), mfe=D(pnl) + 5,
    )  # fmt: skip


def test_trades_stored_later_even_into_an_old_day_are_folded_in(data_dir: Path, tmp_path: Path) -> None:
    engine = _copy(data_dir, tmp_path)
    load_period(engine, MODE, ACCOUNT, None, summarize_above=0)
    old_day = _since(200, hours=12)
    with Session(engine) as session:  # a history fill replayed late closes a trade on an old day
        session.add(_trade(old_day, "-7000"))  # the deepest drawdown of the year: it must show
        session.add(_trade(datetime.now(UTC) - timedelta(seconds=5), "12.50"))
        session.commit()
    got = load_period(engine, MODE, ACCOUNT, None, summarize_above=0)
    ref = load_history(engine, MODE, ACCOUNT, None)
    assert_same(got, ref)
    assert got.running.result().worst == D("-7001.24")
    engine.dispose()


def test_a_summary_that_cannot_be_read_is_folded_again(data_dir: Path, tmp_path: Path) -> None:
    engine = _copy(data_dir, tmp_path)
    load_period(engine, MODE, ACCOUNT, None, summarize_above=0)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tradedaysummary SET summary = '{\"trades\": 1}' WHERE rowid IN (3, 40)")
        conn.exec_driver_sql("UPDATE tradedaysummary SET summary = 'not json' WHERE rowid = 41")
    assert_same(load_period(engine, MODE, ACCOUNT, None, summarize_above=0), load_history(engine, MODE, ACCOUNT, None))
    _, stored = read_summaries(engine, MODE, ACCOUNT)
    assert all(text.startswith("[1,") for text in stored.values())  # every day written again in this layout
    engine.dispose()


def test_a_short_period_is_still_loaded_trade_by_trade(data_dir: Path, tmp_path: Path) -> None:
    engine = _copy(data_dir, tmp_path)
    start = _since(20)
    got = load_period(engine, MODE, ACCOUNT, start)  # ~160 trades: under the default threshold
    ref = load_history(engine, MODE, ACCOUNT, start)
    assert _figures(got) == _figures(ref)
    assert got.trade_curve == ref.trade_curve  # a point per trade
    engine.dispose()


def test_reading_the_trades_stored_since_walks_the_primary_key_not_the_history(
    data_dir: Path, tmp_path: Path
) -> None:
    """What a trade closing reads (``trades_after``) costs the rows stored since, whatever the history: SQLite's
    plan for the statement it runs is a primary-key range, not the scope's index (which walked every trade of
    the account on every trade closed: 56 ms at 100,000 trades)."""
    from sqlalchemy import event

    from data.repository import PositionStore

    engine = _copy(data_dir, tmp_path)
    store = PositionStore(engine)
    newest = newest_trade_id(engine)
    with Session(engine) as session:
        session.add(_trade(datetime.now(UTC), "5"))
        session.commit()
    ran: list[tuple[str, object]] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, params, *_: ran.append((sql, params)))
    assert [t.realized_pnl for t in store.trades_after(MODE, ACCOUNT, newest)] == [D("3.76")]
    ((sql, params),) = [(q, p) for q, p in ran if "FROM traderecord" in q]
    with engine.connect() as conn:
        plan = " ".join(str(row) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "INTEGER PRIMARY KEY" in plan and "ix_traderecord_scope_exit" not in plan
    engine.dispose()


def test_trades_of_other_accounts_advance_the_mark_and_change_nothing(data_dir: Path, tmp_path: Path) -> None:
    engine = _copy(data_dir, tmp_path)
    first = load_period(engine, MODE, ACCOUNT, None, summarize_above=0)
    other = _trade(datetime.now(UTC), "25")
    other.account = "Sim2"
    with Session(engine) as session:
        session.add(other)
        session.commit()
    again = load_period(engine, MODE, ACCOUNT, None, summarize_above=0)
    assert again.running.result() == first.running.result()
    covered, _ = read_summaries(engine, MODE, ACCOUNT)
    assert covered == newest_trade_id(engine)  # not walked again on the next load
    engine.dispose()


def test_a_short_period_brings_old_days_up_to_date_too(data_dir: Path, tmp_path: Path) -> None:
    """A short period reads only its own days' summaries, but a trade stored late into an old day is still
    folded into that day's summary (and the mark moves past it): "All" afterwards equals every trade folded."""
    engine = _copy(data_dir, tmp_path)
    load_period(engine, MODE, ACCOUNT, None, summarize_above=0)
    with Session(engine) as session:
        session.add(_trade(_since(200, hours=12), "-7000"))
        session.commit()
    load_period(engine, MODE, ACCOUNT, _since(3), summarize_above=0)
    covered, _ = read_summaries(engine, MODE, ACCOUNT)
    assert covered == newest_trade_id(engine)
    assert_same(load_period(engine, MODE, ACCOUNT, None, summarize_above=0), load_history(engine, MODE, ACCOUNT, None))
    engine.dispose()

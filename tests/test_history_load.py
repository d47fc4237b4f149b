"""``load_history`` (column query + column fold) equals folding the ORM rows one by one, on a real SQLite file.

The reference below is the ORM path of ``core.statistics_cache`` (``trades_since`` + ``_Fold.add_trades``):
``TradeRecord`` objects ordered by (exit_time, id), one ``RunningStatistics.add`` each, ``TradeRow`` and
``EquityPoint`` built from the same attributes.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from benchmarks.dbgen import generate
from core.history_load import CURVE_POINTS, LoadedHistory, load_history
from core.snapshots import EquityPoint, TradeRow
from core.stats import RunningStatistics, TradeFacts, compute
from core.trade_rows import LISTED, TradeRows
from data.db import make_engine
from data.models import TradeRecord
from data.repository import StorageError
from data.trade_queries import STATISTICS_COLUMNS, newest_trade_id, trade_columns, trade_columns_by_id

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


@dataclass
class Reference:
    running: RunningStatistics
    rows: list[TradeRow]
    trade_curve: list[EquityPoint]
    last_id: int
    last_exit: datetime | None


def reference(engine: Engine, mode: str, account: str, since: datetime | None) -> Reference:
    with Session(engine) as session:
        stmt = select(TradeRecord).where(TradeRecord.mode == mode, TradeRecord.account == account)
        if since is not None:
            stmt = stmt.where(col(TradeRecord.exit_time) >= since)
        records = list(session.exec(stmt.order_by(col(TradeRecord.exit_time), col(TradeRecord.id))).all())
    ref = Reference(RunningStatistics(), [], [], 0, None)
    for r in sorted(records, key=lambda r: (r.exit_time, r.id or 0)):
        facts = TradeFacts(
            r.entry_time, r.exit_time, r.realized_pnl, r.commissions, r.mae, r.mfe, r.total_efficiency, r.r_multiple
        )
        if not ref.trade_curve:
            ref.trade_curve.append(EquityPoint(facts.entry_time, D(0)))
        ref.running.add(facts)
        ref.rows.append(
            TradeRow(
                symbol=r.symbol,
                side=r.side,
                quantity=r.qty,
                entry_time=r.entry_time,
                exit_time=r.exit_time,
                entry_price=r.entry_price,
                exit_price=r.exit_price,
                net_pnl=r.realized_pnl,
                mae=r.mae,
                mfe=r.mfe,
                total_efficiency=r.total_efficiency,
                r_multiple=r.r_multiple,
                commissions=r.commissions,
            )
        )
        ref.trade_curve.append(EquityPoint(facts.exit_time, ref.running.cumulative))
        ref.last_id = max(ref.last_id, r.id or 0)
        ref.last_exit = r.exit_time
    return ref


def exact(value: object) -> object:
    """A comparable form that also tells apart equal Decimals of other exponents, and tzinfo objects."""
    if isinstance(value, D):
        return ("D", str(value))
    if isinstance(value, datetime):
        return ("T", value.isoformat(), value.tzinfo is UTC)
    if isinstance(value, tuple | list):
        return [exact(v) for v in value]
    return value


def assert_same_fold(got: RunningStatistics, ref: RunningStatistics) -> None:
    """Equal results and equal state (so adding to either stays equal), Decimal exponents included."""
    assert got.result() == ref.result()
    assert exact(astuple(got.result())) == exact(astuple(ref.result()))
    assert vars(got).keys() == vars(ref).keys()
    for name, value in vars(ref).items():
        other = getattr(got, name)
        if hasattr(value, "total"):
            assert exact([other.total, other.count]) == exact([value.total, value.count]), name
        else:
            assert exact(other) == exact(value), name


def assert_same(got: LoadedHistory, ref: Reference) -> None:
    assert_same_fold(got.running, ref.running)
    assert got.rows == ref.rows
    assert exact([astuple(r) for r in got.rows]) == exact([astuple(r) for r in ref.rows])
    assert exact([astuple(p) for p in got.trade_curve]) == exact([astuple(p) for p in ref.trade_curve])
    assert (got.last_id, got.last_exit) == (ref.last_id, ref.last_exit)


def record(i: int, exit_time: datetime, pnl: str, **kw: object) -> TradeRecord:
    values: dict[str, object] = {
        "mode": "SIM",
        "account": "Sim1",
        "symbol": "MESM26",
        "side": "LONG" if i % 2 else "SHORT",
        "qty": D(1 + i % 3),
        "max_qty": D(1 + i % 3),
        "entry_price": D("6000.25") + D("0.25") * i,
        "exit_price": D("6001.50") + D("0.25") * (i % 7),
        "entry_time": exit_time - timedelta(seconds=30 + 7 * i, microseconds=(i * 137_019) % 1_000_000),
        "exit_time": exit_time,
        "gross_pnl": D(pnl) + D("1.24"),
        "commissions": D("1.24"),
        "realized_pnl": D(pnl),
        "point_value": D(5),
        "mae": D(-i) if i % 4 else None,
        "mfe": D(i) / 3 if i % 5 else None,
        "total_efficiency": D(i % 3) / 7 if i % 3 else None,
        "r_multiple": D(pnl) / D("37.5") if i % 2 else None,
    }
    values.update(kw)
    return TradeRecord(**values)


def mixed_trades() -> list[TradeRecord]:
    """Wins, losses, breakevens (0 and -0.00), equal P&Ls of other exponents (100 / 100.0 / 100.00 — which one
    max() keeps shows), None mae/mfe/efficiency/R, fractional holds, equal exit times (id decides), rows stored
    out of exit order, and trades of other scopes."""
    pnls = ["100", "-50.5", "0", "100.0", "-0.00", "25.25", "100.00", "-200", "-200.0", "0.62", "-0.62", "300"]
    pnls += ["-12.40", "0E-2", "75", "-75.000", "1E+2", "250.5", "-3.72", "50"]
    trades = [record(i, T0 + timedelta(minutes=7 * i, microseconds=i * 3), p) for i, p in enumerate(pnls)]
    tie = T0 + timedelta(minutes=500)
    trades += [record(40, tie, "12.5"), record(41, tie, "-12.5"), record(42, tie, "0")]  # same exit: id order
    trades.insert(3, record(43, T0 - timedelta(days=2), "8.75"))  # stored later than newer exits
    trades.append(record(44, T0 + timedelta(hours=3), "5", mode="LIVE"))
    trades.append(record(45, T0 + timedelta(hours=3), "5", account="Other"))
    trades.append(record(46, T0 + timedelta(hours=4), "-1.5", symbol="MESU26", entry_price=D("6100"), mae=D(0)))
    return trades


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(tmp_path / "data")
    with Session(engine) as session:
        session.add_all(mixed_trades())
        session.commit()
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "since",
    [
        None,
        T0 - timedelta(days=30),
        T0 + timedelta(minutes=7 * 5, microseconds=15),  # exactly an exit time: that trade is included
        T0 + timedelta(minutes=7 * 5, microseconds=16),  # a microsecond later: excluded
        T0 + timedelta(minutes=500),  # the three equal exits
        T0 + timedelta(days=1),  # nothing
    ],
)
def test_load_history_equals_the_orm_fold(engine: Engine, since: datetime | None) -> None:
    got = load_history(engine, "SIM", "Sim1", since)
    ref = reference(engine, "SIM", "Sim1", since)
    assert_same(got, ref)
    if since == T0 + timedelta(minutes=7 * 5, microseconds=15):
        assert got.rows[0].exit_time == since
    if since is None:
        assert len(got.rows) == 25 and got.running.result().breakevens == 4


def test_other_scopes_and_an_empty_scope(engine: Engine) -> None:
    assert_same(load_history(engine, "LIVE", "Sim1", None), reference(engine, "LIVE", "Sim1", None))
    empty = load_history(engine, "SIM", "Nobody", None)
    assert (empty.rows, empty.trade_curve, empty.last_id, empty.last_exit) == ([], [], 0, None)
    assert empty.running.result() == compute([])


def test_the_loaded_fold_keeps_folding_like_the_orm_fold(engine: Engine) -> None:
    got, ref = load_history(engine, "SIM", "Sim1", None), reference(engine, "SIM", "Sim1", None)
    for i, pnl in enumerate(["10", "10.0", "-400", "0", "500"]):
        facts = TradeFacts(T0 + timedelta(days=2, minutes=i), T0 + timedelta(days=2, minutes=i, seconds=61), D(pnl))
        got.running.add(facts)
        ref.running.add(facts)
    assert exact(astuple(got.running.result())) == exact(astuple(ref.running.result()))


def test_a_generated_history_and_a_background_thread(tmp_path: Path) -> None:
    generate(tmp_path / "data", 600)
    engine = make_engine(tmp_path / "data")
    results: list[LoadedHistory] = []
    worker = threading.Thread(target=lambda: results.append(load_history(engine, "SIM", "Sim1", None)))
    worker.start()
    worker.join()
    ref = reference(engine, "SIM", "Sim1", None)
    assert_same(results[0], ref)
    since = ref.rows[400].exit_time
    assert_same(load_history(engine, "SIM", "Sim1", since), reference(engine, "SIM", "Sim1", since))
    assert newest_trade_id(engine) == 600 == newest_trade_id(engine, "SIM", "Sim1")
    assert newest_trade_id(engine, "LIVE", "Sim1") == 0
    engine.dispose()


def test_a_separator_inside_a_value_falls_back_to_rows(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "data")
    with Session(engine) as session:
        session.add_all([record(1, T0, "5", symbol="odd\x1fname"), record(2, T0 + timedelta(seconds=1), "-5")])
        session.commit()
    got = load_history(engine, "SIM", "Sim1", None)
    assert got.rows[0].symbol == "odd\x1fname"
    assert_same(got, reference(engine, "SIM", "Sim1", None))
    engine.dispose()


def test_stored_times_in_other_formats(tmp_path: Path) -> None:
    """Times not in SQLAlchemy's exact format still load as the ORM loads them, and equal exit times written
    differently (so the index's text order disagrees with the id order) still come in (exit time, id) order."""
    engine = make_engine(tmp_path / "data")
    with Session(engine) as session:
        session.add_all([record(i, T0 + timedelta(minutes=i // 2), str(i - 2)) for i in range(6)])
        session.commit()
    with engine.begin() as conn:  # ids 1 and 2 exit at T0; id 2 written without microseconds sorts first
        conn.exec_driver_sql("UPDATE traderecord SET exit_time = '2026-03-02 14:30:00' WHERE id = 2")
        conn.exec_driver_sql("UPDATE traderecord SET entry_time = '2026-03-02T14:29:00+00:00' WHERE id = 3")
        conn.exec_driver_sql("UPDATE traderecord SET entry_time = '2026-03-02 14:29:01' WHERE id = 4")
    got = load_history(engine, "SIM", "Sim1", None)
    ref = reference(engine, "SIM", "Sim1", None)
    assert_same(got, ref)
    assert trade_columns(engine, "SIM", "Sim1").id == [1, 2, 3, 4, 5, 6]
    engine.dispose()


def test_storage_errors(tmp_path: Path, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE traderecord SET realized_pnl = 'abc' WHERE id = 2")
    with pytest.raises(StorageError, match="not valid"):
        trade_columns(engine, "SIM", "Sim1")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE traderecord")
    with pytest.raises(StorageError, match="cannot read trades"):
        load_history(engine, "SIM", "Sim1", None)
    with pytest.raises(StorageError):
        newest_trade_id(engine)
    with pytest.raises(ValueError, match="naive"):
        trade_columns(engine, "SIM", "Sim1", datetime(2026, 1, 1))
    assert issubclass(sqlite3.OperationalError, sqlite3.Error)


def random_facts(rng: random.Random, n: int) -> list[TradeFacts]:
    facts = []
    for i in range(n):
        exit_time = T0 + timedelta(seconds=90 * i, microseconds=rng.choice((0, 0, 250_000, rng.randrange(10**6))))
        entry_time = exit_time - timedelta(seconds=rng.randint(0, 4000), microseconds=rng.choice((0, 1, 500_000)))
        # equal values of other exponents (2.5 / 2.50 / 2.500, 0 / 0.00 / -0.0) make ties that only the
        # order of max()/min() and of the sums tells apart
        pnl = D(rng.randint(-40, 40)) * rng.choice(
            (D("1.25"), D("1.250"), D(1), D("1.0"), D("0.62"), D("0E-3"), D(1) / 3)
        )
        facts.append(
            TradeFacts(
                entry_time,
                exit_time,
                pnl,
                rng.choice((D(0), D("1.24"), D("3.72"))),
                rng.choice((None, -abs(pnl) / 3)),
                rng.choice((None, abs(pnl) * 2)),
                rng.choice((None, D(rng.randint(-9, 9)) / 7)),
                rng.choice((None, pnl / D("37.5"))),
            )
        )
    return facts


@pytest.mark.parametrize(
    "pnls",
    [
        ["-10", "10", "-10.0", "5"],  # equal drawdowns 10 and 10.0: the first stays
        ["10", "-10", "10.0", "-5"],  # equal run-ups
        ["100", "-0.00"],  # the peak 100 and the cumulative 100.00
        ["-100", "0.00"],  # the trough
        ["7", "7.0", "-7.00", "-7"],  # best and worst
        ["0.3333333333333333333333333333"] * 40 + ["-0.6666666666666666666666666667"] * 40,  # sums that round
    ],
)
def test_ties_of_other_exponents_and_rounding(pnls: list[str]) -> None:
    facts = [
        TradeFacts(T0, T0 + timedelta(seconds=i), D(p), D(p) / 7, D(p), D(p), D(p), D(p)) for i, p in enumerate(pnls)
    ]
    one, bulk = RunningStatistics(), RunningStatistics()
    for f in facts:
        one.add(f)
    bulk.add_columns(*columns(facts))
    assert_same_fold(bulk, one)


def columns(facts: list[TradeFacts]) -> list[list[object]]:
    return [
        [getattr(f, name) for f in facts]
        for name in (
            "entry_time",
            "exit_time",
            "net_pnl",
            "commissions",
            "mae",
            "mfe",
            "total_efficiency",
            "r_multiple",
        )
    ]


@pytest.mark.parametrize("seed", range(30))
def test_add_columns_equals_add_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    facts = random_facts(rng, rng.randint(1, 400))
    cut = rng.randint(0, len(facts))
    one, bulk = RunningStatistics(), RunningStatistics()
    cumulative = []
    for f in facts:
        one.add(f)
        cumulative.append(one.cumulative)
    # in two batches with single adds between them: the bulk path continues any state
    got = bulk.add_columns(*columns(facts[:cut]))
    middle = facts[cut : cut + 3]
    for f in middle:
        bulk.add(f)
        got.append(bulk.cumulative)
    got += bulk.add_columns(*columns(facts[cut + 3 :]))
    assert exact(got) == exact(cumulative)
    assert_same_fold(bulk, one)
    assert exact(astuple(compute(facts))) == exact(astuple(one.result()))
    assert bulk.add_columns(*columns([])) == []
    with pytest.raises(ValueError):
        bulk.add_columns([T0], [T0], [D(1)], [], [], [], [], [])


def test_a_long_equity_curve_is_thinned_keeping_every_peak_and_trough(tmp_path: Path) -> None:
    generate(tmp_path, 4_500)
    engine = make_engine(tmp_path)
    loaded = load_history(engine, "SIM", "Sim1", None)
    ref = reference(engine, "SIM", "Sim1", None)
    full = [p.value for p in ref.trade_curve]
    shown = [p.value for p in loaded.trade_curve]
    assert len(full) == 4_501 and len(shown) <= CURVE_POINTS
    assert (shown[0], shown[-1]) == (full[0], full[-1])  # from 0 to the period's net P&L
    assert (min(shown), max(shown)) == (min(full), max(full))  # the drawdown's trough and the run-up's peak
    assert [p.time for p in loaded.trade_curve] == sorted(p.time for p in loaded.trade_curve)
    assert_same_fold(loaded.running, ref.running)  # the statistics still fold every trade
    assert len(loaded.rows) == 4_500


def test_rows_are_read_when_looked_at_and_a_vanished_trade_shows_as_unreadable(engine: Engine) -> None:
    columns = trade_columns(engine, "SIM", "Sim1", None, STATISTICS_COLUMNS)  # as a load reads them
    rows = TradeRows(columns, fetch=lambda ids: trade_columns_by_id(engine, ids))  # nothing read ahead
    ref = reference(engine, "SIM", "Sim1", None)
    assert rows[-1] == ref.rows[-1] and rows[-3:] == ref.rows[-3:]
    with Session(engine) as session:  # e.g. a backup restored under the running window
        oldest = session.exec(select(TradeRecord).order_by(col(TradeRecord.exit_time), col(TradeRecord.id))).first()
        assert oldest is not None
        session.delete(oldest)
        session.commit()
    row = rows[0]
    assert row.symbol == "(unreadable)" and row.net_pnl == ref.rows[0].net_pnl  # the statistics' columns


def test_the_listed_rows_are_read_by_the_load_not_when_the_window_shows_them(engine: Engine) -> None:
    loaded = load_history(engine, "SIM", "Sim1", None)  # on the statistics loader thread in the app
    ref = reference(engine, "SIM", "Sim1", None)
    with Session(engine) as session:  # nothing left to read: whatever shows now was read by the load
        for record in session.exec(select(TradeRecord)).all():
            session.delete(record)
        session.commit()
    assert list(loaded.rows[-LISTED:]) == ref.rows[-LISTED:]

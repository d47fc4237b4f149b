"""StateManager over a real SQLite file: write-through, idempotency, recovery, storage failures."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from sqlmodel import Session, select

from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.settings import Settings
from core.state import StateManager
from data.db import database_path, make_engine
from data.models import FillRecord, OpenPosition, PositionEvent, TradeRecord
from data.repository import PositionStore

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)


def make_state(settings: Settings) -> tuple[StateManager, PositionStore]:
    store = PositionStore(make_engine(settings.data_dir))
    return StateManager(store, InstrumentBook(), ModeClassifier()), store


def f(n: int, qty: str, price: str, account: str = "Sim1", symbol: str = "MESZ25") -> Fill:
    return Fill(f"E{n}", account, symbol, D(qty), D(price), T0 + timedelta(seconds=n))


def rows(settings: Settings, model: type) -> list:
    with Session(make_engine(settings.data_dir)) as session:
        return list(session.exec(select(model)).all())


def test_database_file_and_pragmas(settings: Settings) -> None:
    engine = make_engine(settings.data_dir)
    assert database_path(settings.data_dir).exists()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_same_fill_twice_changes_nothing(settings: Settings) -> None:
    state, _ = make_state(settings)
    assert state.apply_fill(f(1, "2", "6000.00"))
    before = (rows(settings, OpenPosition)[0].qty, len(rows(settings, PositionEvent)))
    state.apply_fill(f(1, "2", "6000.00"))
    assert len(rows(settings, FillRecord)) == 1
    assert (rows(settings, OpenPosition)[0].qty, len(rows(settings, PositionEvent))) == before == (2, 1)
    position = state.position("SIM", "Sim1", "MESZ25")
    assert position is not None and position.quantity == 2


def test_same_fill_after_restart_changes_nothing(settings: Settings) -> None:
    state, _ = make_state(settings)
    state.apply_fill(f(1, "1", "6000.00"))
    restarted, _ = make_state(settings)
    assert restarted.recover() == 1
    restarted.apply_fill(f(1, "1", "6000.00"))
    assert len(rows(settings, FillRecord)) == 1
    position = restarted.position("SIM", "Sim1", "MESZ25")
    assert position is not None and position.quantity == 1


def test_round_trip_writes_trades_and_deletes_position(settings: Settings) -> None:
    state, _ = make_state(settings)
    for fill in [f(1, "1", "6000"), f(2, "1", "6000.5"), f(3, "1", "6001"), f(4, "-2", "6003"), f(5, "-2", "6002")]:
        state.apply_fill(fill)
    open_rows = rows(settings, OpenPosition)
    assert [(r.qty, r.side, r.entry_price) for r in open_rows] == [(D(-1), "SHORT", D("6002"))]
    state.apply_fill(f(6, "1", "6001.25"))
    assert rows(settings, OpenPosition) == []
    trades = [(t.side, t.qty, t.entry_price, t.realized_pnl) for t in rows(settings, TradeRecord)]
    assert trades == [("LONG", D(3), D("6000.5"), D("32.5")), ("SHORT", D(1), D("6002"), D("3.75"))]
    kinds = [e.kind for e in rows(settings, PositionEvent)]
    assert kinds == ["opened", "increased", "increased", "decreased", "flipped", "closed"]


def test_recovered_position_is_unconfirmed_until_broker_agrees(settings: Settings) -> None:
    state, _ = make_state(settings)
    state.apply_fill(f(1, "-1", "6857.00"))
    restarted, _ = make_state(settings)
    restarted.recover()
    snap = restarted.snapshot()
    assert (snap.scope_mode, snap.scope_account) == ("SIM", "Sim1")
    assert [(p.quantity, p.confirmed) for p in snap.positions] == [(D(-1), False)]
    restarted.on_broker_position("Sim1", "MESZ25", D(0), D(0))
    assert restarted.snapshot().positions[0].confirmed is False  # disagreement never overwrites
    restarted.on_broker_position("Sim1", "MESZ25", D(-1), D("6857"))
    assert restarted.snapshot().positions[0].confirmed is True


def test_sim_and_live_positions_are_separate_scopes(settings: Settings) -> None:
    state, _ = make_state(settings)
    state.apply_fill(f(1, "1", "6000", account="Sim1"))
    state.apply_fill(f(2, "-2", "21000", account="120005", symbol="MNQZ25"))
    state.set_scope("SIM", "Sim1")
    snap = state.snapshot()
    assert [(p.mode, p.symbol) for p in snap.positions] == [("SIM", "MESZ25")]
    assert [(p.mode, p.symbol) for p in snap.other_open] == [("LIVE", "MNQZ25")]
    state.set_scope("LIVE", "120005")
    assert [(p.mode, p.quantity) for p in state.snapshot().positions] == [("LIVE", D(-2))]
    assert len(rows(settings, OpenPosition)) == 2


def test_locked_database_holds_fills_in_order_until_writable(settings: Settings) -> None:
    store = PositionStore(make_engine(settings.data_dir, busy_timeout_ms=100))
    state = StateManager(store, InstrumentBook(), ModeClassifier())
    state.apply_fill(f(1, "1", "6000"))
    blocker = sqlite3.connect(database_path(settings.data_dir), timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        assert not state.apply_fill(f(2, "1", "6001"))
        assert not state.apply_fill(f(3, "-2", "6002"))
        snap = state.snapshot()
        assert snap.storage_error and "locked" in snap.storage_error
        assert snap.pending_fills == 2
        assert snap.positions[0].quantity == 1  # cache unchanged while the commit fails
    finally:
        blocker.rollback()
        blocker.close()
    state.retry_pending()
    snap = state.snapshot()
    assert snap.storage_error is None and snap.pending_fills == 0 and snap.positions == ()
    assert [r.execution_id for r in rows(settings, FillRecord)] == ["E1", "E2", "E3"]
    assert [t.realized_pnl for t in rows(settings, TradeRecord)] == [D("15")]  # (6002 - 6000.50) x 2 x $5

"""Group commit through a real SQLite file: a replayed fill inside a live group, and a group the database
refuses (held in order, positions back to the stored ones, no reconciliation decision while fills are held,
each fill stored once when the database recovers)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

from sqlalchemy import event

from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.settings import Settings
from core.state import StateManager
from data.db import database_path, make_engine
from data.repository import PositionStore

T0 = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)


def fill(n: int, qty: str, price: str = "6000") -> Fill:
    return Fill(f"E{n}", "Sim1", "MESZ25", D(qty), D(price), T0 + timedelta(seconds=n))


def stored(settings: Settings) -> tuple[list[str], list[tuple[str, str]], int]:
    with sqlite3.connect(database_path(settings.data_dir)) as conn:
        ids = [r[0] for r in conn.execute("SELECT execution_id FROM fillrecord ORDER BY id")]
        positions = conn.execute("SELECT qty, entry_price FROM openposition").fetchall()
        trades = conn.execute("SELECT COUNT(*) FROM traderecord").fetchone()[0]
    return ids, positions, trades


class RefuseInserts:
    """While ``on`` the database refuses to store fills (at the driver edge); smaller writes still succeed —
    as on a nearly full disk, where a large group fails and a one-row decision does not."""

    def __init__(self) -> None:
        self.on = False

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.on and statement.lstrip().upper().startswith("INSERT INTO FILLRECORD"):
            raise sqlite3.OperationalError("database or disk is full")


def test_a_replayed_fill_inside_a_live_group_is_stored_once(settings: Settings) -> None:
    state = StateManager(PositionStore(make_engine(settings.data_dir)), InstrumentBook(), ModeClassifier())
    state.apply_fill(fill(1, "1"))
    for f in (fill(1, "1"), fill(2, "1", "6002"), fill(3, "-1", "6004")):  # E1 again, as after a reconnect
        state.stage_fill(f)
    state.end_of_chunk()
    ids, positions, trades = stored(settings)
    assert ids == ["E1", "E2", "E3"]
    assert [(D(q), D(p)) for q, p in positions] == [(D(1), D(6001))]
    assert trades == 0
    assert state.snapshot().positions[0].quantity == D(1)


def test_a_refused_group_is_held_and_no_decision_is_taken_until_it_is_stored(settings: Settings) -> None:
    store = PositionStore(make_engine(settings.data_dir))
    refuse = RefuseInserts()
    event.listen(store.engine, "before_cursor_execute", refuse)
    state = StateManager(store, InstrumentBook(), ModeClassifier())
    state.set_accounts([("Sim1", False)])
    state.apply_fill(fill(1, "1"))
    refuse.on = True
    for f in (fill(2, "1"), fill(3, "1")):
        state.stage_fill(f)
    state.end_of_chunk()
    snap = state.snapshot()
    assert snap.pending_fills == 2 and snap.storage_error
    assert [v.quantity for v in snap.positions] == [D(1)]  # what is stored, not the refused group
    # Sierra Chart reports the position with the held fills; the trader tries to adopt it meanwhile
    state.begin_position_report()
    state.on_broker_position("Sim1", "MESZ25", D(3), D(6000), solicited=True)
    state.end_position_report()
    assert state.snapshot().discrepancies
    state.resolve(("SIM", "Sim1", "MESZ25"), "adopt")
    state.run_commands()
    assert "decide again once they are stored" in state.snapshot().notifications[-1].text
    refuse.on = False
    state.retry_pending()
    snap = state.snapshot()
    assert snap.pending_fills == 0 and snap.storage_error is None
    ids, positions, _ = stored(settings)
    assert ids == ["E1", "E2", "E3"]
    assert [D(q) for q, _ in positions] == [D(3)]  # 1 + 2 held fills, not 3 + 2
    assert [v.quantity for v in snap.positions] == [D(3)]

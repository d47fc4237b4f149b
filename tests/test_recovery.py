"""Never lose a position: integrity check, legacy timer import, SIM and LIVE through restarts and switches."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from app_manager import build_app
from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.settings import Settings
from core.state import StateManager
from data.db import database_path, make_engine
from data.repository import PositionStore

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)


def seed(settings: Settings, *fills: Fill) -> PositionStore:
    store = PositionStore(make_engine(settings.data_dir))
    state = StateManager(store, InstrumentBook(), ModeClassifier())
    for fill in fills:
        state.apply_fill(fill, publish=False)
    return store


def fill(n: int, qty: str, price: str, account: str = "Sim1", symbol: str = "MESZ25") -> Fill:
    return Fill(f"E{n}", account, symbol, D(qty), D(price), T0 + timedelta(minutes=n))


def test_tampered_row_is_shown_and_recorded_not_fixed(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(settings, fill(1, "2", "6000.00"), fill(2, "1", "6003.00"))
    with sqlite3.connect(database_path(settings.data_dir)) as conn:
        conn.execute("UPDATE openposition SET qty = '5'")  # someone edited the file
    app = build_app(replace(settings, port=1))
    qtbot.addWidget(app.window)
    snap = app.state.snapshot()
    assert snap.positions[0].quantity == 5  # shown as stored: never silently "fixed"
    errors = [n.text for n in snap.notifications if n.kind == "error"]
    assert errors == [
        "Integrity check: SIM Sim1 MESZ25: stored position 5 @ 3,600.60 does not match its fills (3 @ 6,001.00)"
    ]
    events = app.store.events("SIM", "Sim1", "MESZ25")
    assert [(e.kind, e.reason) for e in events][-1] == ("integrity", "stored differs from fills")


def test_consistent_database_passes_the_check(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(settings, fill(1, "2", "6000.00"), fill(2, "-3", "6003.00"), fill(3, "-1", "6001.00"))
    app = build_app(replace(settings, port=1))
    qtbot.addWidget(app.window)
    snap = app.state.snapshot()
    assert [n for n in snap.notifications if n.kind == "error"] == []
    assert [(p.quantity, p.avg_entry) for p in snap.positions] == [(D(-2), D("6002.00"))]


def test_legacy_timer_file_is_imported_once_and_renamed(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(settings, fill(1, "1", "6000.00", account="120005"))
    legacy = settings.data_dir / "state_LIVE_120005.json"
    earlier = (T0 - timedelta(minutes=30)).timestamp()
    legacy.write_text(json.dumps({"entry_time_epoch": earlier, "heat_start_epoch": earlier + 60,
                                  "trade_min_price": 5990.25, "trade_max_price": 6012.5}))  # fmt: skip
    (settings.data_dir / "state_SIM_Sim9.json").write_text("{not json")
    app = build_app(replace(settings, port=1))
    qtbot.addWidget(app.window)
    view = app.state.snapshot().positions[0]
    assert view.entry_time == T0 - timedelta(minutes=30)
    stored = app.state.position("LIVE", "120005", "MESZ25")
    assert stored is not None and (stored.trade_min_price, stored.trade_max_price) == (D("5990.25"), D("6012.5"))
    assert not legacy.exists() and (settings.data_dir / "state_LIVE_120005.json.imported").exists()
    assert (settings.data_dir / "state_SIM_Sim9.json.unreadable").exists()
    assert [e.kind for e in app.store.events("LIVE", "120005", "MESZ25")] == ["opened", "imported"]
    again = build_app(replace(settings, port=1))  # a second start imports nothing
    qtbot.addWidget(again.window)
    assert [e.kind for e in again.store.events("LIVE", "120005", "MESZ25")] == ["opened", "imported"]


def test_sim_and_live_survive_restarts_and_any_number_of_switches(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    seed(settings, fill(1, "2", "6000.00", account="Sim1"), fill(2, "-1", "21000.50", "120005", "MNQZ25"))
    for restart in range(3):
        app = build_app(replace(settings, port=1))
        qtbot.addWidget(app.window)
        for _ in range(5):
            app.state.set_scope("SIM", "Sim1")
            assert app.window.panel2.card_texts()[0].startswith("LONG 2 MESZ25 · 2 @ 6,000.00")
            assert app.window.badge.text().strip() == "SIM"
            app.state.set_scope("LIVE", "120005")
            assert app.window.panel2.card_texts()[0].startswith("SHORT 1 MNQZ25 · 1 @ 21,000.50")
            assert app.window.badge.text().strip() == "● LIVE"
        rows = sqlite3.connect(database_path(settings.data_dir)).execute(
            "SELECT mode, account, symbol, qty FROM openposition ORDER BY mode"
        )
        assert rows.fetchall() == [("LIVE", "120005", "MNQZ25", "-1"), ("SIM", "Sim1", "MESZ25", "2")], restart

"""Desktop notifications and sound: each new feed entry announced once, nothing when disabled."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.settings import Settings
from core.state import StateManager
from data.db import make_engine
from data.repository import PositionStore
from panels.alerts import DesktopAlerts
from panels.main_window import MainWindow
from tests.wiring import attach

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)


def test_each_position_change_is_announced_once(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    state = StateManager(PositionStore(make_engine(settings.data_dir)), InstrumentBook(), ModeClassifier())
    window = MainWindow()
    qtbot.addWidget(window)
    quiet = DesktopAlerts(window, desktop=False, sound=False)
    loud = DesktopAlerts(window, desktop=True, sound=True)
    state.apply_fill(Fill("E0", "Sim1", "MESZ25", D(1), D(6000), T0), publish=False)  # before startup
    for alerts in (quiet, loud):
        window.shown.connect(alerts.on_snapshot)
    attach(state, window)  # the first snapshot shown is what the feed held at startup: not news
    state.apply_fill(Fill("E1", "Sim1", "MESZ25", D(1), D(6001), T0))
    state.apply_fill(Fill("E2", "Sim1", "MESZ25", D(-2), D(6003), T0))
    state.publish(force=True)  # the same feed again: nothing new
    state.notify("warning", "not announced: only position changes, reconciliation and errors are")
    state.publish()
    assert loud.announced == [
        "SIM Sim1 · INCREASED · LONG 2 MESZ25 @ 6,000.50",
        "SIM Sim1 · CLOSED · MESZ25 flat · trade P&L +25.00",
    ]
    assert quiet.announced == []

"""Reconciliation with Sierra Chart's position report and the reconnect warning dialog (offscreen)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt
from sqlmodel import Session, select

from core.accounting import Fill
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.reconcile import DiscrepancyKind, classify
from core.settings import Settings
from core.state import StateManager
from data.db import make_engine
from data.models import OpenPosition, TradeRecord
from data.repository import PositionStore
from panels.main_window import MainWindow
from panels.reconcile_dialog import ReconcileController
from tests.wiring import attach

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)
KEY = ("LIVE", "120005", "MESZ25")


@pytest.mark.parametrize(
    "stored,broker,kind",
    [
        (0, 1, DiscrepancyKind.OPENED),
        (1, 0, DiscrepancyKind.CLOSED),
        (1, 3, DiscrepancyKind.INCREASED),
        (-3, -1, DiscrepancyKind.DECREASED),
        (2, -2, DiscrepancyKind.FLIPPED),
        (-2, -2, None),
    ],
)
def test_classify(stored: int, broker: int, kind: DiscrepancyKind | None) -> None:
    assert classify(D(stored), D(broker)) == kind


def recovered_long(settings: Settings) -> tuple[StateManager, PositionStore]:
    store = PositionStore(make_engine(settings.data_dir))
    StateManager(store, InstrumentBook(), ModeClassifier()).apply_fill(
        Fill("E1", "120005", "MESZ25", D(1), D("5050.00"), T0), publish=False
    )
    state = StateManager(store, InstrumentBook(), ModeClassifier())  # a restart
    state.recover()
    state.set_accounts([("120005", False), ("Sim1", False)])
    return state, store


def report(state: StateManager, *positions: tuple[str, str, int, str]) -> None:
    """A complete 305 answer: the given (account, symbol, qty, avg) rows, or NoPositions when none."""
    state.begin_position_report()
    if not positions:
        state.on_no_positions("")
    for account, symbol, qty, avg in positions:
        state.on_broker_position(account, symbol, D(qty), D(avg), solicited=True)
    state.end_position_report()


def test_agreeing_report_confirms_and_disagreeing_report_is_flagged_not_applied(settings: Settings) -> None:
    state, _ = recovered_long(settings)
    assert state.snapshot().positions[0].confirmed is False
    report(state, ("120005", "MESZ25", 1, "5050"))
    snap = state.snapshot()
    assert snap.positions[0].confirmed is True and snap.discrepancies == ()
    report(state)  # now Sierra Chart says flat
    snap = state.snapshot()
    assert [d.text for d in snap.discrepancies] == ["LIVE 120005 · LONG 1 MES @ 5,050.00 — Sierra Chart reports flat"]
    assert snap.positions[0].confirmed is False and snap.positions[0].quantity == 1  # never overwritten
    assert [n.kind for n in snap.notifications].count("stale") == 1
    report(state)  # the same difference again: no second notification
    assert [n.kind for n in state.snapshot().notifications].count("stale") == 1


def test_rejected_report_means_unknown_not_flat(settings: Settings) -> None:
    state, _ = recovered_long(settings)
    state.begin_position_report()
    state.position_report_failed("request rejected: positions not available")
    snap = state.snapshot()
    assert snap.positions_status == "unknown: request rejected: positions not available"
    assert snap.discrepancies == () and snap.positions[0].quantity == 1 and not snap.positions[0].confirmed


def test_report_older_than_a_fill_is_not_compared(settings: Settings) -> None:
    state, _ = recovered_long(settings)
    state.begin_position_report()
    state.apply_fill(Fill("E2", "120005", "MESZ25", D(1), D("5051.00"), T0), publish=False)
    state.on_broker_position("120005", "MESZ25", D(1), D("5050"), solicited=True)  # taken before the fill
    state.end_position_report()
    assert state.snapshot().discrepancies == ()


def test_account_not_listed_by_sierra_chart_is_not_available(settings: Settings) -> None:
    state, _ = recovered_long(settings)
    state.set_accounts([("Sim1", False)])  # this connection's 401s listed only Sim1
    report(state)
    snap = state.snapshot()
    assert snap.discrepancies == () and snap.positions_status == "not available for 120005"


@pytest.mark.parametrize("choice", ["adopt", "keep", "close"])
def test_dialog_choices_leave_database_and_panel2_in_the_chosen_state(settings: Settings, qtbot, choice: str) -> None:  # type: ignore[no-untyped-def]
    state, store = recovered_long(settings)
    window = MainWindow()
    qtbot.addWidget(window)
    controller = ReconcileController(state.resolve, window)
    window.shown.connect(controller.on_snapshot)
    attach(state, window)
    report(state)
    state.publish(force=True)
    dialog = controller.dialog
    assert dialog is not None and dialog.isVisible()
    (row,) = dialog.rows.values()
    assert row.text.text() == "LIVE 120005 · LONG 1 MES @ 5,050.00 — Sierra Chart reports flat"
    if choice == "adopt":
        qtbot.mouseClick(row.adopt, Qt.MouseButton.LeftButton)
    elif choice == "keep":
        qtbot.mouseClick(row.keep, Qt.MouseButton.LeftButton)
    else:
        row.price.setText("5046.25")
        qtbot.mouseClick(row.close_button, Qt.MouseButton.LeftButton)
    state.run_commands()  # the DTC thread's tick does this in the app
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    with Session(make_engine(settings.data_dir)) as session:
        positions = session.exec(select(OpenPosition)).all()
        trades = session.exec(select(TradeRecord)).all()
    events = [(e.kind, e.reason) for e in store.events(*KEY)]
    if choice == "keep":
        assert [(p.qty, p.entry_price) for p in positions] == [(D(1), D("5050.00"))]
        assert window.panel2.card_texts()[0].startswith("LONG 1 MESZ25 · 1 @ 5,050.00")
        assert window.panel2._cards["MESZ25"].unconfirmed.isHidden()  # the trader confirmed it
        assert events[-1] == ("reconciled", "kept by trader") and trades == []
    elif choice == "adopt":
        assert positions == [] and trades == []  # Sierra Chart is flat; no invented exit price
        assert window.panel2.flat.isVisible() or window.panel2.card_texts() == []
        assert events[-1] == ("reconciled", "adopted Sierra Chart's position")
    else:
        assert positions == []
        assert [(t.exit_price, t.realized_pnl, t.exit_reason) for t in trades] == [
            (D("5046.25"), D("-18.75"), "closed by trader")
        ]
        assert events[-1] == ("closed", "closed by trader")
    assert state.snapshot().discrepancies == ()
    assert [n.kind for n in state.snapshot().notifications].count("reconciled") == 1

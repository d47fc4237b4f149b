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
    # Sierra Chart's position is what the window presents; the stored one is never overwritten
    assert (snap.positions[0].quantity, snap.positions[0].disputed, snap.positions[0].panel_quantity) == (0, True, 1)
    stored = state.position(*KEY)
    assert snap.positions[0].confirmed is False and stored is not None and stored.quantity == 1
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
    qtbot.waitUntil(lambda: not dialog.rows, timeout=2000)  # the resolved row is gone
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)  # and, none left, the dialog closes
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


def windowed(state: StateManager, qtbot) -> tuple[MainWindow, ReconcileController]:  # type: ignore[no-untyped-def]
    window = MainWindow()
    qtbot.addWidget(window)
    controller = ReconcileController(state.resolve, window)
    window.shown.connect(controller.on_snapshot)
    window.reconcile_requested.connect(controller.show_dialog)
    attach(state, window)
    return window, controller


def test_status_line_and_dialog_follow_decisions_after_a_reconnect_report(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, defects 1 and 4: after "Adopt" the status line still said "1 position(s) differ", and the
    next mismatch of the same key opened with every button greyed and "Applying…"."""
    state, _ = recovered_long(settings)
    window, controller = windowed(state, qtbot)
    report(state)  # Sierra Chart reports flat
    state.publish()
    assert window.positions_status.text() == "Positions: 1 position(s) differ from Sierra Chart"
    dialog = controller.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.mouseClick(dialog.rows[KEY].adopt, Qt.MouseButton.LeftButton)
    state.run_commands()
    qtbot.waitUntil(lambda: window.positions_status.text() == "Positions: confirmed", timeout=1000)
    assert window.reconcile_chip.isHidden()
    report(state, ("120005", "MESZ25", 2, "5060"))  # the next report: LONG 2 at Sierra Chart, flat here
    state.publish()
    qtbot.waitUntil(lambda: dialog.isVisible() and KEY in dialog.rows, timeout=1000)
    row = dialog.rows[KEY]
    assert row.adopt.isEnabled() and row.keep.isEnabled() and row.status.text() == ""
    assert window.positions_status.text() == "Positions: 1 position(s) differ from Sierra Chart"


def test_a_decision_is_carried_out_once_and_only_for_the_difference_shown(settings: Settings) -> None:
    state, store = recovered_long(settings)
    report(state)  # flat at Sierra Chart
    (seen,) = state.snapshot().discrepancies
    report(state, ("120005", "MESZ25", 3, "5055"))  # changed before the trader's click arrives
    state.resolve(KEY, "adopt", seen=seen, ticket=1)
    state.run_commands()
    snap = state.snapshot()
    (result,) = snap.decision_results
    assert not result.ok and result.text.startswith("decision not applied: the difference changed meanwhile")
    assert state.position(*KEY) is not None and state.position(*KEY).quantity == 1  # type: ignore[union-attr]
    (now,) = snap.discrepancies
    state.resolve(KEY, "adopt", seen=now, ticket=2)
    state.resolve(KEY, "adopt", seen=now, ticket=3)  # a second click (or a retry after no answer)
    state.run_commands()
    results = state.snapshot().decision_results
    assert [(r.ticket, r.ok) for r in results] == [(1, False), (2, True), (3, False)]
    assert results[-1].text == "nothing changed: LIVE 120005 MESZ25 no longer differs from Sierra Chart"
    assert state.position(*KEY).quantity == 3  # type: ignore[union-attr]
    reasons = [e.reason for e in store.events(*KEY) if e.kind == "reconciled"]
    assert reasons == ["adopted Sierra Chart's position"]


def test_keeping_a_flat_panel_is_on_record(settings: Settings) -> None:
    state, store = recovered_long(settings)
    report(state, ("120005", "MESZ25", 1, "5050"), ("120005", "MNQZ25", -1, "21000"))
    (found,) = state.snapshot().discrepancies
    assert found.text == "LIVE 120005 · no position here — Sierra Chart reports SHORT 1 MNQ @ 21,000.00"
    state.resolve(found.key, "keep", seen=found)
    state.run_commands()
    assert state.snapshot().discrepancies == ()
    assert [(e.kind, e.reason, e.quantity_after) for e in store.events(*found.key)] == [
        ("reconciled", "kept flat by trader", D(0))
    ]


def test_a_refused_decision_shows_why_and_the_row_is_usable_again(settings: Settings, qtbot) -> None:  # type: ignore[no-untyped-def]
    state, _ = recovered_long(settings)
    _, controller = windowed(state, qtbot)
    report(state)  # flat at Sierra Chart
    state.publish()
    dialog = controller.dialog
    assert dialog is not None
    row = dialog.rows[KEY]
    report(state, ("120005", "MESZ25", 3, "5055"))  # Sierra Chart's next report, not on screen yet
    qtbot.mouseClick(row.adopt, Qt.MouseButton.LeftButton)  # the trader adopts what the screen shows: flat
    assert row.status.text() == "Applying…" and not row.keep.isEnabled()
    state.run_commands()
    qtbot.waitUntil(lambda: row.status.text().startswith("decision not applied: the difference changed"), timeout=1000)
    assert row.adopt.isEnabled() and row.keep.isEnabled()
    assert row.text.text() == "LIVE 120005 · LONG 1 MES @ 5,050.00 — Sierra Chart reports LONG 3 MES @ 5,055.00"
    assert dialog.last_result.text().startswith("✗ decision not applied")
    assert state.position(*KEY).quantity == 1  # type: ignore[union-attr]


def test_a_decision_without_an_answer_never_stays_applying(settings: Settings, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import panels.reconcile_dialog as dialog_module

    monkeypatch.setattr(dialog_module, "SLOW_S", 0.2)
    monkeypatch.setattr(dialog_module, "GIVE_UP_S", 0.8)
    state, _ = recovered_long(settings)
    _, controller = windowed(state, qtbot)
    report(state)
    state.publish()
    assert controller.dialog is not None
    row = controller.dialog.rows[KEY]
    qtbot.mouseClick(row.keep, Qt.MouseButton.LeftButton)  # nothing runs the queued decision (a stuck thread)
    qtbot.waitUntil(lambda: row.status.text().startswith("Applying… still waiting"), timeout=2000)
    qtbot.waitUntil(lambda: row.keep.isEnabled(), timeout=3000)
    assert row.status.text().startswith("No answer after")
    qtbot.mouseClick(row.keep, Qt.MouseButton.LeftButton)  # chosen again: the late first one and this one
    state.run_commands()
    state.publish()
    qtbot.waitUntil(lambda: KEY not in controller.dialog.rows, timeout=1000)  # type: ignore[union-attr]
    results = state.snapshot().decision_results
    assert [r.ok for r in results] == [True, False]  # carried out once; the duplicate changed nothing


def test_a_later_report_that_agrees_resolves_the_difference_and_says_so(settings: Settings) -> None:
    state, store = recovered_long(settings)
    report(state)  # flat at Sierra Chart
    assert state.snapshot().positions_status == "1 position(s) differ from Sierra Chart"
    state.on_disconnected()  # a reconnect: Sierra Chart's last figures stay on the open difference
    assert state.snapshot().positions[0].disputed and state.snapshot().positions[0].quantity == 0
    report(state, ("120005", "MESZ25", 1, "5050"))  # the next report agrees with the stored position
    snap = state.snapshot()
    assert snap.discrepancies == () and snap.positions_status == "confirmed"
    assert (snap.positions[0].quantity, snap.positions[0].disputed, snap.positions[0].confirmed) == (1, False, True)
    assert [n.text for n in snap.notifications if n.kind == "reconciled"] == [
        "resolved by itself: LIVE 120005 MESZ25 — Sierra Chart now reports LONG 1 MES @ 5,050.00, "
        "as the panel's fills do"
    ]
    (event,) = [e for e in store.events(*KEY) if e.kind == "reconciled"]
    assert (event.reason, event.quantity_before, event.quantity_after) == ("agrees with Sierra Chart", 1, 1)


def test_fills_on_a_disputed_position_are_stored_and_announced_only_as_disputed(settings: Settings) -> None:
    state, _ = recovered_long(settings)
    report(state)  # flat at Sierra Chart
    state.apply_fill(Fill("E2", "120005", "MESZ25", D(-3), D("5052.00"), T0))  # LONG 1 → SHORT 2 here
    snap = state.snapshot()
    (found,) = snap.discrepancies
    assert found.text == "LIVE 120005 · SHORT 2 MES @ 5,052.00 — Sierra Chart reports flat"
    assert (found.trades_since, found.pnl_since) == (1, D("10.00"))
    assert snap.positions[0].quantity == 0 and snap.positions[0].panel_quantity == -2
    assert snap.last_event == ""  # no FLIPPED headline
    assert [n.kind for n in snap.notifications][-1] == "disputed"
    assert state.position(*KEY).quantity == -2  # type: ignore[union-attr]

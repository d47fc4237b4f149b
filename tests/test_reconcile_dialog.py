"""The reconnect dialog and a disputed position, driven through the real window, the real app and the DTC
simulator over a loopback socket (issue 13): a dialog that never sticks, no phantom position, clear choices,
a status line that follows the discrepancies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from sqlmodel import Session, col, select

from core.prices import Quote
from data.db import make_engine
from data.models import FillRecord, HeldTrade, PositionEvent, TradeRecord
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from panels.reconcile_dialog import DiscrepancyRow, ReconcileDialog
from tests.test_reconnect import Running, notifications

KEY = ("SIM", "Sim1", "MESZ25")
FLAT_TEXT = "SIM Sim1 · LONG 1 MES @ 6,850.00 — Sierra Chart reports flat"


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Scenario(name="reconcile", accounts=(AccountSpec("Sim1", 50_000.0),)), autoplay=False)
    server.start()
    yield server
    server.stop()


def long_one_then_flat_at_sierra_chart(run: Running, simulator, qtbot) -> ReconcileDialog:  # type: ignore[no-untyped-def]
    """A confirmed LONG 1 @ 6850.00, then Sierra Chart reports flat with no fill (an outside close): after the
    grace period the dialog lists it."""
    run.wait_synced()
    simulator.fill("Sim1", "MESZ25", "BUY", 1, 6850.00)
    run.wait(lambda s: len(s.positions) == 1 and s.positions[0].confirmed)
    simulator.set_position("Sim1", "MESZ25", 0, 0)  # unsolicited 306, no fill explains it
    controller = run.app.reconcile
    assert controller is not None
    qtbot.waitUntil(lambda: controller.dialog is not None and controller.dialog.isVisible(), timeout=8000)
    dialog = controller.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: list(dialog.rows) == [KEY], timeout=2000)
    return dialog


def only_row(dialog: ReconcileDialog) -> DiscrepancyRow:
    (row,) = dialog.rows.values()
    return row


def click(qtbot, widget) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def status_cleared(run: Running) -> bool:
    window = run.app.window
    return "differ" not in window.positions_status.text() and window.reconcile_chip.isHidden()


def rows(settings, statement) -> list[Any]:  # type: ignore[no-untyped-def]
    """What ``statement`` reads from the panel's database (opened and closed again: no WAL left behind)."""
    engine = make_engine(settings.data_dir)
    try:
        with Session(engine) as session:
            return list(session.exec(statement).all())
    finally:
        engine.dispose()


def events(settings) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(e.kind, e.reason, e.source) for e in rows(settings, select(PositionEvent).order_by(col(PositionEvent.id)))]


def test_adopt_then_a_second_mismatch_on_the_same_key_gets_a_usable_dialog(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        dialog = long_one_then_flat_at_sierra_chart(run, simulator, qtbot)
        window = run.app.window
        assert QApplication.activeModalWidget() is None  # modeless: the main window stays usable
        settings_dialog = window.open_settings()
        assert settings_dialog is not None and settings_dialog.isVisible()
        settings_dialog.reject()
        row = only_row(dialog)
        assert row.text.text() == FLAT_TEXT
        # each choice says what it does before the trader clicks
        assert row.adopt_help.text() == (
            "Removes the panel's LONG 1 MES @ 6,850.00: stored flat, as Sierra Chart reports. No trade is recorded "
            "(no exit price is invented); statistics unchanged."
        )
        assert row.keep_help.text() == (
            "Keeps the panel's LONG 1 MES @ 6,850.00 stored (confirmed) though Sierra Chart reports flat. "
            "No trade is recorded; statistics unchanged."
        )
        assert row.close_help.text().startswith("Records a trade closing the panel's LONG 1 MES @ 6,850.00")
        assert window.positions_status.text() == "Positions: 1 position(s) differ from Sierra Chart"
        click(qtbot, row.adopt)
        assert row.status.text() == "Applying…"
        qtbot.waitUntil(lambda: status_cleared(run), timeout=1000)  # within 1 s of the decision
        run.wait(lambda s: not s.discrepancies and not s.positions)
        assert "✓ adopted Sierra Chart's position" in dialog.last_result.text()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)  # nothing left: it closes by itself

        simulator.set_position("Sim1", "MESZ25", 2, 6855.00)  # Sierra Chart changes again: flat → LONG 2
        qtbot.waitUntil(lambda: dialog.isVisible() and list(dialog.rows) == [KEY], timeout=8000)
        row = only_row(dialog)
        assert row.text.text() == "SIM Sim1 · no position here — Sierra Chart reports LONG 2 MES @ 6,855.00"
        assert row.adopt.isEnabled() and row.keep.isEnabled() and row.status.text() == ""
        assert not row.close_button.isEnabled()  # nothing of the panel's to close
        card = window.panel2._cards["MESZ25"]  # Sierra Chart's position is what the window presents
        assert card.banner.text() == "LONG 2 MESZ25" and card.panel_figure.text() == "panel: flat"
        click(qtbot, row.adopt)
        run.wait(lambda s: len(s.positions) == 1 and s.positions[0].confirmed and not s.positions[0].disputed)
        assert run.snap.positions[0].quantity == 2 and run.snap.positions[0].avg_entry == D("6855.00")
        assert card.panel_figure.isHidden()
    finally:
        run.stop()
    reasons = [(kind, reason) for kind, reason, _ in events(settings) if kind == "reconciled"]
    assert reasons == [("reconciled", "adopted Sierra Chart's position")] * 2


def test_fills_while_disputed_show_sierra_charts_position_and_no_phantom(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        dialog = long_one_then_flat_at_sierra_chart(run, simulator, qtbot)
        window = run.app.window
        card = window.panel2._cards["MESZ25"]
        assert card.banner.text() == "FLAT MESZ25" and card.panel_figure.text() == "panel: LONG 1 @ 6,850.00"
        before = len(run.snap.notifications)
        simulator.fill("Sim1", "MESZ25", "SELL", 3, 6851.00)  # Sierra Chart: flat → SHORT 3
        run.wait(lambda s: s.positions and s.positions[0].quantity == -3)
        qtbot.waitUntil(lambda: card.panel_figure.text() == "panel: SHORT 2 @ 6,851.00", timeout=2000)
        assert card.banner.text() == "SHORT 3 MESZ25"  # Sierra Chart's position, never the panel's SHORT 2
        assert "SIERRA CHART'S POSITION" in card.unconfirmed.text() and not card.unconfirmed.isHidden()
        assert (card.mae.text(), card.mfe.text()) == ("—", "—")  # the panel's excursions are not Sierra Chart's
        new = run.snap.notifications[before:]
        assert [n.kind for n in new] == ["disputed"]  # no FLIPPED, no trade P&L announced
        # Sierra Chart's report as it stood when the fill was stored (its 306 may come in the same chunk)
        assert new[0].text.startswith("SIM Sim1 · fill SELL 3 MESZ25 @ 6,851.00 stored; position disputed — ")
        assert new[0].text.endswith(", panel: SHORT 2 MES @ 6,851.00; the trade it closed is held apart until "
                                    "Sierra Chart agrees")  # fmt: skip
        # the trade the panel's LONG 1 "closed" is stored apart: no statistic, table row or database trade yet
        assert window.panel3.trades.text() == "0" and window.panel3.model.rowCount() == 0
        assert stored_trades(settings) == [] and held_trades(settings) == 1
        assert run.app.alerts is not None and not any("FLIPPED" in t for t in run.app.alerts.announced)
        qtbot.waitUntil(lambda: only_row(dialog).text.text().endswith("reports SHORT 3 MES @ 6,851.00"), timeout=2000)
        assert only_row(dialog).text.text() == (
            "SIM Sim1 · SHORT 2 MES @ 6,851.00 — Sierra Chart reports SHORT 3 MES @ 6,851.00"
        )
        assert only_row(dialog).adopt.isEnabled()
        assert only_row(dialog).adopt_help.text() == (  # what adopting now would do with the held trade
            "Stores Sierra Chart's SHORT 3 MES @ 6,851.00 as the position. No trade is recorded; statistics "
            "unchanged. The 1 trade (+$5.00) the panel's fills closed while this was open, held apart, is "
            "discarded: it closed a position Sierra Chart did not have."
        )
        assert only_row(dialog).keep_help.text().endswith(
            "The 1 trade (+$5.00) the panel's fills closed while this was open, held apart until now, is counted."
        )

        # Sierra Chart's next report agrees with the panel's fills: the discrepancy resolves itself and says so
        simulator.set_position("Sim1", "MESZ25", -2, 6851.00)
        qtbot.waitUntil(lambda: status_cleared(run), timeout=1000)
        run.wait(lambda s: not s.discrepancies)
        assert card.banner.text() == "SHORT 2 MESZ25" and card.panel_figure.isHidden()
        assert notifications(run.snap, "reconciled")[-2] == (
            "resolved by itself: SIM Sim1 MESZ25 — Sierra Chart now reports SHORT 2 MES @ 6,851.00, "
            "as the panel's fills do"
        )
        qtbot.waitUntil(lambda: not dialog.rows, timeout=2000)
        # the fills were right after all: the held trade now counts, and the feed says so
        assert any("1 trade (+$5.00 net) closed while Sierra Chart disagreed now counted" in t
                   for t in notifications(run.snap, "reconciled"))  # fmt: skip
        qtbot.waitUntil(lambda: window.panel3.trades.text() == "1", timeout=3000)
    finally:
        run.stop()
    fills = rows(settings, select(FillRecord).order_by(col(FillRecord.id)))
    assert [(f.quantity, f.price) for f in fills] == [(D(1), D("6850")), (D(-3), D("6851"))]  # in arrival order
    assert ("reconciled", "agrees with Sierra Chart", "sierra chart: POSITION_UPDATE") in events(settings)
    assert [(t.side, t.qty, t.realized_pnl) for t in stored_trades(settings)] == [("LONG", D(1), D(5))]
    assert held_trades(settings) == 0
    exited = f"{stored_trades(settings)[0].exit_time:%Y-%m-%d %H:%M:%S}"
    assert [e for e in events(settings) if e[0] == "trade_released"] == [
        ("trade_released", "agrees with Sierra Chart", f"trade LONG 1 exited {exited}")
    ]


def test_adopting_sierra_charts_position_discards_the_trade_held_apart(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The panel's stale LONG 1 "closed" by Sierra Chart's SELL 3: adopting Sierra Chart's SHORT 3 says the LONG
    never existed, so the trade it made is dropped (audited), never counted."""
    run = Running(settings, simulator.port, qtbot)
    try:
        dialog = long_one_then_flat_at_sierra_chart(run, simulator, qtbot)
        simulator.fill("Sim1", "MESZ25", "SELL", 3, 6851.00)
        qtbot.waitUntil(lambda: only_row(dialog).text.text().endswith("reports SHORT 3 MES @ 6,851.00"), timeout=3000)
        assert held_trades(settings) == 1
        click(qtbot, only_row(dialog).adopt)
        run.wait(lambda s: not s.discrepancies and s.positions and s.positions[0].quantity == -3)
        assert any("1 trade (+$5.00 net) closed while Sierra Chart disagreed discarded" in t
                   for t in notifications(run.snap, "reconciled"))  # fmt: skip
        assert run.app.window.panel3.trades.text() == "0"
    finally:
        run.stop()
    assert stored_trades(settings) == [] and held_trades(settings) == 0
    discarded = [e for e in events(settings) if e[0] == "trade_discarded"]
    assert [e[1] for e in discarded] == ["adopted Sierra Chart's position"]


def test_a_trade_held_apart_survives_a_restart_and_counts_once_sierra_chart_agrees(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        dialog = long_one_then_flat_at_sierra_chart(run, simulator, qtbot)
        simulator.fill("Sim1", "MESZ25", "SELL", 3, 6851.00)
        qtbot.waitUntil(lambda: only_row(dialog).text.text().endswith("reports SHORT 3 MES @ 6,851.00"), timeout=3000)
        assert held_trades(settings) == 1
    finally:
        run.stop()  # closed while the difference is open: the held trade stays apart in the database
    simulator.set_position("Sim1", "MESZ25", -2, 6851.00)  # meanwhile Sierra Chart comes to agree with the fills
    again = Running(settings, simulator.port, qtbot)
    try:
        again.wait_synced()
        qtbot.waitUntil(lambda: again.app.window.panel3.trades.text() == "1", timeout=5000)
        assert any("now counted (agrees with Sierra Chart)" in t for t in notifications(again.snap, "reconciled"))
    finally:
        again.stop()
    assert [(t.side, t.realized_pnl) for t in stored_trades(settings)] == [("LONG", D(5))]
    assert held_trades(settings) == 0


def stored_trades(settings) -> list[TradeRecord]:  # type: ignore[no-untyped-def]
    return rows(settings, select(TradeRecord).order_by(col(TradeRecord.id)))


def held_trades(settings) -> int:  # type: ignore[no-untyped-def]
    return len(rows(settings, select(HeldTrade)))


def test_closed_without_decision_stays_listed_and_the_chip_reopens_it(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        dialog = long_one_then_flat_at_sierra_chart(run, simulator, qtbot)
        window = run.app.window
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        click(qtbot, buttons.button(QDialogButtonBox.StandardButton.Close))
        assert not dialog.isVisible()
        chip = window.reconcile_chip
        assert not chip.isHidden() and chip.text() == "⚠ 1 position differs — review"
        qtbot.wait(1500)  # later snapshots of the same difference do not reopen it
        assert not dialog.isVisible() and run.snap.discrepancies
        click(qtbot, chip)
        assert dialog.isVisible() and only_row(dialog).adopt.isEnabled()
        dialog.reject()
        simulator.set_position("Sim1", "MESZ25", 2, 6855.00)  # a new difference: it opens by itself
        qtbot.waitUntil(lambda: dialog.isVisible(), timeout=8000)
        qtbot.waitUntil(lambda: only_row(dialog).text.text().endswith("reports LONG 2 MES @ 6,855.00"), timeout=2000)
        click(qtbot, only_row(dialog).keep)
        qtbot.waitUntil(lambda: status_cleared(run), timeout=1000)
        run.wait(lambda s: not s.discrepancies and s.positions and s.positions[0].quantity == 1)
        assert notifications(run.snap, "reconciled")[-1].startswith("kept: SIM Sim1 · LONG 1 MES @ 6,850.00")
    finally:
        run.stop()
    assert ("reconciled", "kept by trader", "trader") in events(settings)


def test_close_mine_at_a_stale_price_is_refused_unless_typed(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        simulator.set_market_data_rejected(["MESZ25"])  # like CME data over DTC: no live price
        dialog = long_one_then_flat_at_sierra_chart(run, simulator, qtbot)
        old = datetime.now(UTC) - timedelta(minutes=14)
        run.app.state.on_price(Quote("MESZ25", D("6853.50"), old, "dtc"))  # the last price seen, 14 min ago
        row = only_row(dialog)
        qtbot.waitUntil(lambda: row.price.text() == "6,853.50", timeout=3000)
        age = row.price_age.text()  # the age of the pre-filled price is shown
        assert age.startswith("last price 6,853.50 · 14 min") and age.endswith(" ago · STALE")
        click(qtbot, row.close_button)
        assert row.status.text().startswith("Not closed: the pre-filled price is stale (last price 6,853.50")
        assert row.close_button.isEnabled()  # nothing was sent
        qtbot.wait(500)
        assert run.snap.discrepancies and run.app.state.position(*KEY) is not None
        row.price.selectAll()
        qtbot.keyClicks(row.price, "6852.50")  # the trader types the price it was closed at
        assert row.close_help.text().startswith(
            "Records a trade closing the panel's LONG 1 MES @ 6,850.00 at the price entered (6,852.50: +$12.50"
        )
        click(qtbot, row.close_button)
        qtbot.waitUntil(lambda: status_cleared(run), timeout=1000)
        run.wait(lambda s: not s.discrepancies and not s.positions)
    finally:
        run.stop()
    (trade,) = rows(settings, select(TradeRecord))
    assert (trade.exit_price, trade.exit_reason) == (D("6852.50"), "closed by trader")

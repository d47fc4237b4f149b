"""Sierra Chart's own trade list (issue 15), over a real loopback socket against the DTC simulator: trades from
before first contact imported (and said so), the panel's own trades cross-checked, a reject or no answer
harmless, a restart never importing twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt
from sqlmodel import Session, select

from app_manager import PanelApp, build_app
from core.settings import Settings
from core.snapshots import ConnectionState
from core.tradingday import Period, period_start
from data.db import make_engine
from data.models import FillRecord, OpenPosition, PositionEvent, SierraDifference, TradeRecord
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer

DAY = 86400.0


class Clock:
    """The simulator's clock: ``offset`` seconds before real time (0: now)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() - self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def simulator(clock: Clock) -> Iterator[SimulatorServer]:
    server = SimulatorServer(Scenario(accounts=(AccountSpec("Sim1"),)), autoplay=False, clock=clock)
    server.set_instrument("MESZ25", 0.25, 1.25)
    server.start()
    yield server
    server.stop()


def start_panel(settings: Settings, port: int, qtbot) -> PanelApp:  # type: ignore[no-untyped-def]
    app = build_app(replace(settings, host="127.0.0.1", port=port, heartbeat_seconds=2))
    qtbot.addWidget(app.window)
    qtbot.addWidget(app.window.sierra_differences)
    app.start()
    return app


def wait_synced(app: PanelApp, qtbot) -> None:  # type: ignore[no-untyped-def]
    def synced() -> None:
        snap = app.window.last_snapshot
        assert snap is not None and snap.connection.state == ConnectionState.SYNCED

    qtbot.waitUntil(synced, timeout=10_000)


def wait_compared(app: PanelApp, qtbot, available: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Until the window's "Differences with Sierra Chart" view says Sierra Chart answered (or did not)."""
    qtbot.waitUntil(lambda: app.window.sierra_differences.view.available is available, timeout=10_000)


def trades_column(app: PanelApp, title: str) -> list[str]:
    model = app.window.panel3.model
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    column = headers.index(title)
    return [model.index(row, column).data() for row in range(model.rowCount())]


def stored(settings: Settings) -> tuple[list[TradeRecord], list[FillRecord], list[OpenPosition]]:
    engine = make_engine(settings.data_dir)
    try:
        with Session(engine) as session:
            trades = list(session.exec(select(TradeRecord).order_by(TradeRecord.exit_time)).all())
            fills = list(session.exec(select(FillRecord)).all())
            positions = list(session.exec(select(OpenPosition)).all())
            return trades, fills, positions
    finally:
        engine.dispose()


def test_trades_before_first_contact_are_imported_once_and_the_statistics_say_so(  # type: ignore[no-untyped-def]
    settings, simulator, clock, qtbot
) -> None:
    # Sierra Chart's trades of three days ago, before DTC Panel ever connected. Whatever today's date (also on 1–3
    # January, when three days ago is last year), they are inside the "3 months" period and the request reaches
    # back at least that far (asserted below)
    clock.offset = 3 * DAY
    simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
    simulator.price("MESZ25", 5998.00)
    simulator.fill("Sim1", "MESZ25", "SELL", 1, 6004.00)  # +$20, MAE -$10, MFE +$20
    simulator.fill("Sim1", "MESZ25", "SELL", 2, 6010.00)
    simulator.fill("Sim1", "MESZ25", "BUY", 2, 6012.00)  # -$20
    clock.offset = 0.0
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        wait_compared(app, qtbot)
        ((_, asked_from),) = simulator.trades_requests()
        quarter = period_start(Period.QUARTER, datetime.now(UTC), settings.session_start, settings.session_timezone)
        assert quarter is not None and asked_from <= quarter.timestamp() < time.time() - 3 * DAY
        app.state.set_period(Period.QUARTER)  # starts before first contact (three months back)

        def statistics_include_them() -> None:
            snap = app.window.last_snapshot
            assert snap is not None and snap.period == Period.QUARTER.value and not snap.statistics_loading
            assert snap.statistics.trades == 2 and snap.statistics.net_pnl == D(0)
            assert snap.statistics.imported_trades == 2

        qtbot.waitUntil(statistics_include_them, timeout=10_000)
        note = app.window.panel3.unit_note
        assert "Includes 2 trades imported from Sierra Chart's trade list" in note.text()
        assert note.isVisibleTo(app.window)
        qtbot.waitUntil(lambda: trades_column(app, "SC") == ["SC", "SC"], timeout=5000)
        # a trade of its own afterwards: computed from fills, then cross-checked at the next logon
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6020.00)
        simulator.fill("Sim1", "MESZ25", "SELL", 1, 6021.00)
        qtbot.waitUntil(lambda: len(stored(settings)[0]) == 3, timeout=10_000)
    finally:
        app.stop()
    trades, fills, positions = stored(settings)
    assert [(t.sierra, t.side, t.qty, t.entry_price, t.exit_price, t.realized_pnl, t.mae, t.mfe) for t in trades] == [
        ("imported", "LONG", D(1), D(6000), D(6004), D(20), D(-10), D(20)),
        ("imported", "SHORT", D(2), D(6010), D(6012), D(-20), D(-20), D(0)),
        ("", "LONG", D(1), D(6020), D(6021), D(5), D(0), D(5)),
    ]
    assert len(fills) == 2 and positions == []  # imported trades bring no fills and no positions
    # a restart: Sierra Chart lists the same trades again; nothing is imported twice, the own trade agrees
    restarted = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(restarted, qtbot)
        wait_compared(restarted, qtbot)
        marks = ["imported", "imported", "agrees"]
        qtbot.waitUntil(lambda: [t.sierra for t in stored(settings)[0]] == marks, timeout=10_000)
        view = restarted.window.sierra_differences.view
        assert view.differences == () and view.imported == 0 and view.agreed == 1
        assert restarted.window.sierra_button.text() == "Sierra Chart ✓"
    finally:
        restarted.stop()
    assert len(stored(settings)[0]) == 3


def test_a_closed_pnl_differing_by_1_25_is_listed_with_both_values_and_audited(  # type: ignore[no-untyped-def]
    settings, simulator, qtbot
) -> None:
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        wait_compared(app, qtbot)
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        (close_id,) = simulator.fill("Sim1", "MESZ25", "SELL", 1, 6001.00)  # +$5.00 from the fills
        qtbot.waitUntil(lambda: len(stored(settings)[0]) == 1, timeout=10_000)
        simulator.set_trades_difference(close_id, "ClosedProfitLoss", 1.25)  # Sierra Chart says $6.25
        simulator.drop_connections()  # the next logon asks again and compares
        dialog = app.window.sierra_differences
        qtbot.waitUntil(lambda: app.window.sierra_button.text() == "Sierra Chart ≠ 1", timeout=15_000)
        app.window.shortcut_actions["sierra_differences"].trigger()  # Ctrl+D: the trader opens the list
        qtbot.waitUntil(lambda: dialog.isVisible() and dialog.model.rowCount() == 1, timeout=5000)
        row = [dialog.model.item(0, c).text() for c in range(dialog.model.columnCount())]
        assert row[0:2] == ["SIM Sim1", "MESZ25"] and row[4:7] == ["Closed P&L", "5.00", "6.25"]
        assert "1 difference listed" in dialog.status.text()
        qtbot.waitUntil(lambda: trades_column(app, "SC") == ["≠"], timeout=5000)
        in_feed = lambda: any("difference(s) with Sierra Chart" in line for line in app.window.feed.lines())  # noqa: E731
        qtbot.waitUntil(in_feed, timeout=5000)
        simulator.drop_connections()  # found again at the next logon: still listed once, audited once
        asked_thrice = lambda: simulator.logged_on_clients == 1 and len(simulator.trades_requests()) == 3  # noqa: E731
        qtbot.waitUntil(asked_thrice, timeout=15_000)
        wait_compared(app, qtbot)
    finally:
        app.stop()
    trades, _, _ = stored(settings)
    assert [(t.sierra, t.gross_pnl, t.realized_pnl) for t in trades] == [("differs", D(5), D(5))]  # not overwritten
    with Session(make_engine(settings.data_dir)) as session:
        differences = session.exec(select(SierraDifference)).all()
        events = session.exec(select(PositionEvent).where(PositionEvent.kind == "sierra_differs")).all()
    assert [(d.kind, d.field, d.panel_value, d.sierra_value, d.trade_id) for d in differences] == [
        ("differs", "ClosedProfitLoss", "5.00", "6.25", trades[0].id)
    ]
    assert [(e.account, e.symbol, e.source) for e in events] == [("Sim1", "MESZ25", "10102:ClosedProfitLoss")]


def test_a_reject_leaves_everything_else_working_and_is_asked_again_next_logon(  # type: ignore[no-untyped-def]
    settings, simulator, qtbot
) -> None:
    simulator.set_trades_reject("Historical trades are not supported")
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        wait_compared(app, qtbot, available=False)
        dialog = app.window.sierra_differences
        assert "not available from this Sierra Chart" in dialog.status.text()
        assert "Historical trades are not supported" in dialog.status.text()
        assert app.window.sierra_button.text() == "Sierra Chart n/a"
        snap = app.window.last_snapshot
        assert snap is not None and snap.connection.state == ConnectionState.SYNCED
        assert "partially" not in snap.connection.detail  # the rest of the resync is untouched
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        simulator.fill("Sim1", "MESZ25", "SELL", 1, 6002.00)
        qtbot.waitUntil(lambda: app.window.panel3.trades.text() == "1", timeout=10_000)
        assert app.window.panel3.realized.text() == "+$10.00"
        simulator.set_trades_reject(None)
        simulator.drop_connections()
        wait_compared(app, qtbot, available=True)  # the next logon asks again
        qtbot.waitUntil(lambda: trades_column(app, "SC") == ["✓"], timeout=5000)
    finally:
        app.stop()
    assert [t.sierra for t in stored(settings)[0]] == ["agrees"]


def test_no_answer_or_an_unknown_answer_makes_it_not_available_and_nothing_else(  # type: ignore[no-untyped-def]
    settings, simulator, qtbot
) -> None:
    simulator.set_trades_ignored(True)  # a Sierra Chart that does not know the message: no answer at all
    app = start_panel(settings, simulator.port, qtbot)
    assert app.trade_list is not None
    app.trade_list.timeout_seconds = 1.0
    try:
        wait_synced(app, qtbot)
        wait_compared(app, qtbot, available=False)
        status = app.window.sierra_differences.status.text()
        assert "not available from this Sierra Chart (no complete answer within 1 s)" in status
        in_feed = lambda: any("not available from this Sierra Chart" in line for line in app.window.feed.lines())  # noqa: E731
        qtbot.waitUntil(in_feed, timeout=5000)
        simulator.fill("Sim1", "MESZ25", "SELL", 1, 6000.00)
        qtbot.waitUntil(lambda: app.window.panel2.card_texts()[:1] != [], timeout=10_000)
        assert app.window.panel2.card_texts()[0].startswith("SHORT 1 MESZ25")
        # the next logon asks again; this time an answer of a Sierra Chart custom type this panel does not know
        app.trade_list.timeout_seconds = 30.0
        simulator.drop_connections()
        qtbot.waitUntil(lambda: app.window.sierra_differences.view.available is None, timeout=15_000)
        simulator.send_raw(b'{"Type":10150,"RequestID":1000001}\x00')
        wait_compared(app, qtbot, available=False)
        assert "answered with message type 10150" in app.window.sierra_differences.status.text()
        wait_synced(app, qtbot)  # the resync is not held up by it
    finally:
        app.stop()


def test_a_later_logon_asks_only_for_what_is_newer_than_what_was_compared(  # type: ignore[no-untyped-def]
    settings, simulator, clock, qtbot
) -> None:
    """A year of trades was asked for and compared after every logon; once compared, a logon asks from a week
    before the end of the compared span — and from the trader's whole period again when it grows."""
    clock.offset = 20 * DAY  # a trade of twenty days ago, before first contact: imported at the first logon
    simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
    simulator.fill("Sim1", "MESZ25", "SELL", 1, 6004.00)
    clock.offset = 0.0
    settings = replace(settings, sierra_trades_days=30)
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        wait_compared(app, qtbot)
        first_asked = time.time()
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6020.00)
        simulator.fill("Sim1", "MESZ25", "SELL", 1, 6021.00)
        qtbot.waitUntil(lambda: len(stored(settings)[0]) == 2, timeout=10_000)
    finally:
        app.stop()
    ((_, start),) = simulator.trades_requests()
    assert abs(start - (first_asked - 30 * DAY)) < 30  # the first time: the whole 30 days
    restarted = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(restarted, qtbot)
        wait_compared(restarted, qtbot)
        qtbot.waitUntil(lambda: [t.sierra for t in stored(settings)[0]] == ["imported", "agrees"], timeout=10_000)
        status = restarted.window.sierra_differences.status.text()
        assert "were compared at an earlier logon" in status, status
    finally:
        restarted.stop()
    start = simulator.trades_requests()[-1][1]
    assert abs(start - (first_asked - 7 * DAY)) < 30  # only the last week again: the own trade is checked
    longer = replace(settings, sierra_trades_days=60)  # the trader looks further back: all of it is asked for
    again = start_panel(longer, simulator.port, qtbot)
    try:
        wait_synced(again, qtbot)
        wait_compared(again, qtbot)
    finally:
        again.stop()
    start = simulator.trades_requests()[-1][1]
    assert abs(start - (time.time() - 60 * DAY)) < 60
    assert [t.sierra for t in stored(settings)[0]] == ["imported", "agrees"]  # nothing imported twice


def test_a_trade_cut_by_a_later_requests_start_is_not_imported_twice(  # type: ignore[no-untyped-def]
    settings, simulator, clock, qtbot
) -> None:
    """A Sierra Chart that builds its trades only from the fills after StartDateTime answers a later logon's
    request (a week before the end of what was compared) with a trade open at that moment cut: another entry,
    another quantity, so another identity. It closed before first contact and was imported at the first logon:
    it must not be imported a second time, nor counted twice in the statistics."""
    clock.offset = 8 * DAY
    simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
    clock.offset = 6 * DAY  # after the later logon's StartDateTime (a week before the first logon)
    simulator.fill("Sim1", "MESZ25", "BUY", 1, 6002.00)
    clock.offset = 5 * DAY
    simulator.fill("Sim1", "MESZ25", "SELL", 2, 6010.00)  # long 2 @ 6001 → 6010: +$90, before first contact
    clock.offset = 0.0
    simulator.set_trades_cut_at_start(True)
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        wait_compared(app, qtbot)
        qtbot.waitUntil(lambda: len(stored(settings)[0]) == 1, timeout=10_000)
    finally:
        app.stop()
    ((_, first_start),) = simulator.trades_requests()
    restarted = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(restarted, qtbot)
        wait_compared(restarted, qtbot)
        assert restarted.trade_list is not None and restarted.trade_list.wait_idle()
        start = simulator.trades_requests()[-1][1]
        assert first_start < time.time() - 8 * DAY < start < time.time() - 6 * DAY  # the trade was cut this time
        restarted.state.set_period(Period.QUARTER)

        def counted_once() -> None:
            snap = restarted.window.last_snapshot
            assert snap is not None and snap.period == Period.QUARTER.value and not snap.statistics_loading
            assert (snap.statistics.trades, snap.statistics.imported_trades) == (1, 1)
            assert snap.statistics.net_pnl == D(90)

        qtbot.waitUntil(counted_once, timeout=10_000)
        assert restarted.window.sierra_differences.view.imported == 0
    finally:
        restarted.stop()
    ((trade,), _, _) = stored(settings)
    assert (trade.sierra, trade.qty, trade.entry_price, trade.realized_pnl) == ("imported", D(2), D(6001), D(90))


@pytest.fixture
def two_accounts(clock: Clock) -> Iterator[SimulatorServer]:
    server = SimulatorServer(
        Scenario(accounts=(AccountSpec("Sim1"), AccountSpec("Sim2"))), autoplay=False, clock=clock
    )
    server.set_instrument("MESZ25", 0.25, 1.25)
    server.start()
    yield server
    server.stop()


def test_a_reject_for_one_account_stays_visible_after_another_accounts_answer(  # type: ignore[no-untyped-def]
    settings, two_accounts, qtbot
) -> None:
    """Sim1's request is rejected, Sim2's answered after it: the status says both, and the top-bar button says
    "n/a" — never ✓ because the last answer was fine."""
    two_accounts.set_trades_reject("No trade list for this account", accounts=("Sim1",))
    app = start_panel(settings, two_accounts.port, qtbot)
    try:
        wait_synced(app, qtbot)
        dialog = app.window.sierra_differences
        qtbot.waitUntil(lambda: "Sim2: Compared with Sierra Chart's trade list" in dialog.status.text(), timeout=10_000)
        assert dialog.view.available is False
        assert "Sim1: Sierra Chart's trade list: not available from this Sierra Chart" in dialog.status.text()
        assert "No trade list for this account" in dialog.status.text()
        assert app.window.sierra_button.text() == "Sierra Chart n/a"
        two_accounts.set_trades_reject(None)
        two_accounts.drop_connections()  # the next logon asks again: both answer
        qtbot.waitUntil(lambda: app.window.sierra_button.text() == "Sierra Chart ✓", timeout=15_000)
        assert dialog.view.available is True and "not available" not in dialog.status.text()
    finally:
        app.stop()


def test_a_difference_that_agrees_at_a_later_comparison_is_resolved_and_audited(  # type: ignore[no-untyped-def]
    settings, simulator, qtbot
) -> None:
    app = start_panel(settings, simulator.port, qtbot)
    try:
        wait_synced(app, qtbot)
        wait_compared(app, qtbot)
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        (close_id,) = simulator.fill("Sim1", "MESZ25", "SELL", 1, 6001.00)
        qtbot.waitUntil(lambda: len(stored(settings)[0]) == 1, timeout=10_000)
        simulator.set_trades_difference(close_id, "ClosedProfitLoss", 1.25)
        simulator.drop_connections()
        qtbot.waitUntil(lambda: app.window.sierra_button.text() == "Sierra Chart ≠ 1", timeout=15_000)
        simulator.set_trades_difference(close_id, "ClosedProfitLoss", 0.0)  # Sierra Chart's list agrees again
        simulator.drop_connections()
        qtbot.waitUntil(lambda: app.window.sierra_button.text() == "Sierra Chart ✓", timeout=15_000)
        dialog = app.window.sierra_differences
        assert "1 earlier difference(s) now agree" in dialog.status.text()
        assert "No differences listed" in dialog.status.text()
        qtbot.waitUntil(lambda: trades_column(app, "SC") == ["✓"], timeout=5000)
        said = "1 earlier difference(s) with Sierra Chart's trade list for Sim1 now agree"
        in_feed = lambda: any(said in line for line in app.window.feed.lines())  # noqa: E731
        qtbot.waitUntil(in_feed, timeout=5000)
    finally:
        app.stop()
    trades, _, _ = stored(settings)
    assert [(t.sierra, t.gross_pnl) for t in trades] == [("agrees", D(5))]
    with Session(make_engine(settings.data_dir)) as session:
        differences = session.exec(select(SierraDifference)).all()
        audit = select(PositionEvent).where(PositionEvent.kind.in_(("sierra_differs", "sierra_resolved")))  # type: ignore[attr-defined]
        events = session.exec(audit.order_by(PositionEvent.id)).all()  # type: ignore[arg-type]
    assert differences == []
    assert [(e.kind, e.source) for e in events] == [
        ("sierra_differs", "10102:ClosedProfitLoss"),
        ("sierra_resolved", "10102:ClosedProfitLoss"),
    ]

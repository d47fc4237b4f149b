"""Reconnect and reconcile against the DTC simulator over real loopback sockets, with injected faults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal as D

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from sqlmodel import Session, select

from app_manager import PanelApp, build_app
from core.settings import Settings
from core.snapshots import AppSnapshot, ConnectionState
from data.db import make_engine
from data.models import FillRecord, OpenPosition, TradeRecord
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    """Like Sierra Chart, the simulator lists its trade accounts from the start."""
    accounts = (AccountSpec("Sim1", 50_000.0), AccountSpec("120005", 25_000.0))
    server = SimulatorServer(Scenario(name="reconnect", accounts=accounts), autoplay=False)
    server.start()
    yield server
    server.stop()


class Running:
    """The real app (client thread, router, SQLite, window) connected to the simulator."""

    def __init__(self, settings: Settings, port: int, qtbot, heartbeat: int = 1) -> None:  # type: ignore[no-untyped-def]
        self.app: PanelApp = build_app(replace(settings, host="127.0.0.1", port=port, heartbeat_seconds=heartbeat))
        self.qtbot = qtbot
        qtbot.addWidget(self.app.window)
        self.states: list[ConnectionState] = []
        self.app.window.shown.connect(self._record)
        self.app.start()

    def _record(self, snap: AppSnapshot) -> None:
        if not self.states or self.states[-1] != snap.connection.state:
            self.states.append(snap.connection.state)

    @property
    def snap(self) -> AppSnapshot:
        snap = self.app.window.last_snapshot
        assert snap is not None
        return snap

    def wait(self, predicate, timeout: int = 10_000) -> None:  # type: ignore[no-untyped-def]
        self.qtbot.waitUntil(lambda: bool(predicate(self.snap)), timeout=timeout)

    def wait_synced(self, timeout: int = 10_000) -> None:
        self.wait(lambda s: s.connection.state == ConnectionState.SYNCED, timeout)

    def reconnect_after(self, drop: Callable[[], object], timeout: int = 15_000) -> None:
        """Run ``drop`` (which cuts the link) and wait until a new connection has synced."""
        before = self.app.client.connections
        drop()
        self.qtbot.waitUntil(lambda: self.app.client.connections > before, timeout=timeout)
        self.wait_synced(timeout)

    def stop(self) -> None:
        self.app.stop()
        self.app.window.shown.disconnect(self._record)
        QCoreApplication.processEvents()  # deliver what the stopped DTC thread queued, while all is alive


def notifications(snap: AppSnapshot, kind: str | None = None) -> list[str]:
    return [n.text for n in snap.notifications if kind is None or n.kind == kind]


def test_fill_while_disconnected_is_applied_once_with_one_notification(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        run.wait_synced()
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        run.wait(lambda s: len(s.positions) == 1)
        simulator.set_silent(True)  # the link goes quiet …
        simulator.drop_connections()  # … and drops
        run.wait(lambda s: s.connection.state == ConnectionState.DISCONNECTED)
        simulator.fill("Sim1", "MESZ25", "BUY", 2, 6001.00)  # happens while the panel is away
        simulator.set_silent(False)
        run.wait(lambda s: s.positions and s.positions[0].quantity == 3)
        run.wait_synced()
        opened = [t for t in notifications(run.snap) if "INCREASED · LONG 3" in t]
        assert opened == ["SIM Sim1 · INCREASED · LONG 3 MESZ25 @ 6,000.6667"]
        simulator.drop_connections()  # another reconnect replays the same history: nothing new
        run.wait(lambda s: s.connection.state == ConnectionState.DISCONNECTED)
        run.wait_synced()
        assert len([t for t in notifications(run.snap) if "LONG 3" in t]) == 1
    finally:
        run.stop()
    with Session(make_engine(settings.data_dir)) as session:
        assert len(session.exec(select(FillRecord)).all()) == 2


def test_flat_at_sierra_chart_opens_the_dialog_and_close_at_price_is_applied(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        run.wait_synced()
        simulator.fill("120005", "MESZ25", "BUY", 1, 5050.00)
        run.wait(lambda s: len(s.positions) == 1 and s.positions[0].confirmed)
        run.stop()
        # while the panel is closed the position is closed in a way no fill reports (e.g. by the broker desk)
        simulator.set_position("120005", "MESZ25", 0, 0, notify=False)
        run = Running(settings, simulator.port, qtbot)
        run.wait(lambda s: bool(s.discrepancies))
        controller = run.app.reconcile
        assert controller is not None
        qtbot.waitUntil(lambda: controller.dialog is not None and controller.dialog.isVisible(), timeout=5000)
        dialog = controller.dialog
        assert dialog is not None
        (row,) = dialog.rows.values()
        assert row.text.text() == "LIVE 120005 · LONG 1 MES @ 5,050.00 — Sierra Chart reports flat"
        card = run.app.window.panel2._cards["MESZ25"]
        assert not card.unconfirmed.isHidden()
        row.price.setText("5052.50")
        qtbot.mouseClick(row.close_button, Qt.MouseButton.LeftButton)
        run.wait(lambda s: not s.positions and not s.discrepancies)
        assert not run.app.window.panel2.flat.isHidden() and run.app.window.panel2.card_texts() == []
    finally:
        run.stop()
    with Session(make_engine(settings.data_dir)) as session:
        assert session.exec(select(OpenPosition)).all() == []
        (trade,) = session.exec(select(TradeRecord)).all()
    assert (trade.exit_price, trade.realized_pnl, trade.exit_reason) == (D("5052.50"), D("12.5"), "closed by trader")


def test_position_changed_outside_the_app_is_flagged_not_overwritten(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        run.wait_synced()
        simulator.fill("Sim1", "MESZ25", "SELL", 2, 6100.00)
        run.wait(lambda s: len(s.positions) == 1)
        simulator.set_position("Sim1", "MESZ25", -3, 6100.50)  # unsolicited 306, no fill
        run.wait(lambda s: bool(s.discrepancies), timeout=8000)
        (found,) = run.snap.discrepancies
        assert found.text == "SIM Sim1 · SHORT 2 MES @ 6,100.00 — Sierra Chart reports SHORT 3 MES @ 6,100.50"
        (shown,) = run.snap.positions  # Sierra Chart's position is presented, the panel's beside it
        assert (shown.quantity, shown.panel_quantity, shown.confirmed) == (-3, -2, False)
        assert run.app.state.position("SIM", "Sim1", "MESZ25").quantity == -2  # type: ignore[union-attr]
        assert len(notifications(run.snap, "stale")) == 1
    finally:
        run.stop()


def test_rejected_position_request_leaves_positions_unknown_and_unchanged(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    try:
        run.wait_synced()
        simulator.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        run.wait(lambda s: len(s.positions) == 1)
        simulator.set_positions_reject("Positions are not available")
        simulator.drop_connections()
        run.wait(lambda s: s.positions_status.startswith("unknown"))
        run.wait_synced()
        snap = run.snap
        assert snap.positions_status == "unknown: request rejected: Positions are not available"
        assert "partially synced" in snap.connection.detail
        assert [(p.quantity, p.confirmed) for p in snap.positions] == [(D(1), False)]
        assert snap.discrepancies == ()
    finally:
        run.stop()


def test_silent_server_turns_stale_then_disconnected_and_the_app_resyncs(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot, heartbeat=1)
    try:
        run.wait_synced()
        simulator.set_heartbeats(False)
        run.wait(lambda s: s.connection.state == ConnectionState.DISCONNECTED, timeout=4000)  # within 3 intervals
        assert run.states[-2:] == [ConnectionState.STALE, ConnectionState.DISCONNECTED]
        simulator.set_heartbeats(True)
        run.wait_synced(timeout=10_000)
        assert run.app.client.connections >= 2
    finally:
        run.stop()


@pytest.mark.parametrize("how", ["logon result 3", "logoff do-not-reconnect"])
def test_server_that_says_do_not_reconnect_is_obeyed(settings, simulator, qtbot, how: str) -> None:  # type: ignore[no-untyped-def]
    if how == "logon result 3":
        simulator.set_logon_result(3, "Your trial has ended")
        run = Running(settings, simulator.port, qtbot)
        expected = "logon refused, not reconnecting: Your trial has ended"
    else:
        run = Running(settings, simulator.port, qtbot)
        run.wait_synced()
        simulator.logoff_clients("Another client logged on with this account", do_not_reconnect=True)
        expected = "Sierra Chart logged off and asked not to reconnect: Another client logged on with this account"
    try:
        run.wait(lambda s: s.connection.state == ConnectionState.STOPPED)
        assert run.snap.connection.detail == expected
        connections = run.app.client.connections
        qtbot.wait(2500)  # longer than the first reconnect delay
        assert run.app.client.connections == connections and not run.app.client.alive
    finally:
        run.stop()


def test_twenty_disconnects_during_trading_end_exactly_like_the_simulator(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    run = Running(settings, simulator.port, qtbot)
    orders = [("BUY", 2, 6000.00), ("SELL", 1, 6001.25), ("SELL", 3, 6002.00), ("BUY", 2, 5999.50)]
    try:
        run.wait_synced()
        for cycle in range(20):
            side, qty, price = orders[cycle % len(orders)]
            account = "Sim1" if cycle % 3 else "120005"
            simulator.fill(account, "MESZ25", side, qty, price + cycle * 0.25)

            def drop(cycle: int = cycle, account: str = account) -> None:
                simulator.drop_connections(mid_frame=cycle % 2 == 0)
                if cycle % 5 == 4:  # sometimes a fill lands while it is away
                    simulator.fill(account, "MESZ25", "BUY", 1, 6000.00)

            run.reconnect_after(drop)
        run.reconnect_after(simulator.drop_connections)
        truth = {k: v for k, v in simulator.positions().items() if v[0] != 0}
        run.wait(lambda s: {(p.account, p.symbol): float(p.quantity) for p in (*s.positions, *s.other_open)}
                 == {k: v[0] for k, v in truth.items()})  # fmt: skip
        texts = notifications(run.snap)
        fills_noted = [t for t in texts if " · " in t and t.split(" · ")[1] in
                       ("OPENED", "INCREASED", "DECREASED", "FLIPPED", "CLOSED")]  # fmt: skip
        assert len(fills_noted) == len(simulator.fill_log())  # one per fill, none twice
    finally:
        run.stop()
    with Session(make_engine(settings.data_dir)) as session:
        ids = [f.execution_id for f in session.exec(select(FillRecord)).all()]
    assert sorted(ids) == sorted(f["execution_id"] for f in simulator.fill_log())

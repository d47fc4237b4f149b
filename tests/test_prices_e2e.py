"""Prices end to end over real sockets: DTC market data and security definitions from the simulator, and the
CME case — Sierra Chart rejects the market data request and the study's CSV takes over."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from app_manager import PanelApp, build_app
from core.settings import Settings
from core.snapshots import ConnectionState, PositionView
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Scenario(name="prices", accounts=(AccountSpec("Sim1", 50_000.0),)), autoplay=False)
    server.start()
    yield server
    server.stop()


def start(settings: Settings, port: int, qtbot, **changes: object) -> PanelApp:  # type: ignore[no-untyped-def]
    app = build_app(replace(settings, host="127.0.0.1", port=port, heartbeat_seconds=2, **changes))  # type: ignore[arg-type]
    qtbot.addWidget(app.window)
    app.start()
    qtbot.waitUntil(lambda: app.window.last_snapshot.connection.state == ConnectionState.SYNCED, timeout=10_000)
    return app


def view(app: PanelApp) -> PositionView | None:
    snap = app.window.last_snapshot
    return snap.positions[0] if snap and snap.positions else None


def test_market_data_and_security_definition_drive_open_pnl_and_excursions(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    # a contract the built-in table does not know: its point value comes from Sierra Chart's 507
    simulator.set_instrument("XYZZ25", tick=0.5, tick_value=12.5, description="Test future")
    app = start(settings, simulator.port, qtbot)
    try:
        simulator.fill("Sim1", "XYZZ25", "BUY", 2, 100.0)
        qtbot.waitUntil(lambda: (v := view(app)) is not None and v.point_value == 25, timeout=10_000)
        for price in (99.0, 102.0, 101.5):  # −1, +2, +1.5 points on 2 contracts × $25: −50, +100, +75
            simulator.price("XYZZ25", price)
            qtbot.waitUntil(lambda p=price: (v := view(app)) is not None and v.last_price == D(str(p)), timeout=10_000)
        v = view(app)
        assert v is not None and v.point_value_known and v.last_price_source == "dtc" and not v.last_price_stale
        assert (v.open_pnl, v.mae, v.mfe) == (D("75.0"), D("-50.0"), D("100.0"))
        assert app.window.panel2.card_texts() == ["LONG 2 XYZZ25 · 2 @ 100.00 avg entry · +$75.00"]
    finally:
        app.stop()


def test_cme_market_data_rejected_falls_back_to_the_price_csv(settings, simulator, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    simulator.set_market_data_rejected(["MES"])
    csv = tmp_path / "prices.csv"
    app = start(settings, simulator.port, qtbot, price_csv_path=str(csv), price_csv_symbol="MESZ25")
    try:
        simulator.fill("Sim1", "MESZ25", "SELL", 1, 6000.00)
        qtbot.waitUntil(lambda: view(app) is not None, timeout=10_000)
        qtbot.waitUntil(lambda: "MESZ25" in app.router._feed.rejected, timeout=10_000)  # type: ignore[union-attr]
        assert view(app).last_price is None  # type: ignore[union-attr]
        assert app.window.panel2.card_texts() == ["SHORT 1 MESZ25 · 1 @ 6,000.00 avg entry · —"]
        csv.write_text("last,high,low,vwap,poc,cum_delta\n5998.75,6003,5997,5999.5,6000,-310\n")
        now = time.time()
        os.utime(csv, (now, now))
        qtbot.waitUntil(lambda: (v := view(app)) is not None and v.last_price == D("5998.75"), timeout=3000)
        v = view(app)
        assert v is not None and v.last_price_source == "csv" and v.open_pnl == D("6.25")
        assert v.live_vwap == D("5999.5") and v.live_cum_delta == D(-310)
    finally:
        app.stop()


def price_of(app: PanelApp, symbol: str) -> D | None:
    """The last price the window shows for ``symbol``'s open position (None if none or no price)."""
    snap = app.window.last_snapshot
    views = (snap.positions + snap.other_open) if snap else ()
    return next((v.last_price for v in views if v.symbol == symbol), None)


def test_new_symbol_after_reject_gets_its_own_price(settings, simulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    simulator.set_market_data_rejected(["MES"])
    app = start(settings, simulator.port, qtbot)
    try:
        # one burst: MES and BTCUSD are both asked for before Sierra Chart's reject of MES comes back
        simulator.burst([("Sim1", "MESZ25", "BUY", 1, 6000.0), ("Sim1", "BTCUSD", "BUY", 1, 91_000.0)])
        qtbot.waitUntil(lambda: "MESZ25" in app.router._feed.rejected, timeout=10_000)  # type: ignore[union-attr]
        qtbot.waitUntil(lambda: price_of(app, "BTCUSD") == D(91_000), timeout=10_000)
        simulator.fill("Sim1", "GCZ25", "BUY", 1, 2650.0)  # a new symbol after the reject
        qtbot.waitUntil(lambda: price_of(app, "GCZ25") == D(2650), timeout=10_000)
        assert simulator.price("BTCUSD", 91_500.0) == 1, "BTCUSD's market data was replaced by GC's"
        qtbot.waitUntil(lambda: price_of(app, "BTCUSD") == D(91_500), timeout=10_000)
        assert price_of(app, "GCZ25") == D(2650) and price_of(app, "MESZ25") is None
    finally:
        app.stop()

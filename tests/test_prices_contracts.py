"""Which position a price belongs to: a quote prices the contract it names (root and month), and a price CSV
prices only the symbol it names. Over a real StateManager, SQLite file and window (offscreen)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

from app_manager import PanelApp, build_app
from core import records
from core.prices import Quote
from core.settings import Settings
from data.db import make_engine
from data.repository import PositionStore
from tests.test_panels import FROZEN, Clock, card_fields, clock, fill, make_state, make_window

__all__ = ["clock"]  # the fixture, imported for pytest


def stored_mfe(data_dir: Path) -> dict[str, D]:
    """The MFE of every stored open position by symbol, read back from the database file."""
    return {s.position.symbol: s.position.mfe for s in records.stored_positions(PositionStore(make_engine(data_dir)))}


def test_quote_for_next_contract_month_does_not_move_open_pnl(tmp_path: Path, clock: Clock, qtbot) -> None:  # type: ignore[no-untyped-def]
    state = make_state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(fill(1, "1", "6000.00", FROZEN - timedelta(minutes=1)))  # long 1 MESZ25 @ 6000
    state.on_price(Quote("MESZ25", D("6001.00"), FROZEN - timedelta(seconds=2), "dtc"))
    state.on_price(Quote("MESH26", D("6055.00"), FROZEN - timedelta(seconds=1), "dtc"))  # the March contract
    state.publish()
    state.flush_marks(force=True)

    fields = card_fields(window, "MESZ25")
    assert (fields["open_pnl"], fields["last"]) == ("+$5.00", "6,001.00 · 2 s ago · DTC")
    assert fields["mfe"] == "+$5.00 · +1.00 pt · +4 t"
    assert stored_mfe(tmp_path) == {"MESZ25": D(5)}


def csv_app(settings: Settings, qtbot, csv: Path, symbol: str = "") -> PanelApp:  # type: ignore[no-untyped-def]
    """The panel as ``build_app`` wires it, never connected (no byte can arrive), long MES @ 6000 and CL @ 60."""
    app = build_app(replace(settings, port=1, price_csv_path=str(csv), price_csv_symbol=symbol))
    qtbot.addWidget(app.window)
    app.window.render_gap = 0.0
    app.window.position_gap = 0.0
    app.state.apply_fill(fill(1, "1", "6000.00", FROZEN, symbol="MESZ25"))
    app.state.apply_fill(fill(2, "1", "60.00", FROZEN, symbol="CLZ25"))
    return app


def read_csv(app: PanelApp) -> None:
    """One look at the CSV (the source's thread does this every 200 ms), then what the window shows."""
    assert app.csv_source is not None
    app.csv_source.poll_once()
    app.state.flush_marks(force=True)
    app.state.publish()


def test_csv_without_symbol_prices_nothing_and_says_so(settings: Settings, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "prices.csv"
    csv.write_text("last,high,low,vwap,poc,cum_delta\n6001.00,6010,5990,6000.5,6001,-420\n")
    app = csv_app(settings, qtbot, csv)
    try:
        read_csv(app)
        assert card_fields(app.window, "MESZ25")["open_pnl"] == "—"
        assert card_fields(app.window, "CLZ25")["open_pnl"] == "—"
        assert stored_mfe(settings.data_dir) == {"MESZ25": D(0), "CLZ25": D(0)}
        warnings = [line for line in app.window.feed.lines() if "prices.csv" in line]
        assert len(warnings) == 1
        assert "names no symbol" in warnings[0] and "not used" in warnings[0]
        read_csv(app)  # the study rewrites the file: said once, not on every read
        csv.write_text("last\n6002.00\n")
        read_csv(app)
        assert [line for line in app.window.feed.lines() if "prices.csv" in line] == warnings
    finally:
        app.stop()


def test_csv_prices_only_the_symbol_it_names(settings: Settings, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "prices.csv"
    csv.write_text("6001.00,6010,5990,6000.5,6001,-420\n")  # no symbol column: the symbol from the settings
    app = csv_app(settings, qtbot, csv, symbol="MESZ25")
    try:
        read_csv(app)
        assert card_fields(app.window, "MESZ25")["open_pnl"] == "+$5.00"
        assert card_fields(app.window, "CLZ25")["open_pnl"] == "—"
        csv.write_text("symbol,last\nCLZ25,60.25\n")  # a symbol column names the row's contract
        read_csv(app)
        assert card_fields(app.window, "CLZ25")["open_pnl"] == "+$250.00"
        assert stored_mfe(settings.data_dir) == {"MESZ25": D(5), "CLZ25": D(250)}
        assert not [line for line in app.window.feed.lines() if "prices.csv" in line]
    finally:
        app.stop()

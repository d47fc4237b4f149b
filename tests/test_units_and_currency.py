"""Issue 11, items 3, 11 and 12: MAE/MFE say which definition they use; a contract in another currency, or
with an unknown point value, is shown in its own unit and never summed with the account's dollars; ticks beside
points and money, with a switch for which comes first. Real StateManager, SQLite file and window offscreen."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from PySide6.QtCore import Qt

from core.accounting import Fill
from core.instruments import InstrumentBook
from core.market_data import SecurityDefinitions
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import PriceBook, Quote
from core.state import StateManager
from core.tradingday import Period, period_start
from data.db import make_engine
from data.repository import PositionStore
from dtc.messages import DTCMessage, SecurityDefinitionResponse
from panels.trades_csv import CSV_HEADER
from tests.test_panels import Clock, make_window


def _now() -> datetime:
    now = datetime.now(UTC).replace(microsecond=0)
    start = period_start(Period.TODAY, now)
    assert start is not None
    return max(now - timedelta(minutes=10), start + timedelta(seconds=1))


def _state(data_dir: Path, clock: Clock) -> tuple[StateManager, InstrumentBook]:
    instruments = InstrumentBook()
    state = StateManager(
        PositionStore(make_engine(data_dir)),
        instruments,
        ModeClassifier(),
        prices=PriceBook(clock=clock.epoch),
        orders=OrderBook(),
    )
    return state, instruments


def _define_from_sierra_chart(
    instruments: InstrumentBook, symbol: str, tick: float, tick_value: float, cur: str
) -> None:
    """What a SECURITY_DEFINITION_RESPONSE (507) registers, through the real handler."""
    sent: list[DTCMessage] = []
    definitions = SecurityDefinitions(sent.append, instruments.define)
    definitions.on_logon(True)
    definitions.ensure([symbol])
    (request,) = sent
    definitions.handle(
        SecurityDefinitionResponse(
            RequestID=request.RequestID,  # type: ignore[attr-defined]
            Symbol=symbol,
            MinPriceIncrement=tick,
            CurrencyValuePerIncrement=tick_value,
            Currency=cur,
            IsFinalMessage=1,
        )
    )


def _fill(n: int, symbol: str, qty: str, price: str, at: datetime) -> Fill:
    return Fill(f"E{n}", "Sim1", symbol, D(qty), D(price), at)


def _quote(symbol: str, price: str, clock: Clock) -> Quote:
    return Quote(symbol, D(price), clock.now, "dtc")


def test_contract_in_another_currency_is_shown_in_it_and_left_out_of_the_dollar_totals(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state, instruments = _state(tmp_path, clock)
    _define_from_sierra_chart(instruments, "FDAXZ25", 1.0, 25.0, "EUR")
    state.on_balance("Sim1", D(50_000), "USD", None, None, False)
    window = make_window(state, clock, qtbot)
    state.apply_fill(_fill(1, "FDAXZ25", "1", "20000", t0))
    state.apply_fill(_fill(2, "MESZ25", "1", "6000", t0))
    state.on_price(_quote("FDAXZ25", "20010", clock))
    state.on_price(_quote("MESZ25", "6002", clock))
    state.publish(force=True)
    card = window.panel2._cards["FDAXZ25"]
    qtbot.waitUntil(lambda: card.open_pnl.text() == "+250.00 EUR", timeout=3000)
    assert "P&L in EUR" in card.note.text()
    panel = window.panel3
    assert panel.open_pnl.text() == "+$10.00"  # MES only: 250 EUR are not 250 dollars
    assert "FDAXZ25 (EUR)" in panel.unit_note.text()
    state.apply_fill(_fill(3, "FDAXZ25", "-1", "20010", t0 + timedelta(seconds=5)))
    state.publish(force=True)
    qtbot.waitUntil(lambda: panel.trades.text() == "1", timeout=3000)
    assert panel.realized.text() == "$0.00"  # the EUR trade is not in today's dollars
    assert panel.stats["trades"].text() == "0"
    assert "1 closed trade in points or another currency" in panel.unit_note.text()
    assert panel.model.index(0, 7).data() == "+250.00 EUR"


def test_unknown_point_value_shows_points_and_is_never_summed_with_dollars(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state, _ = _state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(_fill(1, "XYZ", "2", "100", t0))
    state.apply_fill(_fill(2, "MESZ25", "1", "6000", t0))
    state.on_price(_quote("XYZ", "101", clock))
    state.on_price(_quote("MESZ25", "6001", clock))
    state.publish(force=True)
    card = window.panel2._cards["XYZ"]
    qtbot.waitUntil(lambda: card.open_pnl.text() == "+2.00 pt·ct", timeout=3000)
    assert "Point value of XYZ unknown" in card.note.text()
    assert window.panel3.open_pnl.text() == "+$5.00"
    state.apply_fill(_fill(3, "XYZ", "-2", "103", t0 + timedelta(seconds=5)))
    state.apply_fill(_fill(4, "MESZ25", "-1", "6002", t0 + timedelta(seconds=6)))
    state.publish(force=True)
    panel = window.panel3
    qtbot.waitUntil(lambda: panel.trades.text() == "2", timeout=3000)
    assert panel.realized.text() == "+$10.00"  # MES's 2 points × $5; XYZ's 6 pt·ct are not dollars
    assert panel.stats["net_pnl"].text() == "+$10.00"
    assert sorted(panel.model.index(r, 7).data() for r in range(2)) == ["+$10.00", "+6.00 pt·ct"]


def test_mae_mfe_say_which_definition_in_the_header_tooltip_and_the_csv(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state, _ = _state(tmp_path, clock)
    window = make_window(state, clock, qtbot)
    state.apply_fill(_fill(1, "MESZ25", "2", "6000", t0))
    state.on_price(_quote("MESZ25", "6010", clock))
    state.apply_fill(_fill(2, "MESZ25", "-1", "6010", t0 + timedelta(seconds=5)))
    state.apply_fill(_fill(3, "MESZ25", "-1", "5998", t0 + timedelta(seconds=9)))
    state.publish(force=True)
    model = window.panel3.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=3000)
    for column, word in ((8, "lowest"), (9, "highest")):
        tip = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        assert f"trade's {word} P&L while open" in tip and "realized so far by partial exits" in tip
    # MFE: 2 × 10 × $5 = $100, +10 points = +40 ticks; MAE: 0
    assert model.index(0, 9).data() == "+$100.00"
    assert model.index(0, 9).data(Qt.ItemDataRole.ToolTipRole) == "+$100.00 · +10.00 pt · +40 t"
    window.set_primary_unit("t")
    # MAE: the last contract went out 2 points under the entry (−8 t) while the trade's P&L never went below 0
    assert (model.index(0, 9).data(), model.index(0, 8).data()) == ("+40 t", "-8 t")
    assert model.index(0, 8).data(Qt.ItemDataRole.ToolTipRole) == "-8 t · $0.00 · -2.00 pt"
    target = tmp_path / "trades.csv"
    window.panel3.export_to(target)
    with target.open(encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert "mfe_trade_pnl" in CSV_HEADER and "mfe_points" in CSV_HEADER
    assert (D(row["mfe_trade_pnl"]), D(row["mfe_points"]), row["pnl_unit"]) == (D(100), D(10), "")


def test_ticks_first_switch_reorders_every_pnl_and_excursion_and_is_remembered(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    t0 = _now()
    clock = Clock(t0 + timedelta(seconds=30))
    state, _ = _state(tmp_path, clock)
    window = make_window(state, clock, qtbot, ui_state_path=tmp_path / "ui.json")
    state.apply_fill(_fill(1, "MESZ25", "1", "6000", t0))
    state.on_price(_quote("MESZ25", "5997.75", clock))
    state.publish(force=True)
    card = window.panel2._cards["MESZ25"]
    qtbot.waitUntil(lambda: card.open_pnl.text() == "-$11.25", timeout=3000)
    assert card.open_points.text() == "-2.25 pt · -9 t per contract"
    window.shortcut_actions["next_unit"].trigger()  # Ctrl+U: points first
    assert (card.open_pnl.text(), card.open_points.text()) == ("-2.25 pt", "-$11.25 · -9 t")
    window.shortcut_actions["next_unit"].trigger()  # ticks first
    assert (card.open_pnl.text(), card.open_points.text()) == ("-9 t", "-$11.25 · -2.25 pt")
    assert card.mae.text() == "-9 t · -$11.25 · -2.25 pt"
    assert window.unit_picker.currentText() == "ticks first"
    window.close()
    again = make_window(state, clock, qtbot, ui_state_path=tmp_path / "ui.json")
    card = again.panel2._cards["MESZ25"]
    assert card.open_pnl.text() == "-9 t"  # remembered between runs

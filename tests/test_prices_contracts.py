"""Which position a price belongs to: a quote prices the contract it names (root and month), and a price CSV
prices only the symbol it names. Over a real StateManager, SQLite file and window (offscreen)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

from core import records
from core.prices import Quote
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
    assert fields["mfe"] == "+$5.00 · +1.00 pt"
    assert stored_mfe(tmp_path) == {"MESZ25": D(5)}

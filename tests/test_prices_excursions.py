"""Live prices (CSV written by another process, staleness) and MAE/MFE that survive a restart."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from core.accounting import Fill
from core.csv_prices import CsvFormatError, CsvPriceSource, parse_prices
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.prices import PriceBook, Quote
from core.settings import Settings
from core.state import StateManager
from data.db import make_engine
from data.repository import PositionStore

T0 = datetime(2025, 11, 20, 14, 30, tzinfo=UTC)


def quote(price: str, seconds: float = 0, source: str = "dtc", symbol: str = "MESZ25") -> Quote:
    return Quote(symbol, D(price), datetime.now(UTC) + timedelta(seconds=seconds), source)


def new_state(settings: Settings) -> tuple[StateManager, PositionStore]:
    store = PositionStore(make_engine(settings.data_dir))
    state = StateManager(store, InstrumentBook(), ModeClassifier(), prices=PriceBook())
    state.recover()
    return state, store


def test_mae_mfe_survive_a_restart_in_the_middle_of_the_trade(settings: Settings) -> None:
    state, store = new_state(settings)
    state.apply_fill(Fill("E1", "Sim1", "MESZ25", D(2), D("6000.00"), T0), publish=False)
    for i, price in enumerate(["5998.00", "6004.50", "6001.00"]):  # −20, +45, +10 on 2 × $5
        state.on_price(quote(price, i))
    state.flush_marks(force=True)
    view = state.snapshot().positions[0]
    assert (view.mae, view.mfe, view.open_pnl) == (D(-20), D(45), D(10))
    assert (view.mae_points, view.mfe_points) == (D(-2), D("4.5"))

    restarted, store = new_state(settings)  # crash/restart: extremes come back from the database
    view = restarted.snapshot().positions[0]
    assert (view.mae, view.mfe) == (D(-20), D(45))
    restarted.on_price(quote("5996.00", 5))  # new low after the restart: −40
    restarted.apply_fill(Fill("E2", "Sim1", "MESZ25", D(-2), D("6002.00"), T0 + timedelta(minutes=5)))
    (trade,) = store.trades("SIM", "Sim1")
    assert (trade.mae, trade.mfe, trade.realized_pnl) == (D(-40), D(45), D(20))
    assert (trade.trade_min_price, trade.trade_max_price) == (D("5996.00"), D("6004.50"))
    # range 85: entry 45/85, exit (20 + 40)/85, total 20/85
    assert trade.entry_efficiency == D(45) / D(85)
    assert trade.exit_efficiency == D(60) / D(85)
    assert trade.total_efficiency == D(20) / D(85)


def test_price_sources_prefer_fresh_dtc_then_csv_and_mark_stale() -> None:
    book = PriceBook(stale_after={"dtc": 10, "csv": 5})
    book.update(quote("6000.25", -30, "dtc"))  # 30 s old: stale
    book.update(quote("6000.50", -1, "csv"))
    best = book.best("F.US.MESZ25")  # symbol forms normalise to the MES root
    assert best is not None and best[0].source == "csv" and best[1] is False
    book.update(quote("6000.75", 0, "dtc"))
    best = book.best("MESZ25-CME")
    assert best is not None and (best[0].price, best[1]) == (D("6000.75"), False)
    old = PriceBook(stale_after={"csv": 5})
    old.update(quote("6001.00", -6, "csv"))
    assert old.best("MESZ25") == (old.best("MESZ25")[0], True)  # type: ignore[index]


def test_csv_formats() -> None:
    rows = parse_prices("last,high,low,vwap,poc,cum_delta\n6001.25,6010,5990.5,6000.75,6001,-1250\n")
    assert rows == [
        {"symbol": "", "last": D("6001.25"), "high": D(6010), "low": D("5990.5"), "vwap": D("6000.75"),
         "poc": D(6001), "cum_delta": D(-1250)}
    ]  # fmt: skip
    assert parse_prices("6001.25,6010,5990.5,,,\n", "MESZ25")[0]["symbol"] == "MESZ25"
    multi = parse_prices("symbol,last\nMESZ25,6001.25\nMNQZ25,21000.5\n")
    assert [(r["symbol"], r["last"]) for r in multi] == [("MESZ25", D("6001.25")), ("MNQZ25", D("21000.5"))]
    with pytest.raises(CsvFormatError):
        parse_prices("last\nabc\n")


WRITER = """
import os, sys, time
path, price = sys.argv[1], sys.argv[2]
tmp = path + ".tmp"
with open(tmp, "w") as f:
    f.write(f"{price},6010,5990,6000.5,6001,-420\\n")
os.replace(tmp, path)
"""


def test_csv_rewritten_by_another_process_is_seen_within_a_second_then_goes_stale(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    book = PriceBook(stale_after={"csv": 1.5})
    received: list[Quote] = []

    def on_quote(q: Quote) -> None:
        received.append(q)
        book.update(q)

    source = CsvPriceSource(path, on_quote, symbol="MESZ25", poll_seconds=0.1)
    source.start()
    try:
        for price in ("6001.25", "6002.50"):
            started = time.monotonic()
            subprocess.run([sys.executable, "-c", WRITER, str(path), price], check=True)
            while time.monotonic() - started < 1.0 and (not received or received[-1].price != D(price)):
                time.sleep(0.02)
            assert received and received[-1].price == D(price), f"{price} not seen within 1 s"
            assert received[-1].vwap == D("6000.5") and received[-1].cum_delta == D(-420)
            time.sleep(0.05)
        best = book.best("MESZ25")  # a CSV without symbol column prices the symbol of the settings
        assert best is not None and best[1] is False
        time.sleep(1.7)  # the file stops changing
        best = book.best("MESZ25")
        assert best is not None and best[0].price == D("6002.50") and best[1] is True
    finally:
        source.stop()

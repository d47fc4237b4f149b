"""Closing the panel while the statistics of a long period are being read (seen once in CI: the database's WAL
was left behind after a SIGINT right after logon). The loader's end starts a publication on a thread of its
own when no DTC thread runs; ``close`` must wait for it, or it reads the database while it is being closed
and leaves a connection — and the WAL — open. Real SQLite file, real loader thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from benchmarks.dbgen import ACCOUNT, MODE, generate
from core.instruments import InstrumentBook
from core.modes import ModeClassifier
from core.orders import OrderBook
from core.prices import PriceBook
from core.state import StateManager
from core.tradingday import Period
from data.db import database_path, make_engine
from data.repository import PositionStore


def _publications_running() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "statistics-publish" and t.is_alive()]


def test_closing_while_a_long_period_loads_leaves_the_database_closed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    generate(data_dir, 3000, summaries=False)  # no day summaries: "All" reads every trade
    for attempt in range(3):
        engine = make_engine(data_dir)
        state = StateManager(PositionStore(engine), InstrumentBook(), ModeClassifier(), prices=PriceBook(),
                             orders=OrderBook())  # fmt: skip
        state.background_statistics(True)  # as the app: a period's history loads on a thread of its own
        state.set_scope(MODE, ACCOUNT)
        state.publish(force=True)
        # a listener that takes its time (the local API's hand-over, a busy machine): the publication is
        # still running when the loader has finished
        state.publisher.subscribe(lambda update: time.sleep(0.2) if update.snapshot is not None else None)
        state.set_period(Period.ALL)  # not connected: the loader thread reads the period, then publishes
        state.close()
        assert _publications_running() == [], f"attempt {attempt}: a publication still runs after close"
        engine.dispose()
        wal = Path(f"{database_path(data_dir)}-wal")
        assert not wal.exists(), f"attempt {attempt}: the database was left open (its WAL remains)"

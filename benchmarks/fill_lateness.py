"""GUI event-loop lateness while fills arrive (issue 10): p99 (ms) of a 10 ms timer on the GUI thread.

The database starts with ``PRELOADED`` closed trades of today (``Sim1`` MESZ25, bulk-inserted like
``benchmarks/dbgen.py``: each trade with its two fills and two position events), so every trade that closes
refreshes a day of statistics and a table of 1,000 rows. The real app (``build_app`` + ``start()``, window shown
offscreen, synced, its equity chart drawn — pyqtgraph loads in the background after start) then receives ``RATE``
fills per second for ``seconds`` from the DTC simulator — each one order of one lot, alternately BUY and SELL (a
trade closes every second fill), sent with its 301, 306 and 600 — while a 10 ms precise ``QTimer`` on the GUI thread
notes how late each tick fires (as ``benchmarks/gui_lateness.py`` does). Afterwards every fill is checked to be
stored exactly once and the window to show FLAT with the final number of trades today.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.burst import store_check
from benchmarks.common import Figure, percentile
from benchmarks.realapp import (
    LatenessProbe,
    RunningApp,
    Stored,
    StoreWatcher,
    charts_loaded,
    count_labels,
    pump,
    simulator,
    stored,
    trading_day_start,
    wait_until,
)

ACCOUNT, MODE, SYMBOL = "Sim1", "SIM", "MESZ25"
PRELOADED = 1000
RATE = 50
TARGET_MS = 20.0
POINT_VALUE = Decimal(5)
COMMISSION = Decimal("0.62")


def preload_today(data_dir: Path, trades: int, seed: int = 7) -> None:
    """``<data_dir>/dtc-panel.db`` (migrated) with ``trades`` closed one-to-three-lot trades of ``Sim1`` MESZ25,
    all inside today's trading day of ``realapp.bench_settings`` (exits spread up to a minute ago)."""
    from sqlalchemy import insert

    from data.db import make_engine
    from data.models import FillRecord, PositionEvent, TradeRecord

    rng = random.Random(seed)
    engine = make_engine(data_dir)
    first = trading_day_start() + timedelta(minutes=10)
    span = (datetime.now(UTC) - timedelta(minutes=1) - first).total_seconds()
    trade_rows: list[dict[str, Any]] = []
    fill_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for i in range(trades):
        exit_time = (first + timedelta(seconds=span * (i + 1) / trades)).replace(microsecond=0)
        entry_time = exit_time - timedelta(seconds=rng.randint(5, 300))
        side = rng.choice((1, -1))
        qty = Decimal(rng.randint(1, 3))
        entry = Decimal(6000) + Decimal("0.25") * rng.randint(-200, 200)
        exit_ = entry + Decimal("0.25") * rng.randint(-12, 12)
        gross = (exit_ - entry) * qty * POINT_VALUE * side
        low, high = min(entry, exit_) - Decimal("0.25") * rng.randint(0, 6), max(entry, exit_) + Decimal("0.25")
        mae = min(Decimal(0), ((low if side > 0 else high) - entry) * qty * POINT_VALUE * side)
        mfe = max(Decimal(0), ((high if side > 0 else low) - entry) * qty * POINT_VALUE * side)
        trade_rows.append(
            {
                "mode": MODE, "account": ACCOUNT, "symbol": SYMBOL, "side": "LONG" if side > 0 else "SHORT",
                "qty": qty, "max_qty": qty, "entry_price": entry, "exit_price": exit_, "entry_time": entry_time,
                "exit_time": exit_time, "gross_pnl": gross, "commissions": COMMISSION * qty * 2,
                "realized_pnl": gross - COMMISSION * qty * 2, "point_value": POINT_VALUE, "trade_min_price": low,
                "trade_max_price": high, "mae": mae, "mfe": mfe, "exit_reason": "fill",
                "total_efficiency": gross / (mfe - mae) if mfe != mae else None, "created_at": exit_time,
            }
        )  # fmt: skip
        for n, (when, signed, price) in enumerate(((entry_time, qty * side, entry), (exit_time, -qty * side, exit_))):
            fill_rows.append(
                {
                    "mode": MODE, "account": ACCOUNT, "symbol": SYMBOL, "execution_id": f"TODAY-{i}-{n}",
                    "server_order_id": f"TODAY-O-{i}-{n}", "quantity": signed, "price": price,
                    "commission": COMMISSION * qty, "time": when, "source": "301", "received_at": when,
                }
            )  # fmt: skip
            event_rows.append(
                {
                    "at": when, "mode": MODE, "account": ACCOUNT, "symbol": SYMBOL,
                    "kind": "opened" if n == 0 else "closed", "quantity_before": Decimal(0) if n == 0 else -signed,
                    "quantity_after": signed if n == 0 else Decimal(0), "avg_entry_after": entry if n == 0 else None,
                    "realized": Decimal(0) if n == 0 else gross, "reason": "fill", "source": f"301:TODAY-{i}-{n}",
                }
            )  # fmt: skip
    with engine.begin() as conn:
        for table, rows in ((TradeRecord, trade_rows), (FillRecord, fill_rows), (PositionEvent, event_rows)):
            conn.execute(insert(table.__table__), rows)  # type: ignore[attr-defined]
    engine.dispose()


def measure_fill_lateness(seconds: float, rate: int = RATE, preloaded: int = PRELOADED) -> list[Figure]:
    name = f"GUI lateness p99, {rate} fills/s, {preloaded:,} trades today"
    count = int(seconds * rate) // 2 * 2
    data_dir = Path(tempfile.mkdtemp(prefix="dtc-bench-filllate-"))
    sim = simulator([ACCOUNT])
    late: list[float] = []
    try:
        preload_today(data_dir, preloaded)
        with RunningApp(sim, data_dir) as run:
            if not run.start():
                raise RuntimeError(f"the app did not sync: {run.screen().connection!r}")
            charts_loaded(run.window)
            wait_until(lambda: False, 1.0)  # startup work settles
            shown_before = run.screen().trades_today

            fills = [
                (ACCOUNT, SYMBOL, "BUY" if i % 2 == 0 else "SELL", 1.0, 6000.0 + 0.25 * (i // 2 % 9) + 0.5 * (i % 2))
                for i in range(count)
            ]
            probe = LatenessProbe()
            probe.start()
            began = time.perf_counter()
            sim.pace(fills, rate, cash_per_fill=-0.62)  # the simulator process keeps the pace, whatever the app does
            pump(count / rate)
            wait_until(lambda: sim.paced() is not None, 60.0, poll_s=0.05)
            elapsed = time.perf_counter() - began
            probe.stop()
            late = probe.samples
            paced = sim.paced()
            if paced is None:
                raise RuntimeError("the simulator did not finish sending the fills")
            sent_ids = paced.execution_ids
            watcher = StoreWatcher(run.db, preloaded * 2 + count, 60.0)
            watcher.start()
            watcher.join(61.0)
            final_trades = preloaded + count // 2
            shown = wait_until(lambda: run.screen().shows((), final_trades), 60.0, painted=count_labels(run.window))
            final = stored(run.db, sent_ids)
            screen = run.screen()
    finally:
        sim.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    new = Stored(final.fills - preloaded * 2, final.distinct - preloaded * 2, final.missing, final.trades - preloaded)
    check = store_check(new, count, count // 2, watcher.reached_at is not None)
    screen_text = (
        f"FLAT and {final_trades:,} trades today shown"
        if shown is not None
        else f"screen shows {screen.trades_today} trades today, {list(screen.positions) or 'FLAT'}"
    )
    note = (
        f"p50 {percentile(late, 0.5):.1f} ms, max {max(late, default=0.0):.0f} ms, {len(late):,} ticks fired "
        f"of ~{elapsed * 1000 / LatenessProbe.TICK_MS:,.0f} in {elapsed:.1f} s; "
        f"{len(sent_ids):,} fills sent in {paced.last_sent - paced.first_sent:.1f} s; "
        f"trades today before {shown_before}; {screen_text}; {check}"
    )
    return [Figure(name, percentile(late, 0.99) if late else None, "ms", TARGET_MS, False, note)]


def main() -> None:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for figure in measure_fill_lateness(10.0):
        print(figure.line(), flush=True)


if __name__ == "__main__":
    main()

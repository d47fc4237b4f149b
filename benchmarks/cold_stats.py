"""Cold "All" statistics (issue 10): from clicking the period button "All" to the statistics showing every
trade, with a database of N closed trades; and how long fills wait meanwhile.

The database is ``benchmarks/dbgen.py``'s (N closed trades of ``Sim1`` over a year, LONG 1 open, its per-day
trade summaries stored as the app leaves them after showing a long period); the DTC
simulator reports that same position. The real app (``build_app`` + ``start()``, window shown offscreen,
synced, on its default period) is left to settle — Sierra Chart's trade list asked for and compared (issue 15;
figures of their own: the whole year at the first logon, only what is newer at the next) — then the trader
clicks the "All" period button
(``QToolButton`` "period_all"); the clock stops when the "Trades" statistic shows N and the caption says
"all time" (checked every 5 ms and before each paint of the count labels). Two runs on the same database:

1. *cold All*: nothing else happens meanwhile — the figure with the target; the note gives the GUI event
   loop's worst lateness (10 ms timer) during the load;
2. *fill → stored while it loads*: a fresh app (restarted, so the load is cold again); from 50 ms after the
   click until the statistics show, a probe thread sends one-lot BUY fills of another symbol (no trade
   closes, so the count stays N), each ``PROBE_PAUSE_S`` after the previous one was stored, timed from the
   simulator's write to the row in ``fillrecord``. The worst is how long the DTC side was held up.
3. *the first time*: the day summaries deleted first, as on the first start after upgrading: the load folds
   every trade once and stores them.
Each run is capped at ``CAP_S``.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.common import Figure
from benchmarks.realapp import (
    LatenessProbe,
    RunningApp,
    Screen,
    bench_settings,
    charts_loaded,
    count_labels,
    period_button,
    read_only,
    simulator,
    wait_until,
)

if TYPE_CHECKING:
    from benchmarks.simproc import SimProcess

ACCOUNT = "Sim1"
PROBE_SYMBOL = "MNQZ25"
CAP_S = 120.0
PROBE_PAUSE_S = 0.25
"""Between a probe fill being stored and the next one being sent (s): few enough not to slow the load."""
TARGET_S = 0.5


class FillProbe(threading.Thread):
    """Sends BUY 1 fills one after another until cancelled; each fill's seconds from write to stored."""

    def __init__(self, sim: SimProcess, db: Path, timeout_s: float) -> None:
        super().__init__(name="bench-fill-probe", daemon=True)
        self.sim, self.db, self.timeout_s = sim, db, timeout_s
        self.latencies: list[float] = []
        self.unstored = 0
        self._cancelled = threading.Event()

    def run(self) -> None:
        deadline = time.perf_counter() + self.timeout_s
        self._cancelled.wait(0.05)  # the load has begun
        with read_only(self.db) as conn:
            while not self._cancelled.is_set() and time.perf_counter() < deadline:
                sent = self.sim.burst([(ACCOUNT, PROBE_SYMBOL, "BUY", 1.0, 21000.0)])
                (execution_id,) = sent.execution_ids
                while time.perf_counter() < deadline:
                    row = conn.execute("SELECT 1 FROM fillrecord WHERE execution_id = ?", (execution_id,)).fetchone()
                    if row:
                        self.latencies.append(time.perf_counter() - sent.sent_at)
                        break
                    time.sleep(0.002)
                else:
                    self.unstored += 1
                self._cancelled.wait(PROBE_PAUSE_S)

    def cancel(self) -> None:
        self._cancelled.set()


@dataclass
class _Comparison:
    """Sierra Chart's trade list after the logon: seconds from SYNCED until compared and stored (None: not in
    time), and the GUI's worst lateness meanwhile (ms)."""

    seconds: float | None
    gui_worst_ms: float


@dataclass
class _Load:
    seconds: float | None
    gui_worst_ms: float
    before: Screen
    after: Screen
    probe: FillProbe | None
    comparison: _Comparison


def _click_all(sim: SimProcess, data_dir: Path, trades: int, cap_s: float, with_probe: bool) -> _Load:
    # the window remembers the chosen period (app_manager: <config_dir>/ui_state.json): start on the default
    (bench_settings(data_dir, sim.port).config_dir / "ui_state.json").unlink(missing_ok=True)
    with RunningApp(sim, data_dir) as run:
        if not run.start():
            raise RuntimeError(f"the app did not sync: {run.screen().connection!r}")
        # after each logon Sierra Chart's trade list is asked for and compared on a worker thread (issue 15)
        synced, gui = time.perf_counter(), LatenessProbe()
        gui.start()
        compared = wait_until(lambda: run.window.sierra_differences.view.available is not None, cap_s)
        gui.stop()
        comparison = _Comparison(None if compared is None else compared - synced, max(gui.samples, default=0.0))
        charts_loaded(run.window)
        wait_until(lambda: False, 1.0)  # the rest of the startup work settles
        before = run.screen()
        if "all time" in before.period_caption:
            raise RuntimeError("the window already shows period All")
        button = period_button(run.window, "all")
        if button is None:
            raise RuntimeError("no period button 'period_all'")
        probe = FillProbe(sim, run.db, cap_s) if with_probe else None
        gui = LatenessProbe()
        gui.start()
        began = time.perf_counter()
        button.click()
        if probe is not None:
            probe.start()

        def shown() -> bool:
            screen = run.screen()
            return screen.period_trades == trades and "all time" in screen.period_caption

        at = wait_until(shown, cap_s, painted=count_labels(run.window))
        gui.stop()
        if probe is not None:
            probe.cancel()
            probe.join(cap_s + 5.0)
        after = run.screen()
    return _Load(None if at is None else at - began, max(gui.samples, default=0.0), before, after, probe, comparison)


def _drop_summaries(data_dir: Path) -> None:
    import sqlite3

    from data.db import database_path

    with sqlite3.connect(database_path(data_dir)) as conn:
        conn.execute("DELETE FROM tradedaysummary")
        conn.execute("DELETE FROM tradesummarymark")


def measure_cold_stats(trades: int, cap_s: float = CAP_S) -> list[Figure]:
    from benchmarks.dbgen import generate

    data_dir = Path(tempfile.mkdtemp(prefix="dtc-bench-coldstats-"))
    sim = simulator([ACCOUNT])
    try:
        open_symbol = generate(data_dir, trades)
        sim.set_position(ACCOUNT, open_symbol, 1.0, 6012.25, notify=False)
        clean = _click_all(sim, data_dir, trades, cap_s, with_probe=False)
        probed = _click_all(sim, data_dir, trades, cap_s, with_probe=True)
        _drop_summaries(data_dir)  # as on the first start after upgrading: every day is folded once
        first = _click_all(sim, data_dir, trades, cap_s, with_probe=False)
    finally:
        sim.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    note = f"GUI worst lateness {clean.gui_worst_ms:,.0f} ms; default period showed {clean.before.period_trades} trades"
    if clean.seconds is None:
        after = clean.after
        note = f"NOT SHOWN after {cap_s:.0f} s: Trades {after.period_trades}, caption {after.period_caption!r}; {note}"
    probe = probed.probe
    assert probe is not None
    worst = max(probe.latencies, default=None)
    probe_note = f"{len(probe.latencies)} probe fill(s) over the load" if worst is not None else "no probe fill stored"
    if probe.unstored:
        probe_note += f", {probe.unstored} NOT STORED"
    shown = probed.seconds
    probe_note += f"; All shown after {shown:.2f} s" if shown is not None else f"; All NOT SHOWN in {cap_s:.0f} s"
    probe_note += f", GUI worst lateness {probed.gui_worst_ms:,.0f} ms"
    first_note = f"no day summaries stored yet (they are built now); GUI worst lateness {first.gui_worst_ms:,.0f} ms"
    def compared(load: _Load, what: str) -> Figure:
        c = load.comparison
        detail = f"{what}; GUI worst lateness {c.gui_worst_ms:,.0f} ms meanwhile"
        return Figure("  … Sierra Chart's trade list compared after logon", c.seconds, "s", None, False, detail)

    return [
        Figure(f"cold All statistics ({trades:,} trades): click → shown", clean.seconds, "s", TARGET_S, False, note),
        compared(clean, "first logon: the whole year asked for and compared, before the click"),
        compared(probed, "next logon: only what is newer than the first"),
        Figure("  … the first time (after upgrading to 0006)", first.seconds, "s", None, False, first_note),
        Figure(
            "  … fill → stored while All loads (worst)",
            None if worst is None else worst * 1000,
            "ms",
            None,
            False,
            probe_note,
        ),
    ]


def main() -> None:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for figure in measure_cold_stats(100_000):
        print(figure.line(), flush=True)


if __name__ == "__main__":
    main()

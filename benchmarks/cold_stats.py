"""Cold "All" statistics (issue 10): from clicking the period button "All" to the statistics showing every
trade, with a database of N closed trades; and how long fills wait meanwhile.

The database is ``benchmarks/dbgen.py``'s (N closed trades of ``Sim1`` over a year, LONG 1 open); the DTC
simulator reports that same position. The real app (``build_app`` + ``start()``, window shown offscreen,
synced, on its default period) is left to settle, then the trader clicks the "All" period button
(``QToolButton`` "period_all"). Measured:

- *cold All*: click → the "Trades" statistic shows N and the caption says "all time" (polled every 5 ms on
  the GUI thread);
- *fill → stored during the load*: from the click until the statistics show, a probe thread sends one-lot
  BUY fills of another symbol (no trade closes, so the count stays N), the first 50 ms after the click, each
  next one 0.25 s after the previous one was stored, and times each from the simulator's write to its row
  in ``fillrecord``; the worst is how long the DTC side was held up;
- the GUI event loop's worst lateness (10 ms timer) over the same time.
Capped at ``CAP_S``.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import Figure
from benchmarks.realapp import LatenessProbe, RunningApp, period_button, read_only, simulator, wait_until

ACCOUNT = "Sim1"
PROBE_SYMBOL = "MNQZ25"
CAP_S = 120.0
PROBE_PAUSE_S = 0.25
"""Between a probe fill being stored and the next one being sent (s): few enough not to slow the load."""
TARGET_S = 0.5


class FillProbe(threading.Thread):
    """Sends BUY 1 fills one after another until cancelled; each fill's seconds from write to stored."""

    def __init__(self, sim: object, db: Path, timeout_s: float) -> None:
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
                sent = self.sim.burst([(ACCOUNT, PROBE_SYMBOL, "BUY", 1.0, 21000.0)])  # type: ignore[attr-defined]
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


def measure_cold_stats(trades: int, cap_s: float = CAP_S) -> list[Figure]:
    from benchmarks.dbgen import generate

    name = f"cold All statistics ({trades:,} trades): click → shown"
    data_dir = Path(tempfile.mkdtemp(prefix="dtc-bench-coldstats-"))
    sim = simulator([ACCOUNT])
    try:
        open_symbol = generate(data_dir, trades)
        sim.set_position(ACCOUNT, open_symbol, 1.0, 6012.25, notify=False)
        with RunningApp(sim, data_dir) as run:
            if not run.start():
                raise RuntimeError(f"the app did not sync: {run.screen().connection!r}")
            wait_until(lambda: False, 2.0)  # startup work settles
            before = run.screen()
            if "all time" in before.period_caption:
                raise RuntimeError("the window already shows period All")
            button = period_button(run.window, "all")
            if button is None:
                raise RuntimeError("no period button 'period_all'")
            probe = FillProbe(sim, run.db, cap_s)
            gui = LatenessProbe()
            gui.start()
            began = time.perf_counter()
            button.click()
            probe.start()

            def shown() -> bool:
                screen = run.screen()
                return screen.period_trades == trades and "all time" in screen.period_caption

            at = wait_until(shown, cap_s)
            probe.cancel()
            gui.stop()
            probe.join(cap_s + 5.0)
            after = run.screen()
    finally:
        sim.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    stall = max(gui.samples, default=0.0)
    worst = max(probe.latencies, default=None)
    fills = (
        f"{len(probe.latencies)} probe fill(s), worst fill → stored {worst * 1000:,.0f} ms"
        if worst is not None
        else "no probe fill stored"
    )
    if probe.unstored:
        fills += f", {probe.unstored} NOT STORED"
    note = f"{fills}; GUI worst lateness {stall:,.0f} ms; default period showed {before.period_trades} trades"
    if at is None:
        note = f"NOT SHOWN after {cap_s:.0f} s: Trades {after.period_trades}, caption {after.period_caption!r}; " + note
    figures = [Figure(name, None if at is None else at - began, "s", TARGET_S, False, note)]
    figures.append(
        Figure("  … fill → stored while it loads (worst)", None if worst is None else worst * 1000, "ms", note=fills)
    )
    return figures


def main() -> None:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for figure in measure_cold_stats(100_000):
        print(figure.line(), flush=True)


if __name__ == "__main__":
    main()

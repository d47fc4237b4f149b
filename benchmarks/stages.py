"""Where a fill's time goes on its way to the screen: the fill-to-screen benchmark, with a clock at each stage.

    uv run python -m benchmarks.profile stages --fills 400

For each fill of ``benchmarks.latency.measure_fill_to_screen`` it notes when the simulator process wrote it,
when the DTC thread decoded its ORDER_UPDATE (301), when the chunk's commit started and ended
(``PositionLedger._write``: one SQLite transaction), when the update was published to the window
(``QtBridge.publish``), when ``MainWindow.apply`` started on the GUI thread, and when Panel2 painted it; and
prints p50/p90/p99 of each stage (ms, each from the end of the one before) and the slowest fills' stages.
The hooks wrap those functions for this run only; they add a few microseconds per call.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from itertools import pairwise
from typing import Any


def stages(fills: int) -> None:
    """Run the benchmark with the stage clocks and print the table."""
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    import dtc.client as client
    import panels.bridge as bridge
    import panels.main_window as main_window
    from benchmarks.common import percentile
    from benchmarks.latency import fill_to_screen
    from core.events import Update
    from core.ledger import PositionLedger

    marks: dict[str, list[float]] = {k: [] for k in ("decoded", "commit", "stored", "published", "applied")}

    def wrap(owner: Any, name: str, before: str | None, after: str | None, when: Any = None) -> None:
        original = getattr(owner, name)

        def hooked(*args: Any, **kwargs: Any) -> Any:
            noted = when is None or when(*args)
            if before and noted:
                marks[before].append(time.perf_counter())
            try:
                return original(*args, **kwargs)
            finally:
                if after and noted:
                    marks[after].append(time.perf_counter())

        setattr(owner, name, hooked)

    original_init = client.DTCClient.__init__

    def init(self: client.DTCClient, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        deliver = self._on_message

        def on_message(message: Any) -> None:
            if type(message).__name__ == "OrderUpdate":
                marks["decoded"].append(time.perf_counter())
            deliver(message)

        self._on_message = on_message

    client.DTCClient.__init__ = init  # type: ignore[method-assign]
    wrap(PositionLedger, "_write", "commit", "stored")
    def incremental(_bridge: Any, update: Any) -> bool:  # the bridge also carries snapshots and guard views
        return isinstance(update, Update) and update.snapshot is None

    wrap(bridge.QtBridge, "publish", "published", None, incremental)
    wrap(main_window.MainWindow, "apply", "applied", None)
    timed = fill_to_screen(fills)
    print(f"fill to screen p50 {percentile([ms for _, ms in timed], 0.5):.2f} ms, "
          f"p99 {percentile([ms for _, ms in timed], 0.99):.2f} ms")  # fmt: skip
    order = ("decoded", "commit", "stored", "published", "applied")
    rows: list[list[float]] = []
    for began, total in timed:
        times = [began]
        for key in order:
            found = marks[key]
            i = bisect_left(found, times[-1])
            if i == len(found):
                break
            times.append(found[i])
        else:
            steps = [(b - a) * 1000 for a, b in pairwise(times)]
            rows.append([total, *steps, total - (times[-1] - began) * 1000])
    names = ("total", "write → 301 decoded", "→ commit starts", "commit", "→ published", "→ apply starts",
             "→ Panel2 painted")  # fmt: skip
    print(f"{len(rows)} fills; ms, each stage from the end of the one before:")
    for j, name in enumerate(names):
        values = [row[j] for row in rows]
        p50, p90, p99 = (percentile(values, q) for q in (0.5, 0.9, 0.99))
        print(f"  {name:22s} p50 {p50:6.2f}  p90 {p90:6.2f}  p99 {p99:6.2f}  max {max(values):6.2f}")
    print("slowest fills (same columns):")
    for row in sorted(rows, key=lambda r: -r[0])[:6]:
        print("  " + "  ".join(f"{x:6.2f}" for x in row))

"""GUI event-loop lateness p99 (ms) while 20,000 price messages per second arrive.

Uses ``benchmarks.gui_lateness`` (the real window over a real ``StateManager``, a 10 ms ``QTimer`` on the GUI
thread measuring how late it fires while a thread calls ``on_price`` 20,000 times per second): in-process
through its ``run()`` when it offers one, else as a subprocess whose "p99 … ms" line is read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Figure

ROOT = Path(__file__).resolve().parents[1]
RATE = 20_000


def _in_process(seconds: float) -> tuple[float, str] | None:
    try:
        from benchmarks import gui_lateness
    except ImportError:
        return None
    run = getattr(gui_lateness, "run", None)
    if run is None:
        return None
    with tempfile.TemporaryDirectory(prefix="dtc-bench-gui-", ignore_cleanup_errors=True) as tmp:
        try:
            result = run(seconds, RATE, Path(tmp))
        except TypeError:  # a different signature than this wrapper knows: use the command line instead
            return None
    if not isinstance(result, dict) or "p99_ms" not in result:
        return None
    note = f"{result.get('quotes_per_s', 0):,.0f} quotes/s for {seconds:.0f} s"
    if "renders_per_s" in result:
        note += f", {result['renders_per_s']:.0f} renders/s"
    return float(result["p99_ms"]), note


def _subprocess(seconds: float) -> tuple[float, str] | None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, "-m", "benchmarks.gui_lateness", "--seconds", str(seconds), "--rate", str(RATE)]
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120)
    found = re.search(r"p99\s+([0-9.]+)\s*ms", out.stdout)
    return (float(found.group(1)), f"{seconds:.0f} s, subprocess") if found else None


def measure(seconds: float) -> Figure:
    result = _in_process(seconds) or _subprocess(seconds)
    if result is None:
        return Figure("GUI event-loop lateness p99 at 20,000 msg/s", None, "ms", 20, False, "not measured")
    p99, note = result
    return Figure("GUI event-loop lateness p99 at 20,000 msg/s", p99, "ms", 20, False, note)

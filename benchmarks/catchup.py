"""History catch-up (issue 10): N fills missed while the panel was closed, stored after the next start.

1. The real app runs once against the DTC simulator (two declared accounts, ``Sim1`` and ``Sim2``) until it
   shows SYNCED, so it has recorded both accounts as seen (table ``tradeaccount``); then it stops.
2. With no client connected the simulator executes N one-lot fills (BUY/SELL pairs over the two accounts
   and two symbols: N/2 trades, everything FLAT at the end); they exist only in its fill log, which it
   answers HISTORICAL_ORDER_FILLS_REQUEST (303) from.
3. A fresh ``build_app`` on the same data directory, window shown; the clock starts at ``start()``.

Figures: seconds from ``start()`` until ``SELECT count(*) FROM fillrecord`` reaches N (polled every 5 ms from
another thread); the note gives the time from logon (the simulator's first logged-on client) and until the
screen shows FLAT with N/4 trades today once all N are stored (each account closes N/4 trades; the window
shows one of them).
Afterwards every execution id is checked to be stored exactly once. Capped at ``CAP_S``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.burst import store_check
from benchmarks.common import Figure
from benchmarks.realapp import (
    RunningApp,
    StoreWatcher,
    count_labels,
    read_only,
    round_trips,
    simulator,
    stored,
    wait_until,
)

ACCOUNTS = ("Sim1", "Sim2")
SYMBOLS = ("MESZ25", "MNQZ25")
CAP_S = 120.0
TARGET_S = 5.0


def measure_catchup(count: int, cap_s: float = CAP_S) -> list[Figure]:
    name = f"history catch-up {count:,} fills: start → stored"
    sim = simulator(ACCOUNTS)
    data_dir = Path(tempfile.mkdtemp(prefix="dtc-bench-catchup-"))
    try:
        with RunningApp(sim, data_dir) as first:
            if not first.start():
                raise RuntimeError(f"the first run did not sync: {first.screen().connection!r}")
            with read_only(first.db) as conn:
                seen = sorted(row[0] for row in conn.execute("SELECT account FROM tradeaccount"))
        if seen != sorted(ACCOUNTS):
            raise RuntimeError(f"the first run recorded accounts {seen}, expected {list(ACCOUNTS)}")
        if not wait_until(lambda: sim.logged_on_clients == 0, 10.0):
            raise RuntimeError("the first run's connection did not close")
        missed = sim.burst(round_trips(count, ACCOUNTS, SYMBOLS), cash_per_fill=None)
        if missed.clients:
            raise RuntimeError("a client was connected while the fills were missed")
        with RunningApp(sim, data_dir) as run:
            watcher = StoreWatcher(run.db, count, cap_s, simulator=sim)
            watcher.start()
            began = time.perf_counter()
            run.start(wait_synced=False)
            per_account = count // 4
            on_screen = wait_until(  # the final state, once everything is stored (not an account's partial)
                lambda: watcher.reached_at is not None and run.screen().shows((), per_account),
                cap_s,
                painted=count_labels(run.window),
            )
            watcher.join(max(0.0, began + cap_s - time.perf_counter()) + 1.0)
            watcher.cancel()
            watcher.join(5.0)
            wait_until(lambda: False, 0.2)
            final = stored(run.db, missed.execution_ids)
            screen = run.screen()
    finally:
        sim.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    check = store_check(final, count, count // 2, watcher.reached_at is not None)
    logon = "" if watcher.logon_at is None else f"logon after {watcher.logon_at - began:.2f} s"
    if watcher.reached_at is None:
        note = f"NOT ALL STORED after {cap_s:.0f} s: {watcher.count:,} of {count:,}; {logon}; {check}"
        return [Figure(name, None, "s", TARGET_S, False, note)]
    parts = [logon] if logon else []
    if watcher.logon_at is not None:
        parts.append(f"{count / (watcher.reached_at - watcher.logon_at):,.0f} fills/s from logon")
    parts.append(
        f"FLAT and {count // 4:,} trades today shown after {on_screen - began:.2f} s"
        if on_screen is not None
        else f"screen NOT showing {count // 4:,} trades today (shows {screen.trades_today}, "
        f"{list(screen.positions) or 'FLAT'})"
    )
    parts.append(check)
    return [Figure(name, watcher.reached_at - began, "s", TARGET_S, False, "; ".join(parts))]


def main() -> None:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for figure in measure_catchup(10_000):
        print(figure.line(), flush=True)


if __name__ == "__main__":
    main()

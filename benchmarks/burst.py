"""Fills at exchange speed (issue 10): a burst of N fills through the real app, in fills per second.

The real app (``build_app`` + ``start()``, window shown offscreen, synced) on a fresh database against the
DTC simulator on loopback (in a child process: ``benchmarks.simproc``). ``SimulatorServer.burst`` then writes
N fills back to back in one go — per fill an ORDER_UPDATE (301), a POSITION_UPDATE (306) and an
ACCOUNT_BALANCE_UPDATE (600), plus 107s for the app's market-data subscriptions — as one-lot BUY/SELL pairs
alternating over two symbols of ``Sim1`` (every pair closes a trade: N/2 trades, FLAT at the end).

Clock: from the moment the bytes are handed to the socket (``BurstResult.sent_at``) to
- *stored*: ``SELECT count(*) FROM fillrecord`` (polled every 5 ms from another thread) reaches N;
- *on screen*: the window shows FLAT and "Trades today" shows N/2 (checked every 5 ms on the GUI thread and
  just before each paint of the count labels).
Rates are N divided by those times. Afterwards every execution id is checked to be stored exactly once.
Capped at ``CAP_S``: beyond it the figure says how many were stored instead of hanging.
"""

from __future__ import annotations

import time

from benchmarks.common import Figure
from benchmarks.realapp import (
    RunningApp,
    Stored,
    StoreWatcher,
    count_labels,
    rate,
    round_trips,
    simulator,
    stored,
    wait_until,
)

ACCOUNT = "Sim1"
SYMBOLS = ("MESZ25", "MNQZ25")
CAP_S = 120.0
TARGET_FILLS_PER_S = 1000.0


def measure_burst(count: int, cap_s: float = CAP_S) -> list[Figure]:
    """Two figures (stored, on screen) for one burst of ``count`` fills (even)."""
    fills = round_trips(count, [ACCOUNT], SYMBOLS)
    trades = count // 2
    sim = simulator([ACCOUNT])
    try:
        with RunningApp(sim) as run:
            if not run.start():
                raise RuntimeError(f"the app did not sync: {run.screen().connection!r}")
            watcher = StoreWatcher(run.db, count, cap_s)
            watcher.start()
            sent = sim.burst(fills, cash_per_fill=-0.62)
            if sent.clients != 1:
                raise RuntimeError(f"the burst reached {sent.clients} clients, expected 1")
            began = sent.sent_at
            on_screen = wait_until(
                lambda: run.screen().shows((), trades),
                max(0.0, began + cap_s - time.perf_counter()),
                painted=count_labels(run.window),
            )
            watcher.join(max(0.0, began + cap_s - time.perf_counter()) + 1.0)
            watcher.cancel()
            watcher.join(5.0)
            wait_until(lambda: False, 0.2)  # trailing work settles before the final count
            final = stored(run.db, sent.execution_ids)
            screen = run.screen()
    finally:
        sim.stop()
    size_mb = sum(sent.bytes_per_client) / 1e6
    check = store_check(final, count, trades, watcher.reached_at is not None)
    stored_rate = rate(count, began, watcher.reached_at)
    store_note = (
        f"{count:,} fills in {watcher.reached_at - began:.2f} s, {size_mb:.1f} MB; {check}"
        if watcher.reached_at is not None
        else f"NOT ALL STORED after {cap_s:.0f} s: {watcher.count:,} of {count:,}; {check}"
    )
    screen_rate = rate(count, began, on_screen)
    screen_note = (
        f"FLAT and {trades:,} trades today shown after {on_screen - began:.2f} s"
        + (" (past the cap: the GUI thread was busy until then)" if on_screen - began > cap_s else "")
        if on_screen is not None
        else f"NOT SHOWN after {cap_s:.0f} s: positions {list(screen.positions) or ('FLAT' if screen.flat else '?')}"
        f", trades today {screen.trades_today}"
    )
    return [
        Figure(f"burst {count:,} fills: sent → stored", stored_rate, "fills/s", TARGET_FILLS_PER_S, True, store_note),
        Figure(
            f"burst {count:,} fills: sent → on screen", screen_rate, "fills/s", TARGET_FILLS_PER_S, True, screen_note
        ),
    ]


def store_check(final: Stored, count: int, trades: int, complete: bool = True) -> str:
    """Either "each stored exactly once" or what is wrong: fills lost (``complete``: the app had the time to
    store them all) or not stored yet (it ran out of time), duplicates, a different number of trades."""
    problems = []
    if final.missing:
        problems.append(f"{final.missing:,} FILLS LOST" if complete else f"{final.missing:,} not stored yet")
    if final.duplicates:
        problems.append(f"{final.duplicates:,} DUPLICATE ROWS")
    if complete and final.distinct != count:
        problems.append(f"{final.distinct:,} distinct ids stored, expected {count:,}")
    if complete and final.trades != trades:
        problems.append(f"{final.trades:,} trades stored, expected {trades:,}")
    return "; ".join(problems) if problems else "each stored exactly once"


def main() -> None:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for count in (500, 2000):
        for figure in measure_burst(count):
            print(figure.line(), flush=True)


if __name__ == "__main__":
    main()

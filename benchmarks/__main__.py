"""Performance figures of DTC Panel against the targets of docs/PERFORMANCE.md.

    uv run python -m benchmarks            # the full run (about 6–8 minutes on 2 cores)
    uv run python -m benchmarks --quick    # about a minute: smaller samples, 20,000-trade database
    uv run python -m benchmarks --only route,memory
    uv run python -m benchmarks --only burst,catchup,filllate,coldstats   # issue 10, through the real app
    uv run python -m benchmarks --only sierracompare   # Sierra Chart's trade list against the panel's
    uv run python -m benchmarks --only apiburst   # issue 16: the burst with 20 local API clients connected

Prints a header with the machine, then one line per figure: name, value, unit, target and met/MISSED.
Exit code 0 whatever the figures (a measurement, not a test); 2 if a benchmark could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.common import Figure, machine_header


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark does (messages, fills, trades, seconds)."""

    route_messages: int
    memory_messages: int
    commit_fills: int
    screen_fills: int
    trades: int
    gui_seconds: float
    burst_fills: tuple[int, ...]
    catchup_fills: int
    fill_late_seconds: float
    compare_trades: tuple[int, ...]


QUICK = Sizes(route_messages=100_000, memory_messages=1_000_000, commit_fills=200, screen_fills=60,
              trades=20_000, gui_seconds=4.0, burst_fills=(500,), catchup_fills=2000,
              fill_late_seconds=4.0, compare_trades=(1000, 5000))  # fmt: skip
FULL = Sizes(route_messages=500_000, memory_messages=1_000_000, commit_fills=1000, screen_fills=400,
             trades=100_000, gui_seconds=10.0, burst_fills=(500, 2000), catchup_fills=10_000,
             fill_late_seconds=10.0, compare_trades=(1000, 5000, 20_000))  # fmt: skip


def _benchmarks(sizes: Sizes) -> dict[str, Callable[[], list[Figure]]]:
    def route() -> list[Figure]:
        from benchmarks.throughput import measure_rates

        return measure_rates(sizes.route_messages)

    def commit() -> list[Figure]:
        from benchmarks.latency import measure_commit

        return measure_commit(sizes.commit_fills)

    def screen() -> list[Figure]:
        from benchmarks.latency import measure_fill_to_screen

        return measure_fill_to_screen(sizes.screen_fills)

    def startup() -> list[Figure]:
        from benchmarks.startup import measure

        return measure(sizes.trades)

    def gui() -> list[Figure]:
        from benchmarks.gui import measure

        return [measure(sizes.gui_seconds)]

    def memory() -> list[Figure]:
        from benchmarks.throughput import measure_memory

        return [measure_memory(sizes.memory_messages)]

    def burst() -> list[Figure]:
        from benchmarks.burst import measure_burst

        return [figure for count in sizes.burst_fills for figure in measure_burst(count)]

    def catchup() -> list[Figure]:
        from benchmarks.catchup import measure_catchup

        return measure_catchup(sizes.catchup_fills)

    def filllate() -> list[Figure]:
        from benchmarks.fill_lateness import measure_fill_lateness

        return measure_fill_lateness(sizes.fill_late_seconds)

    def coldstats() -> list[Figure]:
        from benchmarks.cold_stats import measure_cold_stats

        return measure_cold_stats(sizes.trades)

    def sierracompare() -> list[Figure]:
        from benchmarks.sierra_compare import measure_compare

        return measure_compare(sizes.compare_trades)

    def apiburst() -> list[Figure]:
        from benchmarks.api_burst import measure_api_burst

        return measure_api_burst(sizes.burst_fills[-1], rounds=1 if sizes is QUICK else 5)

    return {
        "route": route,
        "commit": commit,
        "screen": screen,
        "startup": startup,
        "gui": gui,
        "memory": memory,
        "burst": burst,
        "catchup": catchup,
        "filllate": filllate,
        "coldstats": coldstats,
        "sierracompare": sierracompare,
        "apiburst": apiburst,
    }


def _quiet_qt() -> None:
    """Drop the offscreen platform's "does not support propagateSizeHints()" noise; keep other Qt messages."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(f"Qt {kind.name}: {message}", file=sys.stderr)

    qInstallMessageHandler(handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="about one minute: smaller samples and database")
    parser.add_argument(
        "--only",
        help="comma-separated subset of: route, commit, screen, startup, gui, memory, "
        "burst, catchup, filllate, coldstats (issue 10: fills at exchange speed), sierracompare (issue 15's "
        "cross-check), apiburst (issue 16)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    benchmarks = _benchmarks(sizes)
    chosen = [name.strip() for name in args.only.split(",")] if args.only else list(benchmarks)
    unknown = [name for name in chosen if name not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    _quiet_qt()
    for line in machine_header():
        print(line)
    print(f"run        {'quick' if args.quick else 'full'}: {', '.join(chosen)}")
    print("-" * 110)
    failed = False
    began = time.perf_counter()
    figures: list[Figure] = []
    for name in chosen:
        try:
            results = benchmarks[name]()
        except Exception:  # report which benchmark broke and go on with the others
            failed = True
            print(f"{name}: could not run\n{traceback.format_exc()}", file=sys.stderr)
            continue
        for figure in results:
            print(figure.line(), flush=True)
        figures.extend(results)
    print("-" * 110)
    verdicts = [f.met for f in figures if f.met is not None]
    print(f"targets met: {sum(verdicts)} of {len(verdicts)}   ({time.perf_counter() - began:.0f} s)")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

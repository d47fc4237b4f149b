"""Profiles behind the figures of docs/PERFORMANCE.md (stdlib cProfile; no extra dependency).

    uv run python -m benchmarks.profile route      # the receive path, on its worker thread
    uv run python -m benchmarks.profile startup    # build_app over a 100,000-trade database
    uv run python -m benchmarks.profile stats      # StatisticsCache.get(ALL) over 100,000 trades
    uv run python -m benchmarks.profile screen     # GUI events slower than 3 ms around the slowest fills
    uv run python -m benchmarks.profile lateness   # GUI events slower than 8 ms at 50 fills/s (fill lateness)
    uv run python -m benchmarks.profile stages     # fill to screen, stage by stage (benchmarks/stages.py)

``route``/``startup``/``stats`` print the top functions by own time (``--sort cumtime`` for cumulative);
``screen`` replaces ``QApplication.notify`` to time every GUI event and prints the timeline (ms after
``simulator.fill()``) of the slowest fill. Times under a profiler are slower than the figures themselves.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _route(profiler: cProfile.Profile) -> None:
    from benchmarks.stream import StreamMaker, build_receive_path, split_chunks

    with tempfile.TemporaryDirectory(prefix="dtc-profile-", ignore_cleanup_errors=True) as tmp:
        path = build_receive_path(Path(tmp))
        chunks = split_chunks(b"".join(StreamMaker().frames(200_000)))

        def profiled() -> object:  # enabled on the worker thread: cProfile profiles one thread
            profiler.enable()
            yield from chunks
            profiler.disable()

        path.feed_in_thread(profiled())
        path.close()


def _database(tmp: str, trades: int = 100_000) -> Path:
    from benchmarks.dbgen import generate

    data_dir = Path(tmp) / "data"
    generate(data_dir, trades)
    return data_dir


def _startup(profiler: cProfile.Profile) -> None:
    from PySide6.QtWidgets import QApplication

    from app_manager import build_app
    from core.settings import Settings

    with tempfile.TemporaryDirectory(prefix="dtc-profile-", ignore_cleanup_errors=True) as tmp:
        settings = Settings.for_directories(_database(tmp))
        QApplication.instance() or QApplication([])
        profiler.enable()
        app = build_app(settings)
        profiler.disable()
        app.window.close()


def _stats(profiler: cProfile.Profile) -> None:
    from core.statistics_cache import StatisticsCache
    from core.tradingday import Period
    from data.db import make_engine
    from data.repository import PositionStore

    with tempfile.TemporaryDirectory(prefix="dtc-profile-", ignore_cleanup_errors=True) as tmp:
        engine = make_engine(_database(tmp))
        cache = StatisticsCache(PositionStore(engine), "18:00", "America/New_York")
        profiler.enable()
        cache.get("SIM", "Sim1", Period.ALL)
        profiler.disable()
        engine.dispose()


def _screen(fills: int) -> None:
    from PySide6.QtWidgets import QApplication

    events: list[tuple[float, float, str]] = []

    class TimedApp(QApplication):
        def notify(self, receiver: object, event: object) -> bool:  # Qt's name
            name = f"{event.type().name} {type(receiver).__name__} {receiver.objectName()}"  # type: ignore[attr-defined]
            began = time.perf_counter()
            result = super().notify(receiver, event)  # type: ignore[arg-type]
            took = time.perf_counter() - began
            if took > 0.003:  # the receiver may be gone by now: its name was taken before
                events.append((began, took, name))
            return result

    TimedApp([])
    from benchmarks.common import percentile
    from benchmarks.latency import fill_to_screen

    timed = fill_to_screen(fills)
    starts, measured = [t for t, _ in timed], [ms for _, ms in timed]
    print(f"fill to screen p50 {percentile(measured, 0.5):.2f} ms, p99 {percentile(measured, 0.99):.2f} ms")
    worst = max(range(1, len(measured)), key=lambda i: measured[i])  # the first fill is a warm-up
    t0 = starts[worst]
    kind = ("opens LONG 1", "adds: LONG 2", "reduces: LONG 1", "closes the trade")[worst % 4]
    print(f"slowest fill: #{worst} ({kind}), {measured[worst]:.1f} ms")
    for began, took, name in events:
        if t0 <= began <= t0 + measured[worst] / 1000 + 0.01:
            print(f"  at {(began - t0) * 1000:6.1f} ms  took {took * 1000:5.1f} ms  {name}")


def _lateness(seconds: float) -> None:
    """The fill-lateness benchmark (50 fills/s, 1,000 trades today) with every GUI event timed: the outermost
    events slower than 8 ms (what makes the timer late) and, inside them, which widgets' events took the time.
    Times are the GUI thread's CPU time (``time.thread_time``), so other processes on the machine do not
    inflate them."""
    from collections import defaultdict

    from PySide6.QtWidgets import QApplication

    slow: list[tuple[float, list[tuple[int, float, str]]]] = []
    stack: list[list[tuple[int, float, str]]] = []

    class TimedApp(QApplication):
        def notify(self, receiver: object, event: object) -> bool:  # Qt's name
            name = f"{event.type().name} {type(receiver).__name__} {receiver.objectName()}"  # type: ignore[attr-defined]
            parent = receiver.parent() if hasattr(receiver, "parent") else None  # type: ignore[attr-defined]
            if parent is not None and hasattr(parent, "objectName"):  # a viewport: say whose
                name += f" in {type(parent).__name__} {parent.objectName()}"
            depth = len(stack)
            if depth == 0:
                stack.append([])
            began = time.thread_time()
            result = super().notify(receiver, event)  # type: ignore[arg-type]
            took = time.thread_time() - began
            if depth == 0:
                inner = stack.pop()
                if took > 0.008:
                    slow.append((took, [(0, took, name), *inner]))
            elif took > 0.001:
                stack[0].append((depth, took, name))
            return result

    TimedApp([])
    from benchmarks.fill_lateness import measure_fill_lateness

    for figure in measure_fill_lateness(seconds):
        print(figure.line())
    print(f"{len(slow)} outermost GUI events slower than 8 ms:")
    by_name: dict[str, list[float]] = defaultdict(list)
    for took, events in slow:
        by_name[events[0][2]].append(took * 1000)
    for name, times in sorted(by_name.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {len(times):4d} × {name:70s} mean {sum(times) / len(times):5.1f} ms, max {max(times):5.1f} ms")
    inside: dict[str, list[float]] = defaultdict(list)
    for _, events in slow:
        for depth, took, name in events[1:]:
            inside[f"{'  ' * depth}{name}"].append(took * 1000)
    print("inside them (events over 1 ms, by receiver):")
    for name, times in sorted(inside.items(), key=lambda kv: -sum(kv[1]))[:25]:
        print(f"  {len(times):4d} × {name:70s} mean {sum(times) / len(times):5.1f} ms, max {max(times):5.1f} ms")
    for took, events in sorted(slow, reverse=True)[:3]:
        print(f"one of {took * 1000:.1f} ms:")
        for depth, t, name in events:
            print(f"  {'  ' * depth}{t * 1000:6.1f} ms {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("route", "startup", "stats", "screen", "lateness", "stages"))
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default tottime)")
    parser.add_argument("--lines", type=int, default=25, help="functions to print (default 25)")
    parser.add_argument("--fills", type=int, default=120, help="screen, stages: fills to measure (default 120)")
    parser.add_argument("--seconds", type=float, default=10.0, help="lateness: seconds of fills (default 10)")
    args = parser.parse_args(argv)
    if args.what == "screen":
        _screen(args.fills)
        return 0
    if args.what == "lateness":
        _lateness(args.seconds)
        return 0
    if args.what == "stages":
        from benchmarks.stages import stages

        stages(args.fills)
        return 0
    profiler = cProfile.Profile()
    {"route": _route, "startup": _startup, "stats": _stats}[args.what](profiler)
    pstats.Stats(profiler, stream=sys.stdout).sort_stats(args.sort).print_stats(args.lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())

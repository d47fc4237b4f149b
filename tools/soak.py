"""Soak test: the real app for a long time under demo-like traffic with periodic disconnects.

    uv run python -m tools.soak --minutes 60 [--price-rate 400] [--fill-interval 1] [--drop-every 30]

A child process (``--serve``) runs the DTC simulator and, once the app has synced (fills made before the
panel first saw an account are, by design, never asked for), the traffic: random orders with partial fills
on two accounts (declared, so the 401 answer lists them from the first logon) and two symbols, trades (107)
at ``--price-rate`` per second, a bad frame every 10 s, and every ``--drop-every`` seconds (± 20 %)
``drop_connections()``, half of the time mid-frame. This process runs the
app as ``app_manager`` builds it (``build_app``, window shown, offscreen Qt event loop), so its memory is the
app's alone. Every ``--report-every`` seconds it prints one line:

    time, RSS (MB), threads, open files, bytes the client's decoder holds (current session) and decoders
    of ended sessions not yet garbage-collected (reference cycles: the cyclic GC frees them), fills held
    for retry, notifications kept, deferred live fills and unfinished 304 batches in the router, GUI
    event-loop lateness p99/max (ms, 10 ms timer), renders/s, bad frames counted, connections made,
    errors/warnings logged

and at the end whether every fill the simulator made is stored once, and a verdict per quantity: the mean of
the last third of the reports against the first third (the first report, warm-up, left out when there are
four or more). Exit code 0 if nothing grew and no fill was lost, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ACCOUNTS = ("Sim1", "120005")
SYMBOLS = {"MESZ25": 6000.0, "MNQZ25": 21000.0}
TICK = 0.25
BAD_FRAME_EVERY = 10.0

# --- the child: simulator and traffic ------------------------------------------------------------------


def serve(price_rate: float, fill_interval: float, drop_every: float, seed: int) -> int:
    """Run the simulator; start the traffic at the first stdin line (``start``), end it at ``stop`` and
    serve on until stdin closes. Prints ``PORT n`` first and ``SUMMARY {json}`` (fill execution ids, counts)
    at ``stop``."""
    from dtc.sim.scenario import AccountSpec, Scenario
    from dtc.sim.server import SimulatorServer

    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(seed)
    accounts = tuple(AccountSpec(name, CashBalance=50_000.0) for name in ACCOUNTS)  # listed in 401 from the start
    simulator = SimulatorServer(Scenario(name="soak", accounts=accounts), autoplay=False)
    simulator.start()
    print(f"PORT {simulator.port}", flush=True)
    stop = threading.Event()
    counts: Counter[str] = Counter()

    def prices() -> None:
        level = dict.fromkeys(SYMBOLS, 0)
        began, n = time.monotonic(), 0
        while not stop.is_set():
            for symbol, base in SYMBOLS.items():
                level[symbol] += rng.choice((-1, 0, 1))
                level[symbol] = max(-400, min(400, level[symbol]))
                with contextlib.suppress(RuntimeError):
                    simulator.price(symbol, base + TICK * level[symbol], rng.randint(1, 10))
                    counts["prices"] += 1
            n += len(SYMBOLS)
            delay = began + n / price_rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def fills() -> None:
        while not stop.wait(rng.uniform(0.5, 1.5) * fill_interval):
            symbol = rng.choice(list(SYMBOLS))
            price = simulator.last_price(symbol) or SYMBOLS[symbol]
            quantity = rng.randint(1, 3)
            partials = None
            if quantity > 1 and rng.random() < 0.3:
                first = rng.randint(1, quantity - 1)
                partials = [(first, price), (quantity - first, price + TICK)]
            with contextlib.suppress(RuntimeError):
                simulator.fill(rng.choice(ACCOUNTS), symbol, rng.choice(("BUY", "SELL")), quantity, price, partials)
                counts["orders"] += 1

    def faults() -> None:
        next_drop = time.monotonic() + drop_every * rng.uniform(0.8, 1.2)
        while not stop.wait(BAD_FRAME_EVERY):
            with contextlib.suppress(RuntimeError):
                simulator.send_raw(b'{"Type":301,"Symbol":"MESZ25","LastFillPrice":"bad"}\x00')
                counts["bad frames sent"] += 1
            if time.monotonic() >= next_drop:
                next_drop = time.monotonic() + drop_every * rng.uniform(0.8, 1.2)
                mid_frame = rng.random() < 0.5
                with contextlib.suppress(RuntimeError):
                    if simulator.drop_connections(mid_frame=mid_frame):
                        counts["drops mid-frame" if mid_frame else "drops"] += 1

    threads = [threading.Thread(target=f, daemon=True) for f in (prices, fills, faults)]
    sys.stdin.readline()  # "start": the app has synced, so every fill is one it must end up with
    for thread in threads:
        thread.start()
    for line in sys.stdin:  # "stop": end the traffic and report, but keep serving until stdin closes
        if line.strip() == "stop":
            break
    stop.set()
    for thread in threads:
        thread.join(10)
    log = simulator.fill_log()
    summary = {"execution_ids": [f["execution_id"] for f in log], "counts": dict(counts)}
    print("SUMMARY " + json.dumps(summary), flush=True)
    sys.stdin.read()  # the app catches up on missed fills (303) meanwhile
    simulator.stop()
    return 0


# --- the parent: the app and its observations ---------------------------------------------------------


class _ErrorCounter(logging.Handler):
    """Counts WARNING and ERROR records and keeps the newest error messages."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.recent: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] += 1
        if record.levelno >= logging.ERROR:
            self.recent.append(f"{record.name}: {record.getMessage()}"[:200])
            del self.recent[:-20]


@dataclass
class Sample:
    """One report; sizes in MB, bytes or counts, times in ms."""

    minute: float
    rss_mb: float
    threads: int
    open_files: int
    decoder_bytes: int
    old_decoders: int
    pending_fills: int
    notifications: int
    deferred_fills: int
    open_batches: int
    lateness_p99: float
    lateness_max: float
    renders_per_s: float
    bad_frames: int
    connections: int
    errors: int
    warnings: int
    extra: dict[str, object] = field(default_factory=dict)


GROWTH_LIMITS: dict[str, tuple[float, float | None]] = {
    "rss_mb": (10.0, None),
    "threads": (1, None),
    "open_files": (2, None),
    "decoder_bytes": (1 << 20, None),
    "old_decoders": (5, None),
    "pending_fills": (1, None),
    "notifications": (0, 200),
    "deferred_fills": (10, None),
    "open_batches": (2, None),
    "lateness_p99": (20.0, None),
}
"""Per quantity (margin, cap): it grew if its last-third mean exceeds its first-third mean by more than the
margin — and, for a quantity bounded by design (the notification feed keeps 200), also exceeds the cap."""


def _rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource  # fallback: peak, not current (macOS bytes, Linux kB)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _open_files() -> int:
    fd_dir = Path("/proc/self/fd")
    return len(list(fd_dir.iterdir())) if fd_dir.exists() else -1


def _wait_synced(qt: Any, app: Any, seconds: float) -> None:
    """Run the Qt loop until the app shows a synced connection (or ``seconds`` pass)."""
    from core.snapshots import ConnectionState

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        snap = app.window.last_snapshot
        if snap is not None and snap.connection.state == ConnectionState.SYNCED:
            return
        qt.processEvents()
        time.sleep(0.02)


def _current_buffer(decoders: list[weakref.ref[Any]]) -> int:
    """Bytes the current session's decoder holds while waiting for a terminator."""
    current = decoders[-1]() if decoders else None
    return current.pending_bytes if current is not None else 0


def _stored_fills(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return [row[0] for row in conn.execute("SELECT execution_id FROM fillrecord")]


def soak(minutes: float, report_every: float, price_rate: float, fill_interval: float, drop_every: float,
         seed: int) -> int:  # fmt: skip
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    import dtc.client
    from app_manager import build_app
    from core.settings import Settings
    from data.db import database_path
    from dtc.framing import FrameDecoder

    decoders: list[weakref.ref[FrameDecoder]] = []  # one per session, oldest first

    class TrackedDecoder(FrameDecoder):  # lets the soak see the client's per-session receive buffer
        def __init__(self, *args: int) -> None:
            super().__init__(*args)
            decoders.append(weakref.ref(self))

    dtc.client.FrameDecoder = TrackedDecoder  # type: ignore[misc]
    errors = _ErrorCounter()
    logging.getLogger().addHandler(errors)
    logging.getLogger().setLevel(logging.INFO)
    child = subprocess.Popen(
        [sys.executable, "-m", "tools.soak", "--serve", "--price-rate", str(price_rate), "--fill-interval",
         str(fill_interval), "--drop-every", str(drop_every), "--seed", str(seed)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    port = int(child.stdout.readline().split()[1])
    qt = QApplication.instance() or QApplication([])
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="dtc-soak-", ignore_cleanup_errors=True) as tmp:
        settings = replace(Settings.for_directories(Path(tmp) / "data"), host="127.0.0.1", port=port,
                           heartbeat_seconds=5)  # fmt: skip
        app = build_app(settings)
        app.window.resize(1366, 768)
        app.window.show()
        app.start()
        _wait_synced(qt, app, 60.0)
        child.stdin.write("start\n")  # the traffic begins once the app knows the accounts (see serve)
        child.stdin.flush()
        lateness: list[float] = []
        clock = QElapsedTimer()
        expected = [0.0]

        def tick() -> None:
            now = clock.nsecsElapsed() / 1e6
            lateness.append(max(0.0, now - expected[0]))
            expected[0] = now + 10

        timer = QTimer(timerType=Qt.TimerType.PreciseTimer)
        timer.timeout.connect(tick)
        clock.start()
        expected[0] = 10
        timer.start(10)
        began = time.monotonic()
        renders = [app.window.renders, began]

        def report() -> None:
            snap = app.window.last_snapshot
            now = time.monotonic()
            ordered = sorted(lateness)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0
            sample = Sample(
                minute=(now - began) / 60,
                rss_mb=_rss_mb(),
                threads=threading.active_count(),
                open_files=_open_files(),
                decoder_bytes=_current_buffer(decoders),
                old_decoders=sum(1 for ref in decoders[:-1] if ref() is not None),
                pending_fills=snap.pending_fills if snap else 0,
                notifications=len(snap.notifications) if snap else 0,
                deferred_fills=len(getattr(app.router, "_deferred", ())),
                open_batches=len(getattr(app.router, "_history", {})),
                lateness_p99=p99,
                lateness_max=max(lateness, default=0.0),
                renders_per_s=(app.window.renders - renders[0]) / max(1e-9, now - renders[1]),
                bad_frames=sum(app.router.bad_input.values()),
                connections=app.client.connections,
                errors=errors.counts["ERROR"] + errors.counts["CRITICAL"],
                warnings=errors.counts["WARNING"],
            )
            lateness.clear()
            renders[:] = [app.window.renders, now]
            samples.append(sample)
            print(_line(sample), flush=True)
            for message in errors.recent:
                print(f"        error: {message}", flush=True)
            errors.recent.clear()

        reporter = QTimer()
        reporter.timeout.connect(report)
        reporter.start(int(report_every * 1000))
        QTimer.singleShot(int(minutes * 60_000), qt.quit)
        print(_header(), flush=True)
        qt.exec()
        reporter.stop()
        timer.stop()
        child.stdin.write("stop\n")
        child.stdin.flush()
        summary_line = next((line for line in child.stdout if line.startswith("SUMMARY ")), "SUMMARY {}")
        summary = json.loads(summary_line.split(" ", 1)[1])
        truth = summary.get("execution_ids", [])
        db = database_path(settings.data_dir)
        deadline = time.monotonic() + 30  # after the last drop the app may still be resyncing its history
        stored = _stored_fills(db)
        while time.monotonic() < deadline and set(truth) - set(stored):
            qt.processEvents()
            time.sleep(0.2)
            stored = _stored_fills(db)
        alive = app.client.alive
        app.stop()
        app.window.close()
        child.stdin.close()
        child.wait(30)
    lost = sorted(set(truth) - set(stored))
    doubled = len(stored) - len(set(stored))
    print(f"traffic: {summary.get('counts', {})}")
    print(f"fills: simulator made {len(truth)}, app stored {len(stored)}, lost {len(lost)}, stored twice {doubled}"
          + (f", e.g. {lost[:3]}" if lost else ""))  # fmt: skip
    print(f"client thread alive at the end: {alive}; connections made: {samples[-1].connections if samples else 0}")
    grew = _verdict(samples)
    return 0 if not grew and not lost and not doubled and alive else 1


def _header() -> str:
    return ("  min   RSS MB  thr  fds  rxbuf B  old  held  notes  defer  batch  lag p99/max ms  rend/s   bad  conn  "
            "err/warn")  # fmt: skip


def _line(s: Sample) -> str:
    return (
        f"{s.minute:5.1f}  {s.rss_mb:7.1f}  {s.threads:3d}  {s.open_files:3d}  {s.decoder_bytes:7d}  "
        f"{s.old_decoders:3d}  "
        f"{s.pending_fills:4d}  {s.notifications:5d}  {s.deferred_fills:5d}  {s.open_batches:5d}  "
        f"{s.lateness_p99:6.1f}/{s.lateness_max:6.1f}  {s.renders_per_s:6.1f}  {s.bad_frames:4d}  "
        f"{s.connections:4d}  {s.errors}/{s.warnings}"
    )


def _verdict(samples: list[Sample]) -> bool:
    """Print a verdict per quantity; True if any grew beyond its limit."""
    usable = samples[1:] if len(samples) >= 4 else samples
    if len(usable) < 2:
        print("verdict: too few reports to judge growth (run longer)")
        return False
    third = max(1, len(usable) // 3)
    first, last = usable[:third], usable[-third:]
    grew = False
    parts = []
    for name, (margin, cap) in GROWTH_LIMITS.items():
        before = statistics.mean(float(getattr(s, name)) for s in first)
        after = statistics.mean(float(getattr(s, name)) for s in last)
        bad = after - before > margin and (cap is None or after > cap)
        grew = grew or bad
        parts.append(f"{name} {before:.1f}→{after:.1f}{' GREW' if bad else ''}")
    print("growth (first third → last third): " + ", ".join(parts))
    print("verdict: " + ("something grew without bound" if grew else "nothing grew without bound"))
    return grew


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to run (default 60)")
    parser.add_argument("--report-every", type=float, default=60.0, help="seconds between reports (default 60)")
    parser.add_argument("--price-rate", type=float, default=400.0, help="trades (107) per second (default 400)")
    parser.add_argument("--fill-interval", type=float, default=1.0, help="mean seconds between orders (default 1)")
    parser.add_argument("--drop-every", type=float, default=30.0, help="seconds between disconnects (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.price_rate, args.fill_interval, args.drop_every, args.seed)
    print(f"soak: {args.minutes:g} min, {args.price_rate:g} trades/s, an order every ~{args.fill_interval:g} s, "
          f"a disconnect every ~{args.drop_every:g} s, a bad frame every {BAD_FRAME_EVERY:g} s")  # fmt: skip
    return soak(args.minutes, args.report_every, args.price_rate, args.fill_interval, args.drop_every, args.seed)


if __name__ == "__main__":
    sys.exit(main())

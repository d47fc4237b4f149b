"""The burst of ``benchmarks/burst.py`` with the local API on and 20 WebSocket clients connected (issue 16).

Runs alternate: the API off (as ``burst.py``), then the API on with ``CLIENTS`` clients of
``benchmarks.api_clients`` in a child process (other programs on the same computer), again and again; the
figure of each kind is the median of its runs, so a neighbour's load on the shared machine hits both alike.
Target: with the clients, "sent → on screen" drops by no more than 10 %.

After each run with clients, every client must have received every event up to the API's last sequence number
in order (no gap, no reorder), the same number of position events as the API published after its snapshot,
and end FLAT — or have been told it was dropped. The line says which.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import Figure
from benchmarks.realapp import RunningApp, StoreWatcher, count_labels, rate, round_trips, simulator, wait_until

ACCOUNT = "Sim1"
SYMBOLS = ("MESZ25", "MNQZ25")
CLIENTS = 20
CAP_S = 120.0
MAX_DROP = 0.10


@dataclass(frozen=True)
class Run:
    stored: float | None
    on_screen: float | None
    clients: str = ""
    """What the clients received ("" without clients)."""
    every_event: bool = True
    api_cpu_s: float | None = None
    """CPU seconds the API's threads (its loop and its database workers) used from the burst's start until the
    window showed it (Linux /proc; ``None`` elsewhere or with the API off)."""
    clients_cpu_s: float | None = None
    """CPU seconds the clients' process used over the same time."""


def _cpu_of(stat: Path) -> float | None:
    """utime + stime of a /proc ``stat`` file, in seconds (``None`` if it cannot be read)."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def api_threads_cpu() -> float | None:
    """CPU seconds used so far by this process's local-API threads (the loop and the ``asyncio_*`` workers)."""
    if not Path("/proc/self/task").exists():
        return None
    total = 0.0
    for thread in threading.enumerate():
        if thread.name == "local-api" or thread.name.startswith("asyncio_"):
            total += _cpu_of(Path(f"/proc/self/task/{thread.native_id}/stat")) or 0.0
    return total


def one_burst(count: int, clients: int, api_on: bool | None = None) -> Run:
    """One burst of ``count`` fills through the real app; with ``clients`` > 0 the API is on (``api_on``: on
    without clients too) and that many WebSocket clients follow it from a child process."""
    fills = round_trips(count, [ACCOUNT], SYMBOLS)
    trades = count // 2
    sim = simulator([ACCOUNT])
    child = None
    try:
        changes = {"api_enabled": True, "api_port": 0} if (clients if api_on is None else api_on) else {}
        with RunningApp(sim, **changes) as run:
            if not run.start():
                raise RuntimeError(f"the app did not sync: {run.screen().connection!r}")
            api = run.app.api
            if clients:
                from core.local_api import api_token

                assert api is not None and api.port
                env = dict(os.environ, DTC_PANEL_API_TOKEN=api_token(run.app.settings.config_dir).current())
                child = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.api_clients",
                        "--port",
                        str(api.port),
                        "--clients",
                        str(clients),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=env,
                )
                assert child.stdin is not None and child.stdout is not None
                ready = child.stdout.readline().strip()
                if ready != "ready":
                    raise RuntimeError(f"the API clients did not connect: {ready!r}")
            position_events_before = api.hub.position_events if api is not None else 0
            api_cpu = api_threads_cpu() if api is not None else None
            child_cpu = _cpu_of(Path(f"/proc/{child.pid}/stat")) if child is not None else None
            watcher = StoreWatcher(run.db, count, CAP_S)
            watcher.start()
            sent = sim.burst(fills, cash_per_fill=-0.62)
            began = sent.sent_at
            on_screen = wait_until(
                lambda: run.screen().shows((), trades),
                max(0.0, began + CAP_S - time.perf_counter()),
                painted=count_labels(run.window),
            )
            if api_cpu is not None:
                api_cpu = (api_threads_cpu() or 0.0) - api_cpu
            if child_cpu is not None and child is not None:
                child_cpu = (_cpu_of(Path(f"/proc/{child.pid}/stat")) or 0.0) - child_cpu
            watcher.join(max(0.0, began + CAP_S - time.perf_counter()) + 1.0)
            watcher.cancel()
            watcher.join(5.0)
            note, every = "", True
            if child is not None and api is not None:
                wait_until(lambda: False, 0.3)  # the last publications reach the API
                target = api.hub.seq
                expected = api.hub.position_events - position_events_before
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write(f"until {target}\n")
                child.stdin.flush()
                reports = json.loads(child.stdout.readline())
                note, every = judge(reports, target, expected)
            stored, shown = rate(count, began, watcher.reached_at), rate(count, began, on_screen)
            return Run(stored, shown, note, every, api_cpu, child_cpu)
    finally:
        if child is not None:
            if child.stdin is not None:
                child.stdin.write("quit\n")
                child.stdin.close()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        sim.stop()


def judge(reports: list[dict[str, object]], target: int, expected: int) -> tuple[str, bool]:
    """Whether every client received every event up to ``target`` in order, ``expected`` position events,
    and ends FLAT; or which were told they were dropped."""
    dropped = [r for r in reports if r["dropped"]]
    complete = [
        r
        for r in reports
        if not r["dropped"] and r["in_order"] and r["last_seq"] == target and r["positions"] == 0
        and r["position_events"] == expected
    ]  # fmt: skip
    silent = len(reports) - len(dropped) - len(complete)
    text = f"{len(complete)} of {len(reports)} clients got all {expected:,} position events in order"
    if dropped:
        text += f"; {len(dropped)} told they fell behind and dropped"
    if silent:
        text += f"; {silent} MISSED EVENTS WITHOUT BEING TOLD"
    return text, silent == 0


def measure_api_burst(count: int = 2000, rounds: int = 3, clients: int = CLIENTS) -> list[Figure]:
    """Figures: the burst rate without and with ``clients`` (medians of ``rounds`` alternating runs each)."""
    without: list[Run] = []
    with_clients: list[Run] = []
    for _ in range(rounds):
        without.append(one_burst(count, 0))
        with_clients.append(one_burst(count, clients))

    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if len(known) == len(values) else None

    def runs(values: list[float | None]) -> str:
        return ", ".join("n/a" if v is None else f"{v:,.0f}" for v in values)

    figures = []
    for what, attr in (("sent → stored", "stored"), ("sent → on screen", "on_screen")):
        base = median([getattr(r, attr) for r in without])
        loaded = median([getattr(r, attr) for r in with_clients])
        drop = None if base is None or loaded is None else (base - loaded) / base
        figures.append(
            Figure(
                f"burst {count:,}: {what}, API off",
                base,
                "fills/s",
                note=f"runs {runs([getattr(r, attr) for r in without])}",
            )
        )
        figures.append(
            Figure(
                f"burst {count:,}: {what}, {clients} API clients",
                None if drop is None else drop * 100,
                "% slower",
                MAX_DROP * 100 if attr == "on_screen" else None,
                False,
                f"{loaded:,.0f} fills/s; runs {runs([getattr(r, attr) for r in with_clients])}"
                if loaded is not None
                else "a run did not finish",
            )
        )
    api_cpu = median([r.api_cpu_s for r in with_clients])
    clients_cpu = median([r.clients_cpu_s for r in with_clients])
    if api_cpu is not None:
        figures.append(
            Figure(f"burst {count:,}: CPU of the API's threads", api_cpu * 1000, "ms", note="burst start → on screen")
        )
    if clients_cpu is not None:
        figures.append(
            Figure(f"burst {count:,}: CPU of the {clients} clients' process", clients_cpu * 1000, "ms",
                   note="the other programs, on the same cores")
        )  # fmt: skip
    all_in_order = all(r.every_event for r in with_clients)
    figures.append(
        Figure(
            f"burst {count:,}: {clients} API clients got every position event",
            float(sum(r.every_event for r in with_clients)),
            f"of {len(with_clients)} runs",
            note="; ".join(r.clients for r in with_clients) + ("" if all_in_order else " — EVENTS MISSED"),
        )
    )
    return figures


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for figure in measure_api_burst():
        print(figure.line(), flush=True)


if __name__ == "__main__":
    main()

"""Crash torture: kill the real app process with SIGKILL at random moments while the DTC simulator keeps
producing fills, restart it, and compare its database with the simulator's ground truth.

    uv run python -m tools.crash_torture --kills 200 [--seed 1] [--keep DIR]

Prints one line per kill and a tally; exits 0 only if no fill was lost, none duplicated, every open position
equals the simulator's and the stored trades equal a replay of the simulator's fills. POSIX only (SIGKILL).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from core.accounting import Fill, replay
from core.instruments import InstrumentBook
from data.db import database_path
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer

ROOT = Path(__file__).resolve().parents[1]
ACCOUNTS = ("Sim1", "120005")
SYMBOLS = ("MESZ25", "MNQZ25")
BASE_PRICE = {"MESZ25": 6000.0, "MNQZ25": 21000.0}


@dataclass
class Tally:
    kills: int = 0
    restarts: int = 0
    fills: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class FillStorm:
    """Random orders (with partial fills) on the simulator from a background thread."""

    def __init__(self, simulator: SimulatorServer, rng: random.Random, interval: tuple[float, float]) -> None:
        self._sim = simulator
        self._rng = rng
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fill-storm", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        rng = self._rng
        while not self._stop.wait(rng.uniform(*self._interval)):
            symbol = rng.choice(SYMBOLS)
            price = BASE_PRICE[symbol] + rng.randint(-40, 40) * 0.25
            quantity = rng.randint(1, 4)
            partials = None
            if quantity > 1 and rng.random() < 0.3:
                first = rng.randint(1, quantity - 1)
                partials = [(first, price), (quantity - first, price + 0.25)]
            self._sim.fill(rng.choice(ACCOUNTS), symbol, rng.choice(("BUY", "SELL")), quantity, price, partials)


def _app_command(port: int, data_dir: Path) -> list[str]:
    return [sys.executable, str(ROOT / "app_manager.py"), "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir), "--heartbeat", "2"]  # fmt: skip


def _start_app(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(_app_command(port, data_dir), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def _query(db: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute(sql).fetchall()


def _wait_clients(sim: SimulatorServer, predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate(sim.logged_on_clients):  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def compare(db: Path, sim: SimulatorServer) -> list[str]:
    """Differences between the app's database and the simulator's ground truth (empty = identical)."""
    problems: list[str] = []
    log = sim.fill_log()
    stored = _query(db, "SELECT account, execution_id FROM fillrecord")
    stored_ids = [row[1] for row in stored]
    truth_ids = [f["execution_id"] for f in log]
    missing = set(truth_ids) - set(stored_ids)
    if missing:
        problems.append(f"{len(missing)} fill(s) lost, e.g. {sorted(missing)[:3]}")
    if len(stored_ids) != len(set(stored_ids)):
        problems.append("a fill was stored twice")
    extra = set(stored_ids) - set(truth_ids)
    if extra:
        problems.append(f"{len(extra)} fill(s) the simulator never sent: {sorted(extra)[:3]}")
    positions = {(a, s): Decimal(q) for a, s, q in _query(db, "SELECT account, symbol, qty FROM openposition")}
    for (account, symbol), (qty, _avg) in sim.positions().items():
        got = positions.pop((account, symbol), Decimal(0))
        if got != Decimal(repr(qty)).normalize() and got != Decimal(int(qty)):
            problems.append(f"{account} {symbol}: stored {got}, simulator {qty}")
    for key, qty in positions.items():
        problems.append(f"{key}: stored {qty}, simulator has no such position")
    # trades: the replay of the simulator's fills per (account, symbol), in order
    instruments = InstrumentBook()
    by_key: dict[tuple[str, str], list[Fill]] = defaultdict(list)
    for f in log:
        sign = 1 if f["side"] == "BUY" else -1
        by_key[(f["account"], f["symbol"])].append(
            Fill(
                f["execution_id"],
                f["account"],
                f["symbol"],
                Decimal(repr(f["quantity"])) * sign,
                Decimal(repr(f["price"])),
                datetime.fromtimestamp(f["time"], UTC),
            )
        )
    expected = defaultdict(list)
    for key, fills in by_key.items():
        for trade in replay(fills, instruments.lookup(key[1]).point_value)[1]:
            expected[key].append(trade.net_pnl)
    got_trades = defaultdict(list)
    for account, symbol, pnl in _query(db, "SELECT account, symbol, realized_pnl FROM traderecord ORDER BY id"):
        got_trades[(account, symbol)].append(Decimal(pnl))
    for key in set(expected) | set(got_trades):
        if expected[key] != got_trades[key]:
            problems.append(
                f"{key}: {len(got_trades[key])} trades stored, {len(expected[key])} expected "
                f"(P&L {sum(got_trades[key], Decimal(0))} vs {sum(expected[key], Decimal(0))})"
            )
    return problems


def run(kills: int, data_dir: Path, seed: int = 1, verbose: bool = True) -> Tally:
    """Run ``kills`` kill/restart cycles and a final settle; returns the tally."""
    rng = random.Random(seed)
    tally = Tally()
    # Sierra Chart lists every trade account at logon, traded or not; the simulator lists the declared ones (and
    # those with fills). Undeclared, an account would first be listed at a logon after its first fills — and if
    # the app was killed before storing them, first contact would come after them and they would never be asked
    # for (fills from before first contact are never folded: ARCHITECTURE §6).
    accounts = tuple(AccountSpec(TradeAccount=account) for account in ACCOUNTS)
    sim = SimulatorServer(Scenario(name="crash-torture", accounts=accounts), autoplay=False)
    sim.start()
    storm = FillStorm(sim, rng, (0.01, 0.06))
    db = database_path(data_dir)
    proc = _start_app(sim.port, data_dir)
    try:
        if not _wait_clients(sim, lambda n: n >= 1, 30):
            tally.problems.append("the app never logged on")
            return tally
        storm.start()
        for n in range(1, kills + 1):
            time.sleep(rng.uniform(0.05, 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            tally.kills += 1
            _wait_clients(sim, lambda n: n == 0, 10)  # the simulator saw the connection die
            time.sleep(rng.uniform(0.0, 0.3))  # fills keep happening while it is down
            proc = _start_app(sim.port, data_dir)
            tally.restarts += 1
            if not _wait_clients(sim, lambda n: n >= 1, 30):
                tally.problems.append(f"kill {n}: the app did not log on again")
                break
            if verbose:
                print(f"kill {n:4d}: killed and restarted; simulator has {len(sim.fill_log())} fills", flush=True)
        storm.stop()
        # let the last instance settle: every fill stored, positions equal
        deadline = time.monotonic() + 60
        problems = compare(db, sim)
        while problems and time.monotonic() < deadline:
            time.sleep(0.25)
            problems = compare(db, sim)
        tally.problems.extend(problems)
        tally.fills = len(sim.fill_log())
    finally:
        storm.stop()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        sim.stop()
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.crash_torture", description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the data directory here (default: a temporary one)")
    args = parser.parse_args(argv)
    if os.name != "posix":
        print("crash torture needs POSIX signals", file=sys.stderr)
        return 2
    started = time.monotonic()
    if args.keep:
        tally = run(args.kills, args.keep, args.seed)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tally = run(args.kills, Path(tmp) / "data", args.seed)
    print(
        f"crash torture: {tally.kills} kills, {tally.restarts} restarts, {tally.fills} fills, "
        f"{len(tally.problems)} problem(s), {time.monotonic() - started:.0f} s"
    )
    for problem in tally.problems:
        print(f"  PROBLEM: {problem}")
    return 0 if tally.ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""SIGKILL in the middle of a multi-fill transaction (group commit), then restart: every fill stored once.

The real app runs as a separate process (as in ``tools.crash_torture``) against the DTC simulator on
loopback. ``SimulatorServer.burst`` writes hundreds of fills in one go, so each chunk the app receives holds
dozens of them and is stored as ONE SQLite transaction. The test watches the app's write transactions from
outside: SQLite's unix VFS holds ``WAL_WRITE_LOCK`` — an fcntl lock on byte 120 of the ``-shm`` file — from
the transaction's first write until its COMMIT returns, and ``F_GETLK`` shows that lock and its owner's pid
without taking it. Once the fill count has started rising, the app is killed while it holds that lock, i.e.
with a group's rows written into an uncommitted transaction.

After each kill, before the restart, the database must hold a whole number of groups: the stored fills are
a prefix of the simulator's fill log and the open positions and trades equal a replay of exactly that
prefix. After the restart on the same data directory the app must resync the rest with
HISTORICAL_ORDER_FILLS_REQUEST; then every execution id is stored exactly once, the open positions equal the
simulator's and the trades equal a replay of its fills (none lost, none duplicated).
"""

from __future__ import annotations

import fcntl
import os
import random
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from data.db import database_path
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from tools.crash_torture import _query, _start_app, _wait_clients, compare

ACCOUNTS = ("Sim1", "120005")
SYMBOLS = ("MESZ25", "MNQZ25")
BASE_PRICE = {"MESZ25": 6000.0, "MNQZ25": 21000.0}
KILLS = 3
BURST = 3000  # fills per burst, ~5.7 MB: the client reads up to 1 MiB per group, so ~6 transactions of ~500
WAL_WRITE_LOCK_BYTE = 120  # SQLite unix VFS: UNIX_SHM_BASE + WAL_WRITE_LOCK in the -shm file
FLOCK = "hhqqi4x"  # Linux struct flock: l_type, l_whence, l_start, l_len, l_pid (32 bytes)


def _writer_pid(shm_fd: int) -> int | None:
    """Pid of the process holding SQLite's WAL write lock (a write transaction is open), None if nobody."""
    query = struct.pack(FLOCK, fcntl.F_WRLCK, os.SEEK_SET, WAL_WRITE_LOCK_BYTE, 1, 0)
    kind, _whence, _start, _len, pid = struct.unpack(FLOCK, fcntl.fcntl(shm_fd, fcntl.F_GETLK, query))
    return None if kind == fcntl.F_UNLCK else pid


def _fill_count(db: Path) -> int:
    return _query(db, "SELECT count(*) FROM fillrecord")[0][0]


def _wait(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


class Prefix:
    """The simulator's ground truth cut after its first ``count`` fills (the ``compare`` interface)."""

    def __init__(self, log: list[dict[str, Any]], count: int) -> None:
        self._log = log[:count]

    def fill_log(self) -> list[dict[str, Any]]:
        return self._log

    def positions(self) -> dict[tuple[str, str], tuple[float, float]]:
        return {(f["account"], f["symbol"]): (f["position_quantity"], 0.0) for f in self._log}


@dataclass
class Kill:
    before: int  # fills stored when the burst was sent
    at_kill: int  # fills stored right after the kill
    burst_end: int  # fills the simulator had after the burst
    in_transaction: bool  # the app held the write lock just before SIGKILL
    problems_at_kill: list[str] = field(default_factory=list)


def _burst(rng: random.Random, count: int) -> list[tuple[str, str, str, float, float]]:
    """Random one-order fills (1-3 lots): positions open, add, reduce, close and flip."""
    out = []
    for _ in range(count):
        symbol = rng.choice(SYMBOLS)
        price = BASE_PRICE[symbol] + rng.randint(-40, 40) * 0.25
        out.append((rng.choice(ACCOUNTS), symbol, rng.choice(("BUY", "SELL")), float(rng.randint(1, 3)), price))
    return out


def _kill_mid_commit(proc: subprocess.Popen[bytes], db: Path, before: int, skip: int, rng: random.Random) -> bool:
    """SIGKILL ``proc`` while it holds the write lock of a fill group, after the count has started rising and
    ``skip`` further transactions have gone by; returns whether the lock was held just before the kill (False:
    no such moment came within 20 s and the app was killed then). Closing ``fd`` drops this process's fcntl
    locks on the -shm file, so no sqlite3 connection of this process may be open then (``_query`` closes its
    own)."""
    fd = os.open(f"{db}-shm", os.O_RDONLY)
    try:
        deadline = time.monotonic() + 20
        rising = False
        held_before = False
        next_count = 0.0
        while time.monotonic() < deadline:
            now = time.monotonic()
            if not rising and now >= next_count:
                rising = _fill_count(db) > before
                next_count = now + 0.01
            held = _writer_pid(fd) == proc.pid
            if rising and held and not held_before:
                if skip == 0:
                    spin_until = time.perf_counter() + rng.uniform(0.0, 0.008)  # somewhere inside the transaction
                    while time.perf_counter() < spin_until:
                        pass
                    if _writer_pid(fd) == proc.pid:
                        proc.send_signal(signal.SIGKILL)
                        return True
                else:
                    skip -= 1
            held_before = held
            time.sleep(0.0002)
        proc.send_signal(signal.SIGKILL)
        return False
    finally:
        proc.wait(10)
        os.close(fd)


@pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL and the Linux struct flock layout")
@pytest.mark.timeout(150)
def test_sigkill_mid_group_commit_then_restart_stores_every_fill_once(tmp_path: Path) -> None:
    rng = random.Random(20251)
    scenario = Scenario(name="kill-mid-commit", accounts=tuple(AccountSpec(TradeAccount=a) for a in ACCOUNTS))
    sim = SimulatorServer(scenario, autoplay=False)
    sim.start()
    data_dir = tmp_path / "data"
    db = database_path(data_dir)
    proc = _start_app(sim.port, data_dir)
    kills: list[Kill] = []
    try:
        assert _wait_clients(sim, lambda n: n >= 1, 60), "the app never logged on"
        # one live fill stored: the app is synced and its live path works
        sim.fill(ACCOUNTS[0], SYMBOLS[0], "BUY", 1, BASE_PRICE[SYMBOLS[0]])
        assert _wait(lambda: db.exists() and _fill_count(db) == 1, 30), "the first live fill was not stored"
        for n in range(KILLS):
            before = _fill_count(db)
            assert before == len(sim.fill_log())
            sent = sim.burst(_burst(rng, BURST), cash_per_fill=None)
            assert sent.clients == 1
            in_transaction = _kill_mid_commit(proc, db, before, rng.randint(0, 2), rng)
            log = sim.fill_log()
            # what the kill left: whole groups only — a prefix of the fills, with its positions and trades
            at_kill = _fill_count(db)
            at_boundary = compare(db, Prefix(log, at_kill))  # type: ignore[arg-type]
            kill = Kill(before, at_kill, len(log), in_transaction, at_boundary)
            kills.append(kill)
            assert kill.problems_at_kill == [], f"kill {n + 1}: the database is not at a group boundary: {kill}"
            assert _wait_clients(sim, lambda c: c == 0, 10)
            # restart on the same data directory: it must fetch the missed fills with a 303
            answered = len(sim.history_requests())
            proc = _start_app(sim.port, data_dir)
            assert _wait_clients(sim, lambda c: c >= 1, 60), f"kill {n + 1}: the app did not log on again"
            problems: list[str] = []

            def settled() -> bool:
                nonlocal problems
                problems = compare(db, sim)
                return not problems

            assert _wait(settled, 30, 0.2), f"kill {n + 1}: after the restart: {problems} ({kill})"
            resync = sim.history_requests()[answered:]
            assert sum(r.fills_sent for r in resync) >= len(log) - at_kill, f"kill {n + 1}: no resync: {resync}"
            ids = [row[0] for row in _query(db, "SELECT execution_id FROM fillrecord")]
            assert len(ids) == len(set(ids)) == len(log), f"kill {n + 1}: {len(ids)} rows, {len(log)} fills"
            assert set(ids) == {f["execution_id"] for f in log}
        # the kills really landed inside the storing of a burst, inside a write transaction
        mid_burst = [k for k in kills if k.before < k.at_kill < k.burst_end]
        assert len(mid_burst) >= KILLS - 1, kills
        assert sum(k.in_transaction for k in mid_burst) >= KILLS - 1, kills
        assert _query(db, "SELECT count(*) FROM traderecord")[0][0] > KILLS * 10  # trades (compared above) closed
    finally:
        if proc.poll() is None:
            proc.kill()  # verified above; no need for a graceful exit
            proc.wait(10)
        sim.stop()

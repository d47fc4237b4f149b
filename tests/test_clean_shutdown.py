"""Closing the panel says goodbye to Sierra Chart and leaves a closed database: on SIGTERM, SIGINT and closing
the window the real app sends LOGOFF (5), closes SQLite and exits within 2 s. ``--heartbeat`` outside 1–300 s
is refused.

For the signals the real app runs as a separate process (as in ``tools.crash_torture``), for the window
``app_manager.main`` runs in this process; both against the DTC simulator on loopback. What is checked is
what the simulator received, how fast the app ended and the files SQLite left: closing the last connection
of a WAL database checkpoints it and deletes the ``-wal`` file, a process that dies with the database open
leaves it behind.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app_manager import main, parse_args
from data.db import database_path
from dtc.sim.scenario import AccountSpec, Scenario
from dtc.sim.server import SimulatorServer
from panels.main_window import MainWindow
from tools.crash_torture import _start_app, _wait_clients

EXIT_WITHIN_S = 2.0


def _fills(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM fillrecord").fetchone()[0]
    except sqlite3.OperationalError:  # not migrated yet
        return 0
    finally:
        conn.close()


def _wait(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.timeout(90)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_logs_off_closes_the_database_and_exits_within_two_seconds(tmp_path: Path, signum: int) -> None:
    sim = SimulatorServer(Scenario(name="shutdown", accounts=(AccountSpec("Sim1", 50_000.0),)), autoplay=False)
    sim.start()
    data_dir = tmp_path / "data"
    db = database_path(data_dir)
    proc = _start_app(sim.port, data_dir)
    try:
        assert _wait_clients(sim, lambda n: n >= 1, 60), "the app never logged on"
        sim.fill("Sim1", "MESZ25", "BUY", 1, 6000.00)
        assert _wait(lambda: _fills(db) == 1, 30), "the fill was not stored"
        sent = time.monotonic()
        proc.send_signal(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(EXIT_WITHIN_S + 3)
        elapsed = time.monotonic() - sent
        assert proc.poll() is not None, "the app is still running"
        assert elapsed < EXIT_WITHIN_S, f"the app took {elapsed:.2f} s to exit"
        assert _wait(lambda: bool(sim.logoffs_received()), 1.0), "Sierra Chart never received a LOGOFF"
        assert len(sim.logoffs_received()) == 1
        assert db.exists() and not Path(f"{db}-wal").exists(), "the database was left open (its WAL remains)"
        assert _fills(db) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        sim.stop()


@pytest.mark.timeout(90)
def test_closing_the_window_logs_off_and_closes_the_database_within_two_seconds(tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    """The whole ``app_manager.main`` in this process; the trader closes the window once it shows SYNCED."""
    sim = SimulatorServer(Scenario(name="close", accounts=(AccountSpec("Sim1", 50_000.0),)), autoplay=False)
    sim.start()
    data_dir = tmp_path / "data"
    root = logging.getLogger()
    saved_logging = root.handlers[:], root.level
    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    closed_at: list[float] = []

    def close_when_synced() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if closed_at or len(windows) != 1:
            return
        if windows[0].connection.text().startswith("● SYNCED"):
            closed_at.append(time.monotonic())
            windows[0].close()

    watcher = QTimer()
    watcher.timeout.connect(close_when_synced)
    watcher.start(50)
    give_up = QTimer(singleShot=True)
    give_up.timeout.connect(qapp.quit)  # never hang the suite
    give_up.start(30_000)
    try:
        code = main(["--host", "127.0.0.1", "--port", str(sim.port), "--data-dir", str(data_dir), "--heartbeat", "2"])
        returned = time.monotonic()
        assert closed_at, "the window never showed SYNCED"
        assert code == 0
        assert returned - closed_at[0] < EXIT_WITHIN_S
        assert _wait(lambda: bool(sim.logoffs_received()), 1.0), "Sierra Chart never received a LOGOFF"
        db = database_path(data_dir)
        assert db.exists() and not Path(f"{db}-wal").exists(), "the database was left open (its WAL remains)"
    finally:
        watcher.stop()
        give_up.stop()
        for handler in root.handlers:
            handler.close()
        root.handlers[:], level = saved_logging
        root.setLevel(level)
        for signum, handler in saved_signals.items():
            signal.signal(signum, handler)
        sim.stop()


@pytest.mark.parametrize("value", ["0", "-5", "301"])
def test_heartbeat_outside_one_to_three_hundred_seconds_is_refused(value: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exited:
        parse_args(["--heartbeat", value])
    assert exited.value.code == 2
    assert "--heartbeat: must be a whole number of seconds from 1 to 300" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1", "300"])
def test_heartbeat_from_one_to_three_hundred_seconds_is_accepted(value: str) -> None:
    assert parse_args(["--heartbeat", value]).heartbeat == int(value)

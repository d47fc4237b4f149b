"""Replay the real-server fixture messages (``../shared/fixtures/sierra_observed.jsonl``) through the running
app: the simulator sends each one raw over the socket to the app's DTC client, and the app's view of them is
printed — what was routed, what was skipped, accounts and balances, and what Sierra Chart reported.

    uv run python -m tools.replay_fixtures [--fixtures FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from app_manager import PanelApp, build_app
from core.settings import Settings
from core.snapshots import AppSnapshot, ConnectionState
from dtc.sim.server import SimulatorServer

DEFAULT_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "sierra_observed.jsonl"


def fixture_frames(path: Path) -> list[bytes]:
    """Each non-note line as the JSON frame a server would send (text + 0x00)."""
    frames = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and "_note" not in json.loads(line):
            frames.append(line.strip().encode() + b"\x00")
    return frames


def _pump(until: float, done: object = None) -> None:
    while time.monotonic() < until:
        QCoreApplication.processEvents()
        if done is not None and done():  # type: ignore[operator]
            return
        time.sleep(0.01)


def replay(path: Path, data_dir: Path) -> tuple[PanelApp, AppSnapshot]:
    """Run the app against the simulator, send the fixtures, return the app (stopped) and its last snapshot."""
    QApplication.instance() or QApplication([])
    sim = SimulatorServer(None, autoplay=False)
    sim.start()
    app = build_app(replace(Settings.for_directories(data_dir), host="127.0.0.1", port=sim.port, heartbeat_seconds=5))
    app.start()
    try:
        _pump(time.monotonic() + 10, lambda: app.window.last_snapshot.connection.state == ConnectionState.SYNCED)
        app.state.set_scope("SIM", "Sim1")
        for frame in fixture_frames(path):
            sim.send_raw(frame)
        _pump(time.monotonic() + 2)
        app.state.publish(force=True)
        _pump(time.monotonic() + 0.3)
    finally:
        app.stop()
        sim.stop()
    snap = app.window.last_snapshot
    assert snap is not None
    return app, snap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.replay_fixtures", description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        app, snap = replay(args.fixtures, Path(tmp) / "data")
    print(f"frames sent: {len(fixture_frames(args.fixtures))}")
    print("routed:", dict(sorted(app.router.routed.items())))
    print("skipped as bad input:", dict(app.router.bad_input) or "none")
    for account in snap.accounts:
        print(f"account {account.mode} {account.account}: cash {account.cash_balance} {account.currency}")
    for broker in snap.broker_only:
        where = f"{broker.mode} {broker.account} {broker.symbol}"
        print(f"Sierra Chart reports {where} {broker.quantity} @ {broker.average_price}")
    connection = f"{snap.connection.state.value} {snap.connection.detail}".strip()
    print(f"positions status: {snap.positions_status!r}; connection: {connection}")
    for n in snap.notifications:
        print(f"notification [{n.kind}] {n.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

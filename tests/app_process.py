"""Running the real app (``app_manager.py``) as a separate process in tests, the way a trader starts it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def app_command(data_dir: Path, *extra: str, seconds: float = 0.5) -> list[str]:
    """``app_manager.py --no-connect --data-dir DATA_DIR`` that quits by itself after ``seconds``."""
    shot = data_dir.parent / f"{data_dir.name}-screenshot.png"
    return [sys.executable, str(ROOT / "app_manager.py"), "--no-connect", "--data-dir", str(data_dir),
            "--screenshot", str(shot), "--after", str(seconds), *extra]  # fmt: skip


def app_env() -> dict[str, str]:
    """The environment of the app process: offscreen Qt (no display), no password prompt."""
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")


def run_app(data_dir: Path, *extra: str, seconds: float = 0.5, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Start the app on ``data_dir``, let it run ``seconds`` (if it starts at all), and return how it ended."""
    return subprocess.run(
        app_command(data_dir, *extra, seconds=seconds),
        cwd=ROOT,
        env=app_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_app(data_dir: Path, *extra: str, seconds: float = 60) -> subprocess.Popen[str]:
    """Start the app on ``data_dir`` in the background (it quits by itself after ``seconds``)."""
    return subprocess.Popen(
        app_command(data_dir, *extra, seconds=seconds),
        cwd=ROOT,
        env=app_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    """Poll ``predicate`` every 50 ms until it holds; ``AssertionError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def app_is_up(data_dir: Path) -> bool:
    """Whether the app on ``data_dir`` has opened its database and recovered the stored positions (its log says
    so)."""
    log = data_dir / "logs" / "dtc-panel.log"
    return log.exists() and "open position(s) from the database" in log.read_text(encoding="utf-8", errors="replace")

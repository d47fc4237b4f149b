"""One copy of the app per data folder: a second copy started on the same folder refuses to run and says
which process holds it; the lock of a copy that crashed is taken over. Real app processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.app_process import app_is_up, run_app, start_app, wait_for


@pytest.mark.timeout(180)
def test_second_copy_on_the_same_folder_says_who_holds_it_and_exits(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_app(data_dir, seconds=60)
    try:
        wait_for(lambda: app_is_up(data_dir) or first.poll() is not None, what="the first copy to start")
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        second = run_app(data_dir)
        assert second.returncode != 0
        assert "already in use" in second.stderr
        assert f"process {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first copy keeps running, untouched
    finally:
        first.terminate()
        first.communicate(timeout=30)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.timeout(180)
def test_copy_started_after_a_crash_takes_the_folder_over(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    crashed = start_app(data_dir, seconds=60)
    wait_for(lambda: app_is_up(data_dir) or crashed.poll() is not None, what="the first copy to start")
    crashed.send_signal(signal.SIGKILL)
    crashed.communicate(timeout=30)
    again = run_app(data_dir)
    assert again.returncode == 0, again.stderr
    assert "already in use" not in again.stderr

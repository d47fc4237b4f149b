"""Crash torture in CI: the real app process is SIGKILLed ten times while the simulator keeps filling
orders; afterwards its database must equal the simulator's ground truth (fills, positions, trades).
The long run is ``uv run python -m tools.crash_torture --kills 200``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.crash_torture import run


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.timeout(240)
def test_ten_kills_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    tally = run(10, tmp_path / "data", seed=7, verbose=False)
    assert tally.kills == 10 and tally.fills > 100
    assert tally.problems == []

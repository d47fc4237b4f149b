"""Test setup: Qt offscreen before any QApplication exists; every path under pytest's tmp_path; no test ever
reaches the developer's real keyring."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The app started as a separate process (``tests/app_process.py`` and the like inherit this environment) finds no
# keyring at all, as on a headless box: it keeps the API token in its config folder, reads no stored password.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from dtc.sim.server import SimulatorServer
from tests.memory_keyring import MemoryKeyring

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "fixtures" / "sierra_observed.jsonl"


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test in this process gets an empty in-memory keyring of its own (what it stores is gone after it)."""
    import keyring

    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(MemoryKeyring())  # nothing of this test's entries outlives it


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    """The DTC simulator on loopback with no scenario (one account, Sim1), nothing played by itself; a test
    module that needs other accounts or instruments defines its own ``simulator``."""
    server = SimulatorServer(None, autoplay=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data, config and log directories are all under ``tmp_path``."""
    return Settings.for_directories(tmp_path / "data")


def fixture_messages() -> list[dict]:
    """The real-server messages of ``../shared/fixtures/sierra_observed.jsonl`` (notes left out)."""
    if not FIXTURES.exists():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    out = []
    for line in FIXTURES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            if "_note" not in obj:
                out.append(obj)
    return out

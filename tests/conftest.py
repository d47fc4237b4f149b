"""Test setup: Qt offscreen before any QApplication exists; every path under pytest's tmp_path."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
from pathlib import Path

import pytest

from core.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "fixtures" / "sierra_observed.jsonl"


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

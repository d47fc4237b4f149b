"""The local API's token (issue 16) where it is kept: in the system keyring (here the tests' in-memory one,
``tests/memory_keyring.py``), or, where no keyring exists, in ``<config dir>/api-token`` readable by the user
only. And that no test reaches the developer's real keyring."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from core.local_api import KEYRING_NAME, TOKEN_FILENAME, ApiToken
from core.secrets import SERVICE
from tests.app_process import ROOT, app_env
from tests.memory_keyring import MemoryKeyring

ENTRY = (SERVICE, KEYRING_NAME)


def test_the_token_is_kept_in_the_keyring_not_in_a_file_and_regenerate_replaces_it(  # type: ignore[no-untyped-def]
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    config = tmp_path / "config"
    token = ApiToken(config)
    first = token.current()
    assert memory_keyring.entries == {ENTRY: first}
    assert not (config / TOKEN_FILENAME).exists()
    assert ApiToken(config).current() == first  # the next run of the panel serves the same token

    second = token.regenerate()
    assert second != first and memory_keyring.entries == {ENTRY: second}
    assert token.matches(second) and not token.matches(first)
    again = ApiToken(config)  # the next run reads the new one from the keyring
    assert again.current() == second and not again.matches(first)
    assert not (config / TOKEN_FILENAME).exists()


def test_a_token_file_left_from_a_machine_without_keyring_is_removed_when_the_keyring_takes_over(  # type: ignore[no-untyped-def]
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / TOKEN_FILENAME).write_text("old-token-from-the-file", encoding="ascii")
    token = ApiToken(config)
    assert token.current() == "old-token-from-the-file"  # still served until it is regenerated
    new = token.regenerate()
    assert memory_keyring.entries == {ENTRY: new}
    assert not (config / TOKEN_FILENAME).exists()  # the old token cannot outlive the regenerate
    assert ApiToken(config).current() == new


def test_without_a_keyring_the_token_is_kept_in_a_file_of_the_user_only(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())  # a headless box
    config = tmp_path / "config"
    token = ApiToken(config)
    first = token.current()
    path = config / TOKEN_FILENAME
    assert path.read_text(encoding="ascii") == first
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = token.regenerate()
    assert path.read_text(encoding="ascii") == second != first
    assert ApiToken(config).current() == second


def test_no_test_reaches_the_real_keyring(memory_keyring: MemoryKeyring) -> None:
    assert keyring.get_keyring() is memory_keyring
    # the app started as a separate process, with the tests' environment, finds no keyring at all
    probe = "import keyring; b = keyring.get_keyring(); print(type(b).__module__ + '.' + type(b).__name__)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=app_env(), capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "keyring.backends.fail.Keyring"


@pytest.mark.parametrize("step", ["store", "read"])
def test_each_test_starts_with_an_empty_keyring(step: str, memory_keyring: MemoryKeyring) -> None:
    """What one test stores is gone for the next (pytest runs these two in order)."""
    assert keyring.get_password(*ENTRY) is None
    keyring.set_password(*ENTRY, f"stored by {step}")

"""Files and folders readable by the trader only: 0700 folders and 0600 files on POSIX (positions, fills and
P&L are nobody else's business on a shared computer). On Windows the user's profile folders are already
private and nothing is changed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
"""Everything the process creates (database, WAL, logs, settings, backups) gets no group or other bits."""


def _posix() -> bool:
    return os.name == "posix"


def restrict_new_files() -> None:
    """From now on this process creates files and folders for the user only (POSIX umask 077)."""
    if _posix():
        os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed and make it 0700. Raises ``OSError``."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    tighten(path)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it does not exist and make it 0600. Raises ``OSError``."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600))
    tighten(path)
    return path


def tighten(path: Path) -> None:
    """Take the group and other bits off an existing file or folder (POSIX; not following symlinks). One that
    cannot be changed (owned by someone else, a read-only file system) is left as it is."""
    if not _posix():
        return
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode) or not mode & 0o077:
        return
    try:
        path.chmod(stat.S_IMODE(mode) & 0o700)
    except OSError:  # not ours, or a read-only file system: the start-up checks say what matters
        return

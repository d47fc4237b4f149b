"""One copy of the app per data folder: an OS file lock on ``<data dir>/dtc-panel.lock``, taken before the
database is opened and held until the process ends.

The lock is the operating system's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), so it goes
with the process that held it: after a crash or a kill the next copy simply takes it (a "stale" lock cannot
outlive its process, whatever the PID is reused for). The holder writes who it is (process id, computer,
start time) into the file so that a second copy can say which process holds the folder.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import IO

LOCK_FILENAME = "dtc-panel.lock"
_WINDOWS_LOCK_OFFSET = 1 << 30
"""Windows locks a byte range and a locked range cannot be read by others: the lock is on one byte far past
the owner text, which stays readable."""


class FolderLocked(RuntimeError):
    """Another running copy of the app holds the data folder. ``owner`` describes it (may be empty)."""

    def __init__(self, folder: Path, owner: str) -> None:
        self.folder = folder
        self.owner = owner
        super().__init__(f"{folder} is in use by {owner or 'another copy of DTC Panel'}")


def _try_lock(handle: IO[bytes]) -> bool:
    """Take the OS lock on ``handle`` without waiting; False if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        handle.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def describe_owner(text: str) -> str:
    """``process 1234 on TRADER-PC (started 2025-11-20 08:31)`` from the owner text a holder wrote."""
    try:
        info = json.loads(text)
        return f"process {int(info['pid'])} on {info['host']} (started {info['started']})"
    except (ValueError, KeyError, TypeError):
        return ""


class DataFolderLock:
    """The lock of one data folder. ``acquire()`` takes it or raises ``FolderLocked``; ``release()`` (or the
    process ending) gives it back."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_FILENAME
        self._handle: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the folder. Raises ``FolderLocked`` if another process holds it, ``OSError`` if the lock file
        cannot be created (e.g. a read-only folder)."""
        if self._handle is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        handle = os.fdopen(fd, "r+b", buffering=0)
        if not _try_lock(handle):
            handle.seek(0)
            owner = handle.read(4096).split(b"\0", 1)[0].decode("utf-8", errors="replace")
            handle.close()
            raise FolderLocked(self.folder, describe_owner(owner))
        started = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        owner_text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started})
        handle.seek(0)
        handle.truncate(0)
        handle.write(owner_text.encode("utf-8") + b"\0")
        os.fsync(handle.fileno())
        self._handle = handle

    def release(self) -> None:
        """Give the folder back (the file stays; it is only a lock while a process holds it)."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            _unlock(handle)
        finally:
            handle.close()

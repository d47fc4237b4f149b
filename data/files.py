"""Writing a file so a crash leaves the old one or the new one, never a part — the one implementation the
settings, the backups and the simulator's world file share.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a temporary file in the same folder, fsync, ``os.replace``, then the
    folder synced. Raises ``OSError`` (the old file is then unchanged and no temporary file is left)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    replaced = False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        replaced = True
    finally:
        if not replaced:  # never leave a half-written temporary file behind
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    sync_directory(path.parent)


def sync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open a folder for this and needs no call).
    Best effort: the file is already in place, so a file system that cannot sync a folder only logs it."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        log.info("could not sync folder %s: %s", folder, exc)

"""Rolling backups of the database with SQLite's online backup API, in ``<data dir>/backups``.

A backup is taken once a day (the first start after 24 hours) and before every schema migration; the newest
``KEEP[kind]`` of each kind are kept. A backup is written under a temporary name and renamed when complete,
so a crash mid-backup never leaves a half file that looks like a backup. ``newest_good_backup`` checks each
candidate with ``PRAGMA quick_check`` before offering it.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from data.files import sync_directory
from data.private import private_dir, tighten

log = logging.getLogger(__name__)

BACKUPS_DIRNAME = "backups"
DAILY = "daily"
BEFORE_MIGRATION = "before-migration"
KEEP = {DAILY: 7, BEFORE_MIGRATION: 3}
"""How many backups of each kind are kept (the oldest go first)."""
DAILY_INTERVAL = timedelta(hours=24)
_STAMP = "%Y-%m-%d_%H%M%S"
_NAME = re.compile(r"^dtc-panel_(?P<stamp>\d{4}-\d{2}-\d{2}_\d{6})_(?P<kind>[a-z-]+)\.db$")


@dataclass(frozen=True)
class Backup:
    """One backup file; ``taken`` UTC."""

    path: Path
    kind: str
    taken: datetime

    def describe(self) -> str:
        """``2025-11-20 14:30 (daily)`` in this computer's time zone."""
        return f"{self.taken.astimezone().strftime('%Y-%m-%d %H:%M')} ({self.kind})"


def backups_dir(data_dir: Path) -> Path:
    """``<data dir>/backups``."""
    return data_dir / BACKUPS_DIRNAME


def list_backups(data_dir: Path) -> list[Backup]:
    """Every backup in ``<data dir>/backups``, newest first."""
    folder = backups_dir(data_dir)
    if not folder.is_dir():
        return []
    out = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            taken = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
            out.append(Backup(path, match["kind"], taken))
    return sorted(out, key=lambda b: (b.taken, b.path.name), reverse=True)


def copy_database(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` (WAL included) to ``target`` with the online backup API: a
    consistent copy even while another connection writes. ``target`` appears only when complete (0600).
    Raises ``sqlite3.Error`` or ``OSError``."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600))
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    tighten(partial)
    os.replace(partial, target)
    sync_directory(target.parent)


def take_backup(db_path: Path, data_dir: Path, kind: str, now: datetime | None = None) -> Backup:
    """Back the database up into ``<data dir>/backups`` and drop the oldest of ``kind`` beyond ``KEEP``.
    Raises ``sqlite3.Error`` or ``OSError``."""
    taken = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    folder = private_dir(backups_dir(data_dir))
    backup = Backup(folder / f"dtc-panel_{taken.strftime(_STAMP)}_{kind}.db", kind, taken)
    copy_database(db_path, backup.path)
    log.info("database backed up to %s", backup.path)
    for old in [b for b in list_backups(data_dir) if b.kind == kind][KEEP.get(kind, 3) :]:
        old.path.unlink(missing_ok=True)
        log.info("old backup %s removed", old.path.name)
    return backup


def daily_backup_due(data_dir: Path, now: datetime | None = None) -> bool:
    """Whether the newest daily backup is older than ``DAILY_INTERVAL`` (or there is none)."""
    now = now or datetime.now(UTC)
    return not any(b.kind == DAILY and now - b.taken < DAILY_INTERVAL for b in list_backups(data_dir))


def is_good(path: Path) -> bool:
    """Whether ``path`` is a readable SQLite database that passes ``PRAGMA quick_check``."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def newest_good_backup(data_dir: Path) -> Backup | None:
    """The newest backup that passes ``quick_check`` (``None`` if there is none)."""
    for backup in list_backups(data_dir):
        if is_good(backup.path):
            return backup
        log.warning("backup %s is damaged; skipped", backup.path.name)
    return None

"""Opening the data folder at start-up, checked: one copy per folder, a database that is what it claims to be,
a backup before every migration and once a day.

``open_storage`` takes the folder's lock before anything touches the database, then checks the file
(``PRAGMA quick_check``, its schema revision) and opens the engine. Whatever stops it is a ``StartupProblem``
with a kind, a plain sentence of what happened and one of what to do — never a traceback. A damaged file is
never opened as if it were fine: with ``restore=True`` it is moved into ``<data dir>/damaged`` and the newest
good backup (or, if there is none, an empty database) takes its place; the fills Sierra Chart's history
still holds are fetched again by the normal resync after logon.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from data.backup import (
    BEFORE_MIGRATION,
    DAILY,
    Backup,
    copy_database,
    daily_backup_due,
    newest_good_backup,
    take_backup,
)
from data.db import database_path, make_engine
from data.lock import DataFolderLock, FolderLocked
from data.migrate import HEAD_REVISION, known_revision
from data.private import private_dir, private_file, tighten

log = logging.getLogger(__name__)

DAMAGED_DIRNAME = "damaged"
_SIDE_FILES = ("-wal", "-shm", "-journal")


class Problem(StrEnum):
    LOCKED = "locked"
    NOT_WRITABLE = "not writable"
    NOT_A_FILE = "not a file"
    DAMAGED = "damaged"
    NEWER_SCHEMA = "newer schema"
    CANNOT_OPEN = "cannot open"


class StartupProblem(RuntimeError):
    """The data folder or its database cannot be used. ``text`` says what happened, ``advice`` what to do;
    ``backup`` is the newest good backup (a damaged database only)."""

    def __init__(self, kind: Problem, text: str, advice: str, backup: Backup | None = None) -> None:
        super().__init__(f"{text}\n{advice}")
        self.kind = kind
        self.text = text
        self.advice = advice
        self.backup = backup


@dataclass
class OpenedStorage:
    """The open database and the folder's lock (held until ``close`` or the process ends). ``notes`` are
    what the trader should read in the window (a restored backup, the damaged file's new place)."""

    engine: Engine
    lock: DataFolderLock
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.engine.dispose()
        self.lock.release()


def _check_writable(data_dir: Path) -> None:
    """Create and remove a probe file: a read-only folder (or a full disk) fails here, before SQLite."""
    try:
        private_dir(data_dir)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise StartupProblem(
            Problem.NOT_WRITABLE,
            f"DTC Panel cannot write to its data folder {data_dir} ({exc.strerror or exc}).",
            "What to do: make the folder writable for your user (or free disk space), or start with "
            "--data-dir pointing at a folder you can write to.",
        ) from exc


def _lock(data_dir: Path) -> DataFolderLock:
    lock = DataFolderLock(data_dir)
    try:
        lock.acquire()
    except FolderLocked as exc:
        raise StartupProblem(
            Problem.LOCKED,
            f"The data folder {data_dir} is already in use by {exc.owner or 'another copy of DTC Panel'}.",
            "What to do: use the copy that is running, or close it first. Two copies on one folder would "
            "store every fill twice and spoil the positions; a second setup needs its own --data-dir.",
        ) from exc
    except OSError as exc:
        raise StartupProblem(
            Problem.NOT_WRITABLE,
            f"DTC Panel cannot lock its data folder {data_dir} ({exc.strerror or exc}).",
            "What to do: make the folder writable for your user, or start with --data-dir pointing at a "
            "folder you can write to.",
        ) from exc
    return lock


def _stored_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no table: a new or pre-migration database
        return None
    return str(row[0]) if row else None


def _damage(db: Path) -> str | None:
    """What is wrong with the database file (``None``: it passes ``quick_check``)."""
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "malformed" not in str(exc) and "not a database" not in str(exc):
            raise
        return str(exc)
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        return str(exc)
    if rows == ["ok"]:
        return None
    first = rows[0].splitlines()
    return (first[-1] if first else "quick_check failed") + (f" (+{len(rows) - 1} more)" if len(rows) > 1 else "")


def _set_aside(data_dir: Path, db: Path) -> Path:
    """Move the damaged database (and its WAL) into ``<data dir>/damaged``; returns its new path."""
    folder = private_dir(data_dir / DAMAGED_DIRNAME)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d_%H%M%S")
    target = folder / f"{db.stem}_{stamp}{db.suffix}"
    shutil.move(db, target)
    for suffix in _SIDE_FILES:
        side = db.with_name(db.name + suffix)
        if side.exists():
            shutil.move(side, target.with_name(target.name + suffix))
    log.warning("damaged database moved to %s", target)
    return target


def _restore(data_dir: Path, db: Path, detail: str) -> str:
    """Put the damaged file aside and the newest good backup (or nothing: a new database) in its place."""
    backup = newest_good_backup(data_dir)
    kept = _set_aside(data_dir, db)
    if backup is None:
        return (
            f"The database was damaged ({detail}); there was no good backup, so an empty database was started. "
            f"The damaged file is kept at {kept}. Fills Sierra Chart's history still holds are fetched again."
        )
    copy_database(backup.path, db)
    log.warning("database restored from backup %s", backup.path)
    return (
        f"The database was damaged ({detail}) and the backup of {backup.describe()} was restored. "
        f"The damaged file is kept at {kept}. Fills since the backup are fetched again from Sierra Chart's history "
        "after logon; check the positions when it has synced."
    )


def _check_file(data_dir: Path, db: Path, restore: bool) -> tuple[str | None, list[str]]:
    """Check the database file; returns (its stored schema revision, notes for the trader)."""
    if db.exists() and not db.is_file():
        raise StartupProblem(
            Problem.NOT_A_FILE,
            f"There is a folder (or another non-file) where the database file should be: {db}.",
            "What to do: move or rename it, then start again; a new database is created and Sierra Chart's "
            "fill history is fetched again.",
        )
    if not db.exists() or db.stat().st_size == 0:
        return None, []
    try:
        detail = _damage(db)
    except sqlite3.Error as exc:
        raise StartupProblem(
            Problem.CANNOT_OPEN,
            f"DTC Panel cannot open its database {db} ({exc}).",
            "What to do: check that the file and its folder are readable and writable for your user and "
            "that no other program holds it, then start again.",
        ) from exc
    if detail is not None:
        if restore:
            return None, [_restore(data_dir, db, detail)]
        backup = newest_good_backup(data_dir)
        offer = (
            f"restore the newest good backup, of {backup.describe()}"
            if backup is not None
            else "there is no good backup: set the damaged file aside and start with an empty database"
        )
        raise StartupProblem(
            Problem.DAMAGED,
            f"The database {db} is damaged ({detail}). It is not used: positions and statistics read from it "
            "could be wrong.",
            f"What to do: {offer} — start with --restore-backup (or choose it in the window). The damaged file "
            f"is kept in {data_dir / DAMAGED_DIRNAME}; fills Sierra Chart's history still holds are fetched "
            "again after logon.",
            backup,
        )
    conn = sqlite3.connect(db, timeout=5)
    try:
        revision = _stored_revision(conn)
    finally:
        conn.close()
    if revision is not None and revision != HEAD_REVISION and not known_revision(revision):
        raise StartupProblem(
            Problem.NEWER_SCHEMA,
            f"The database {db} was written by a newer version of DTC Panel (schema {revision}; this version "
            f"knows up to {HEAD_REVISION}). The file was not changed.",
            "What to do: run the newer version of DTC Panel, or start this one with another --data-dir.",
        )
    return revision, []


def _open(data_dir: Path, restore: bool) -> tuple[Engine, list[str]]:
    db = database_path(data_dir)
    revision, notes = _check_file(data_dir, db, restore)
    private_file(db)  # before SQLite creates it: its -wal and -shm take the same (private) mode
    for suffix in _SIDE_FILES:
        tighten(db.with_name(db.name + suffix))
    if revision is not None and revision != HEAD_REVISION:
        _backup(data_dir, db, BEFORE_MIGRATION)
    try:
        engine = make_engine(data_dir)
    except (SQLAlchemyError, OSError) as exc:
        raise StartupProblem(
            Problem.CANNOT_OPEN,
            f"DTC Panel cannot open or upgrade its database {db} ({exc.__class__.__name__}: {exc}).",
            f"What to do: a copy taken before any upgrade is in {data_dir / 'backups'}; check the log in the "
            "logs folder, free disk space if it is full, and start again.",
        ) from exc
    if daily_backup_due(data_dir):
        _backup(data_dir, db, DAILY)
    return engine, notes


def _backup(data_dir: Path, db: Path, kind: str) -> None:
    """A backup that fails is logged and the start goes on (the database itself is fine)."""
    try:
        take_backup(db, data_dir, kind)
    except (sqlite3.Error, OSError) as exc:
        log.error("cannot back the database up (%s): %s", kind, exc)


def open_storage(data_dir: Path, restore: bool = False) -> OpenedStorage:
    """Lock ``data_dir``, check its database and open it (migrated, backed up once a day and before a
    migration). ``restore``: if the database is damaged, set it aside and restore the newest good backup.

    Raises ``StartupProblem``; the folder is not left locked then.
    """
    _check_writable(data_dir)
    lock = _lock(data_dir)
    try:
        engine, notes = _open(data_dir, restore)
    except BaseException:
        lock.release()
        raise
    return OpenedStorage(engine, lock, notes)

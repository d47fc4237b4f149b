"""The SQLite engine: one file per data directory, WAL + ``synchronous=FULL`` set on every connection."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from data.migrate import upgrade

DB_FILENAME = "dtc-panel.db"
BUSY_TIMEOUT_MS = 5000


def database_path(data_dir: Path) -> Path:
    """``<data dir>/dtc-panel.db``."""
    return data_dir / DB_FILENAME


def _pragma_setter(busy_timeout_ms: int) -> Any:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Executed directly on the DBAPI connection: SQLAlchemy's documented example relies on
        # ``conn.autocommit``, which Python 3.11's sqlite3 does not have.
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        finally:
            cursor.close()

    return set_pragmas


def make_engine(data_dir: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """Open (creating if needed) ``<data_dir>/dtc-panel.db`` with the project's pragmas, migrated to the newest
    schema.

    ``busy_timeout_ms`` is how long a write waits for another writer's lock before failing.
    Raises ``sqlalchemy.exc.OperationalError`` if the file cannot be opened or created.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{database_path(data_dir)}",
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )
    event.listen(engine, "connect", _pragma_setter(busy_timeout_ms))
    upgrade(engine)
    return engine

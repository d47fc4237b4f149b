"""Schema migrations (Alembic), run automatically when the database is opened.

A trader's existing database is upgraded in place to the newest revision; every row is kept. A database
created before migrations existed (tables present, no ``alembic_version``) is stamped as revision 0001 first.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE_REVISION = "0001"


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this program knows."""
    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: newest). Raises ``sqlalchemy.exc.SQLAlchemyError`` or
    ``alembic.util.CommandError`` if a migration fails; the failed migration's transaction is rolled back."""
    with engine.begin() as conn:
        config = _config(conn)
        tables = set(inspect(conn).get_table_names())
        if "alembic_version" not in tables and "openposition" in tables:
            log.warning("database predates migrations: stamping it as revision %s", BASELINE_REVISION)
            command.stamp(config, BASELINE_REVISION)
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(config, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)

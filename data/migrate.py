"""Schema migrations (Alembic), run automatically when the database is opened.

A trader's existing database is upgraded in place to the newest revision; every row is kept. A database
created before migrations existed (tables present, no ``alembic_version``) is stamped as revision 0001 first.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE_REVISION = "0001"
HEAD_REVISION = "0009"
"""The newest revision in ``migrations/versions`` (a test checks it against Alembic's head). A database already
at it is opened without importing Alembic, which saves about 0.1 s of every start (0.4 s without bytecode cache)."""


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError:  # no alembic_version table: a new or pre-migration database
        return None


def _config(connection: object) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this program knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert head is not None
    return head


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this program's migrations (a database of a newer version is not)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(_config(None)).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: newest). Raises ``sqlalchemy.exc.SQLAlchemyError`` or
    ``alembic.util.CommandError`` if a migration fails; the failed migration's transaction is rolled back."""
    if revision == "head" and _stored_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext

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

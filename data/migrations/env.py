"""Alembic environment: runs on the connection ``data.migrate.upgrade`` passes in (no ini file, no URL)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from data import models  # noqa: F401  (target metadata)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

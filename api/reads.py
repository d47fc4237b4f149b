"""What the local API reads from the database: through the existing repository, on connections of its own.

The API never shares the app's engine or its connections: ``ApiReader`` opens its own engine on the same
file with ``PRAGMA query_only`` (nothing here can write), and every call runs on a worker thread of the API
(``asyncio.to_thread``), never on the DTC thread, the GUI thread or the API's event loop. SQLite in WAL mode
lets these reads run beside the app's writer without blocking it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from data.db import BUSY_TIMEOUT_MS, database_path
from data.fill_queries import realized_since
from data.models import TradeRecord
from data.repository import PositionStore
from data.trade_queries import newest_trade_id, trades_after_as_stored


def _read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA query_only=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()


def read_only_engine(data_dir: Path) -> Engine:
    """An engine on ``<data_dir>/dtc-panel.db`` whose connections refuse every write (``query_only``). The
    database must exist (the app created and migrated it); nothing is created or migrated here."""
    path = database_path(data_dir)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _read_only_pragmas)
    return engine


@dataclass(frozen=True)
class AccountToday:
    """Today's booked figures of one account: realized since the session start (net of commissions, every
    fill since then, partial exits included) and the number of trades closed since, in account currency."""

    mode: str
    account: str
    realized: Decimal
    trades: int


class ApiReader:
    """The API's reads. Every method blocks (SQLite) and raises ``data.repository.StorageError``."""

    def __init__(self, data_dir: Path) -> None:
        self.engine = read_only_engine(data_dir)
        self.store = PositionStore(self.engine)

    def newest_trade_id(self) -> int:
        return newest_trade_id(self.engine)

    def trades_after(self, after_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Trades of every scope stored after ``after_id`` as stored values (``data.trade_queries``)."""
        return trades_after_as_stored(self.engine, after_id, limit)

    def trades_since(
        self, since: datetime, mode: str | None = None, account: str | None = None, limit: int = 1000
    ) -> list[TradeRecord]:
        return self.store.trades_exited_since(since, mode, account, limit)

    def today(self, scopes: list[tuple[str, str]], day_start: datetime) -> list[AccountToday]:
        """Per (mode, account): realized P&L since ``day_start`` and the trades closed since."""
        counts: dict[tuple[str, str], int] = {}
        for row in self.store.trades_exited_since(day_start, limit=1_000_000):  # as the window counts: all
            counts[(row.mode, row.account)] = counts.get((row.mode, row.account), 0) + 1
        out = []
        for mode, account in scopes:
            _, realized = realized_since(self.engine, mode, account, day_start)
            out.append(AccountToday(mode, account, realized, counts.get((mode, account), 0)))
        return out

    def close(self) -> None:
        self.engine.dispose()

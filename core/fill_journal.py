"""``FillJournal``: fills the database could not take yet, kept in a JSON-lines file so that a quit (or a
crash) does not lose them.

While the database refuses writes (disk full, read-only, locked) the ledger holds fills in memory and
retries; each fill it starts holding is also appended here and ``fsync``ed. Once every held fill is stored
the journal is emptied. At the next start the journaled fills are held again and stored like any held
fill — each once: a fill whose execution id is already stored is skipped, so replaying the journal (or
Sierra Chart's history sending the same fills) never stores anything twice.

One line per fill: ``{"fill": {...}, "reason": "fill"}``; money, quantities and prices as decimal strings,
times ISO 8601 UTC. A torn last line (a crash mid-append) is skipped.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from core.accounting import Fill, InvalidFill

log = logging.getLogger(__name__)

JOURNAL_FILENAME = "held-fills.jsonl"


def _encode(fill: Fill, reason: str) -> str:
    data: dict[str, Any] = {
        "execution_id": fill.execution_id,
        "account": fill.account,
        "symbol": fill.symbol,
        "quantity": str(fill.quantity),
        "price": str(fill.price),
        "time": fill.time.isoformat(),
        "commission": str(fill.commission),
        "server_order_id": fill.server_order_id,
        "source": fill.source,
    }
    return json.dumps({"fill": data, "reason": reason}, separators=(",", ":"))


def _decode(line: str) -> tuple[Fill, str]:
    """Raises ``ValueError`` (bad JSON, a missing key, a bad number or time) or ``InvalidFill``."""
    obj = json.loads(line)
    f = obj["fill"]
    try:
        fill = Fill(
            execution_id=str(f["execution_id"]),
            account=str(f["account"]),
            symbol=str(f["symbol"]),
            quantity=Decimal(f["quantity"]),
            price=Decimal(f["price"]),
            time=datetime.fromisoformat(f["time"]),
            commission=Decimal(f["commission"]),
            server_order_id=str(f["server_order_id"]),
            source=str(f["source"]),
        )
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise ValueError(f"{exc.__class__.__name__}: {exc}") from exc
    return fill, str(obj.get("reason", "fill"))


class FillJournal:
    """An append-only file of held fills (``path``, created 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, items: Iterable[tuple[Fill, str]]) -> None:
        """Append (fill, reason) pairs and ``fsync`` them. Raises ``OSError`` (e.g. the disk is full)."""
        text = "".join(_encode(fill, reason) + "\n" for fill, reason in items)
        if not text:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        try:
            data = text.encode("utf-8")
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[tuple[Fill, str]]:
        """The journaled (fill, reason) pairs, oldest first; unreadable lines are logged and skipped.
        Raises ``OSError`` if the file exists but cannot be read."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        out: list[tuple[Fill, str]] = []
        for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(_decode(line))
            except (ValueError, InvalidFill) as exc:
                log.error("%s line %d skipped: %s", self.path.name, number, exc)
        return out

    def clear(self) -> None:
        """Empty the journal (every fill in it is stored). Raises ``OSError``."""
        self.path.unlink(missing_ok=True)

"""One-time import of the old panel's timer files ``state_{mode}_{account}.json`` from the data directory.

Those files held only timer state — ``entry_time_epoch``, ``heat_start_epoch``, ``trade_min_price``,
``trade_max_price`` (UTC epoch seconds / points) — for the one position of a (mode, account). If that scope
has exactly one open position, an earlier entry time and wider trade extremes are taken into it (the heat
start is not kept: heat is recomputed from live prices). Every file is then renamed to ``*.imported`` so it
is never read twice, and the import is recorded as a ``PositionEvent`` (kind ``imported``).
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.records import replace_position, stored_positions
from data.repository import PositionStore

log = logging.getLogger(__name__)

PATTERN = re.compile(r"^state_(?P<mode>sim|live)_(?P<account>.+)\.json$", re.IGNORECASE)


@dataclass(frozen=True)
class LegacyResult:
    path: Path
    applied_to: str | None
    note: str


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def import_legacy_files(data_dir: Path, store: PositionStore) -> list[LegacyResult]:
    """Import and rename every legacy timer file in ``data_dir``. Unreadable files are renamed to
    ``*.unreadable`` and reported; nothing here raises except ``StorageError`` from the database."""
    results = []
    positions = stored_positions(store)
    for path in sorted(data_dir.glob("state_*.json")):
        match = PATTERN.match(path.name)
        if not match:
            continue
        mode, account = match["mode"].upper(), match["account"]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            path.rename(path.with_suffix(".json.unreadable"))
            results.append(LegacyResult(path, None, f"unreadable: {exc}"))
            log.warning("legacy file %s unreadable: %s", path.name, exc)
            continue
        matches = [p for p in positions if p.mode == mode and p.position.account == account]
        if len(matches) != 1:
            note = "no open position in that scope" if not matches else "several open positions: ambiguous"
            path.rename(path.with_suffix(".json.imported"))
            results.append(LegacyResult(path, None, note))
            log.info("legacy file %s not applied: %s", path.name, note)
            continue
        item = matches[0]
        pos = item.position
        entry = _number(data.get("entry_time_epoch"))
        low, high = _number(data.get("trade_min_price")), _number(data.get("trade_max_price"))
        changes: dict[str, object] = {}
        if entry is not None and entry > 0:
            when = datetime.fromtimestamp(entry, tz=UTC)
            if when < pos.entry_time:
                changes["entry_time"] = when
        try:
            if low is not None and (pos.trade_min_price is None or Decimal(repr(low)) < pos.trade_min_price):
                changes["trade_min_price"] = Decimal(repr(low))
            if high is not None and (pos.trade_max_price is None or Decimal(repr(high)) > pos.trade_max_price):
                changes["trade_max_price"] = Decimal(repr(high))
        except InvalidOperation:
            pass
        updated = replace(pos, **changes)  # type: ignore[arg-type]
        replace_position(
            store,
            mode,
            account,
            pos.symbol,
            updated,
            "imported",
            f"legacy {path.name}",
            source="legacy file",
            at=datetime.now(UTC),
        )
        path.rename(path.with_suffix(".json.imported"))
        note = ", ".join(sorted(changes)) or "nothing newer than the database"
        results.append(LegacyResult(path, pos.symbol, note))
        log.info("legacy file %s imported into %s %s %s: %s", path.name, mode, account, pos.symbol, note)
    return results

"""Live prices behind one interface (ARCHITECTURE §8).

Every price is a ``Quote`` stamped with the UTC time it was observed. Sources, in order of preference:
``dtc`` (DTC market data), ``csv`` (a snapshot file written by a Sierra Chart study), ``position``
(implied by POSITION_UPDATE's ``OpenProfitLoss``). ``PriceBook.best(symbol)`` returns the freshest quote of
the most preferred source that is not stale, else the newest stale one, which the panels show as stale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from core.instruments import contract_symbol

SOURCE_PRIORITY = ("dtc", "csv", "position")
DEFAULT_STALE_AFTER = {"dtc": 60.0, "csv": 5.0, "position": 30.0}
"""Seconds after which a source's last quote is stale. DTC quotes age by the last trade or snapshot; a
CSV by the file's last change; a position report by its arrival."""


@dataclass(frozen=True)
class Quote:
    """A last-trade price in points with optional session context from the same source."""

    symbol: str
    price: Decimal
    time: datetime
    source: str
    high: Decimal | None = None
    low: Decimal | None = None
    vwap: Decimal | None = None
    poc: Decimal | None = None
    cum_delta: Decimal | None = None


class PriceBook:
    """Latest quote per (contract, source); thread-safe. ``clock`` returns UTC epoch seconds.

    The contract is ``instruments.contract_symbol`` — root and month — so ``MESZ25-CME`` and ``F.US.MESZ25``
    share quotes, and a quote for MESH26 never prices MESZ25."""

    def __init__(self, stale_after: dict[str, float] | None = None, clock: Callable[[], float] = time.time) -> None:
        self._stale_after = dict(DEFAULT_STALE_AFTER) | dict(stale_after or {})
        self._clock = clock
        self._lock = threading.Lock()
        self._quotes: dict[tuple[str, str], Quote] = {}

    def update(self, quote: Quote) -> bool:
        """Store ``quote`` unless an equal-or-newer quote of the same source is already stored."""
        key = (contract_symbol(quote.symbol), quote.source)
        with self._lock:
            current = self._quotes.get(key)
            if current is not None and current.time > quote.time:
                return False
            self._quotes[key] = quote
            return True

    def is_stale(self, quote: Quote, now: float | None = None) -> bool:
        age = (self._clock() if now is None else now) - quote.time.timestamp()
        return age > self._stale_after.get(quote.source, 30.0)

    def best(self, symbol: str) -> tuple[Quote, bool] | None:
        """The quote to show for ``symbol`` and whether it is stale; ``None`` if no source has one."""
        contract = contract_symbol(symbol)
        now = self._clock()
        with self._lock:
            candidates = [q for source in SOURCE_PRIORITY if (q := self._quotes.get((contract, source))) is not None]
        if not candidates:
            return None
        for quote in candidates:
            if not self.is_stale(quote, now):
                return quote, False
        newest = max(candidates, key=lambda q: q.time)
        return newest, True

    def symbols_with(self, source: str) -> set[str]:
        """The contracts (``contract_symbol``) that ``source`` has quoted."""
        with self._lock:
            return {contract for (contract, src) in self._quotes if src == source}


def utc_from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)

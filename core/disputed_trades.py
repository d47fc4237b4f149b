"""Trades closed while their position is disputed (issue 13): held apart until Sierra Chart and the panel
agree again, then counted — or dropped when the trader adopts Sierra Chart's position.

While a discrepancy is open for a key, Sierra Chart's report contradicts the position the panel folds from
fills; a trade those fills close (for example the panel's stale LONG 1 "closed" by Sierra Chart's SELL 3)
may be a trade of a position that never existed. The ledger stores it apart (``data.held_trades``), so no
statistic, trades table or API counts it. Then:

- Sierra Chart's report comes to agree with the fills (the discrepancy resolves by itself), the trader keeps
  the panel's position, or closes it at a price: the held trades are **released** into the trades — the
  panel's position was real, and so were they;
- the trader adopts Sierra Chart's position: they are **discarded** — they closed a position Sierra Chart
  says was not there;
- after a restart, a key that holds trades and that Sierra Chart's next complete position report does not
  dispute is released.

Each release or discard is one transaction with an audit event per trade and one line in the feed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.publisher import Publisher
from data.held_trades import HeldTradeStore
from data.repository import StorageError

log = logging.getLogger(__name__)

Key = tuple[str, str, str]


def _money(value: Decimal) -> str:
    return f"{'+' if value > 0 else '-' if value < 0 else ''}${abs(value):,.2f}"


class DisputedTrades:
    """Releases or discards the held trades of a key and says so (the caller holds the state lock)."""

    def __init__(self, store: HeldTradeStore, publisher: Publisher) -> None:
        self._store = store
        self._publisher = publisher

    def release(self, key: Key, reason: str) -> int:
        """Count ``key``'s held trades (now in the trades and statistics); returns how many."""
        return self._settle(key, reason, keep=True)

    def discard(self, key: Key, reason: str) -> int:
        """Drop ``key``'s held trades (audited); returns how many."""
        return self._settle(key, reason, keep=False)

    def _settle(self, key: Key, reason: str, keep: bool) -> int:
        trades = self._take(key, reason, keep)
        if not trades:
            return 0
        outcome = "now counted" if keep else "discarded"
        text = f"{self._where(key)}: {self._count(trades)} closed while Sierra Chart disagreed {outcome} ({reason})"
        if not keep:
            text += " — they closed a position Sierra Chart did not have"
        self._publisher.notify("reconciled", text)
        if keep:
            self._publisher.changes.trades = True
            self._publisher.changes.full = True  # statistics of every period that includes them
        return len(trades)

    def release_undisputed(self, disputed: Callable[[Key], bool]) -> None:
        """After a complete position report: release the held trades of every key it no longer disputes (held
        before a restart or a lost connection)."""
        try:
            keys = self._store.keys()
        except StorageError as exc:
            log.error("cannot read the held trades: %s", exc)
            return
        for key in keys:
            if not disputed(key):
                self.release(key, "agrees with Sierra Chart")

    def _take(self, key: Key, reason: str, keep: bool) -> list[dict[str, Any]]:
        try:
            if keep:
                return self._store.release(key, datetime.now(UTC), reason)
            return self._store.discard(key, datetime.now(UTC), reason)
        except StorageError as exc:
            what = "count" if keep else "discard"
            self._publisher.notify("error", f"{self._where(key)}: cannot {what} the trades held apart: {exc}")
            self._publisher.changes.storage = True
            return []

    @staticmethod
    def _where(key: Key) -> str:
        return f"{key[0]} {key[1]} {key[2]}"

    @staticmethod
    def _count(trades: list[dict[str, Any]]) -> str:
        total = sum((t.get("realized_pnl") or Decimal(0) for t in trades), Decimal(0))
        return f"{len(trades)} trade{'s' if len(trades) != 1 else ''} ({_money(total)} net)"

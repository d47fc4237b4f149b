"""``Marks``: what prices and working orders do to open positions — trade extremes, MAE/MFE, heat, bracket.

It changes the ledger's working positions in place (a marked ``Position`` is a new immutable value), keeps
which ones changed since they were last stored, and writes those at most every 100 ms (``flush``). A price
touches the positions of its contract (``instruments.contract_symbol``: root and month, so ``MESZ25-CME``
and ``MESZ25`` are one contract and MESH26 another), never another symbol's. Runs under the state lock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime

from core.accounting import Position
from core.instruments import InstrumentBook, contract_symbol
from core.orders import OrderBook
from core.prices import Quote
from core.records import mark_values
from data.repository import PositionStore, StorageError

log = logging.getLogger(__name__)

Key = tuple[str, str, str]
MARKS_FLUSH_INTERVAL = 0.1
"""Seconds between writes of changed excursions (they are restored from the last write after a crash)."""


class Marks:
    """Excursions, heat and brackets of the positions in ``positions`` (the ledger's dict, shared)."""

    def __init__(
        self, positions: dict[Key, Position], instruments: InstrumentBook, orders: OrderBook, store: PositionStore
    ) -> None:
        self._positions = positions
        self._instruments = instruments
        self._orders = orders
        self._store = store
        self.heat_since: dict[Key, datetime] = {}
        """When each position's open P&L last turned negative."""
        self._dirty: set[Key] = set()
        self._last_flush = 0.0

    def on_price(self, quote: Quote) -> list[Key]:
        """Mark every position in ``quote``'s contract at its price; returns the keys whose view changed."""
        contract = contract_symbol(quote.symbol)
        changed: list[Key] = []
        for key, pos in self._positions.items():
            if contract_symbol(key[2]) != contract:
                continue
            point_value = self._instruments.lookup(key[2]).point_value
            marked = pos.mark(quote.price, point_value)
            if marked is not pos:
                self._positions[key] = marked
                self._dirty.add(key)
            if marked.open_pnl(quote.price, point_value) < 0:
                self.heat_since.setdefault(key, quote.time)
            else:
                self.heat_since.pop(key, None)
            changed.append(key)
        return changed

    def on_orders_changed(self, account: str, symbol: str) -> list[Key]:
        """The working orders of (account, symbol) changed: refresh the bracket. The first stop seen for a
        trade is kept as the stop at entry (initial risk); the target follows the order."""
        changed = []
        for key, pos in list(self._positions.items()):
            if key[1:] != (account, symbol):
                continue
            stop, target = self._orders.bracket(account, symbol, 1 if pos.quantity > 0 else -1)
            updated = replace(
                pos, stop_price=pos.stop_price if pos.stop_price is not None else stop, target_price=target
            )
            if updated != pos:
                self._positions[key] = updated
                self._dirty.add(key)
                changed.append(key)
        return changed

    def position_changed(self, key: Key, opened: bool, flat: bool) -> None:
        """A fill changed ``key``: its stored row is current; a new trade starts out of heat."""
        self._dirty.discard(key)
        if opened or flat:
            self.heat_since.pop(key, None)

    def flush(self, force: bool = False) -> None:
        """Write changed excursions and brackets, at most every 100 ms (unless ``force``)."""
        now = time.monotonic()
        if not self._dirty or (not force and now - self._last_flush < MARKS_FLUSH_INTERVAL):
            return
        self._last_flush = now
        stamp = datetime.now(UTC)
        for key in list(self._dirty):
            pos = self._positions.get(key)
            try:
                if pos is not None:
                    self._store.update_marks(*key, mark_values(pos), stamp)
            except StorageError as exc:
                log.warning("excursions not stored yet (will retry): %s", exc)
                return
            self._dirty.discard(key)

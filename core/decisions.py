"""The trader's decisions in the reconnect dialog: adopt Sierra Chart's position, keep mine, or close mine at
a price. Each decision is one database transaction with a ``PositionEvent`` giving its reason, then the cache
changes and one notification is posted. Decisions are queued from the GUI thread and executed on the DTC
thread (``run_commands``), so no database work runs on the GUI thread.

A mixin of ``StateManager`` (it uses the manager's lock, cache, store and reconciler).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.accounting import Fill, Position
from core.reconcile import adopted_position
from data.repository import StorageError

if TYPE_CHECKING:
    from core.reconcile import Reconciler

Key = tuple[str, str, str]


class ReconciliationDecisions:
    """Adds ``resolve``/``run_commands`` to ``StateManager``."""

    _commands: deque[Callable[[], None]]
    _lock: Any
    _positions: dict[Key, Position]
    _store: Any
    _stats: Any
    reconciler: Reconciler
    _storage_error: str | None
    _dirty: bool

    def notify(self, kind: str, text: str) -> None:  # provided by StateManager
        raise NotImplementedError

    def publish(self, force: bool = False) -> Any:  # provided by StateManager
        raise NotImplementedError

    def _store_one(self, fill: Fill, reason: str = "fill") -> None:  # provided by StateManager
        raise NotImplementedError

    def resolve(self, key: Key, choice: str, price: Decimal | None = None) -> None:
        """Queue the trader's decision for a discrepancy: ``adopt`` Sierra Chart's position, ``keep`` mine,
        or ``close`` mine at ``price``. Raises ``ValueError`` for an unknown choice or a close without price."""
        if choice not in ("adopt", "keep", "close") or (choice == "close" and price is None):
            raise ValueError(f"bad reconciliation choice {choice!r} (price {price!r})")
        self._commands.append(lambda: self._resolve_now(key, choice, price))

    def run_commands(self) -> None:
        """Execute queued decisions (DTC thread, so database work never runs on the GUI thread)."""
        while self._commands:
            self._commands.popleft()()

    def _resolve_now(self, key: Key, choice: str, price: Decimal | None) -> None:
        with self._lock:
            found = self.reconciler.discrepancies.get(key)
            position = self._positions.get(key)
            try:
                if choice == "keep":
                    if position is not None:
                        self._store.replace_position(*key, position, "reconciled", "kept by trader")
                    self.reconciler.resolved(key, confirmed=True)
                    text = f"kept: {found.text if found else key}"
                elif choice == "adopt":
                    adopted = adopted_position(key, self.reconciler.broker.get(key), found)
                    self._store.replace_position(*key, adopted, "reconciled", "adopted Sierra Chart's position")
                    self._set_position(key, adopted)
                    self.reconciler.resolved(key, confirmed=adopted is not None)
                    text = f"adopted Sierra Chart's position: {found.text if found else key}"
                else:
                    if position is not None and price is not None:
                        self._close_at(key, position, price)
                    self.reconciler.resolved(key, confirmed=False)
                    text = f"closed at {price}: {found.text if found else key}"
            except StorageError as exc:
                self._storage_error = str(exc)
                self.notify("error", f"decision not stored, try again: {exc}")
                return
            self.notify("reconciled", text)
            self._stats.invalidate()
            self._dirty = True
        self.publish()

    def _set_position(self, key: Key, position: Position | None) -> None:
        if position is None:
            self._positions.pop(key, None)
        else:
            self._positions[key] = position

    def _close_at(self, key: Key, position: Position, price: Decimal) -> None:
        fill = Fill(
            execution_id=f"TRADER-CLOSE-{uuid.uuid4().hex[:12]}",
            account=key[1],
            symbol=key[2],
            quantity=-position.quantity,
            price=price,
            time=datetime.now(UTC),
            source="trader",
        )
        self._store_one(fill, reason="closed by trader")

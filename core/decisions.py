"""The trader's decisions in the reconnect dialog: adopt Sierra Chart's position, keep mine, or close mine at
a price. Each decision is one database transaction with a ``PositionEvent`` giving its reason, then the
cache changes and one notification is posted. Decisions are queued from the GUI thread (``resolve``) and
executed on the DTC thread (``run``), so no database work runs on the GUI thread.

Every decision ends in a ``DecisionResult`` (``results``, newest last) carrying the dialog's ticket: done, or
refused with the reason (the difference is gone or changed since the trader saw it, fills are held after a
database error, the database refused the write). A decision is only carried out for the difference the trader
was shown, so a second click, or a click on a row Sierra Chart's latest report has since changed, changes
nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from core import records
from core.accounting import Fill
from core.disputed_trades import DisputedTrades
from core.ledger import Applied, PositionLedger
from core.publisher import Publisher
from core.reconcile import DecisionResult, Discrepancy, Reconciler, adopted_position
from core.units import format_avg_price
from data.repository import PositionStore, StorageError

log = logging.getLogger(__name__)

Key = tuple[str, str, str]
CHOICES = ("adopt", "keep", "close")


class ReconciliationDecisions:
    """Carries out the trader's reconciliation choices on the DTC thread.

    ``applied(list[Applied])`` is how fills it creates (a close at a price) reach the rest of the state, as
    any other committed fill does.
    """

    def __init__(
        self,
        ledger: PositionLedger,
        reconciler: Reconciler,
        store: PositionStore,
        publisher: Publisher,
        applied: Callable[[list[Applied]], None],
        held: DisputedTrades,
    ) -> None:
        self._held = held
        """Trades closed while the position was disputed: counted on keep or close, dropped on adopt."""
        self._ledger = ledger
        self._reconciler = reconciler
        self._store = store
        self._publisher = publisher
        self._applied = applied
        self._queue: deque[Callable[[], None]] = deque()

    def resolve(
        self,
        key: Key,
        choice: str,
        price: Decimal | None = None,
        *,
        seen: Discrepancy | None = None,
        ticket: int = 0,
    ) -> None:
        """Queue the trader's decision for a discrepancy: ``adopt`` Sierra Chart's position, ``keep`` mine,
        or ``close`` mine at ``price`` (points). ``seen`` is the difference as the trader saw it (the decision
        is refused if it changed meanwhile); ``ticket`` comes back in its ``DecisionResult``. Raises
        ``ValueError`` for an unknown choice or a close without a price."""
        if choice not in CHOICES or (choice == "close" and price is None):
            raise ValueError(f"bad reconciliation choice {choice!r} (price {price!r})")
        self._queue.append(lambda: self.decide(key, choice, price, seen=seen, ticket=ticket))

    def queue(self, command: Callable[[], None]) -> None:
        """Run ``command`` on the DTC thread at its next tick."""
        self._queue.append(command)

    def pending(self) -> bool:
        return bool(self._queue)

    def next(self) -> Callable[[], None] | None:
        return self._queue.popleft() if self._queue else None

    def _result(self, ticket: int, key: Key, choice: str, ok: bool, text: str) -> None:
        self._reconciler.results.append(DecisionResult(ticket, key, choice, ok, text))
        self._publisher.changes.reconciliation = True

    def _refuse(self, ticket: int, key: Key, choice: str, text: str) -> None:
        self._publisher.notify("error", text)
        self._result(ticket, key, choice, False, text)

    def decide(
        self,
        key: Key,
        choice: str,
        price: Decimal | None,
        *,
        seen: Discrepancy | None = None,
        ticket: int = 0,
    ) -> None:
        """Carry out one decision now (the caller holds the state lock; staged fills are committed)."""
        found = self._reconciler.discrepancies.get(key)
        position = self._ledger.positions.get(key)
        now = datetime.now(UTC)
        where = f"{key[0]} {key[1]} {key[2]}"
        if found is None:
            self._result(ticket, key, choice, False, f"nothing changed: {where} no longer differs from Sierra Chart")
            return
        label = found.text
        if seen is not None and seen != found:
            text = f"decision not applied: the difference changed meanwhile — now {label}; decide again"
            self._refuse(ticket, key, choice, text)
            return
        if self._ledger.held:
            # the stored position is about to change: deciding now would count the held fills twice
            self._refuse(
                ticket,
                key,
                choice,
                f"decision not applied: {self._ledger.held} fill(s) are held after a database error; "
                "decide again once they are stored",
            )
            return
        try:
            if choice == "keep":
                # the audit event is written even when the panel is flat (nothing else to store)
                reason = "kept by trader" if position is not None else "kept flat by trader"
                records.replace_position(self._store, *key, position, "reconciled", reason, at=now)
                self._reconciler.resolved(key, confirmed=True)
                text = f"kept: {label}"
                self._held.release(key, "kept by trader")
            elif choice == "adopt":
                adopted = adopted_position(key, self._reconciler.broker.get(key), found)
                records.replace_position(
                    self._store, *key, adopted, "reconciled", "adopted Sierra Chart's position", at=now
                )
                if adopted is None:
                    self._ledger.positions.pop(key, None)
                else:
                    self._ledger.positions[key] = adopted
                self._publisher.changes.positions[key] = True
                self._reconciler.resolved(key, confirmed=adopted is not None)
                text = f"adopted Sierra Chart's position: {label}"
                self._held.discard(key, "adopted Sierra Chart's position")
            else:
                held = False
                self._reconciler.resolved(key, confirmed=False)  # the closing fill is announced as any other
                self._held.release(key, "closed by trader")
                if position is not None and price is not None:
                    held = not self._close_at(key, position.quantity, price)
                text = f"closed at {format_avg_price(price) if price is not None else '—'}: {label}"
                if held:  # never offered again: the held close fill is stored when the database recovers
                    text += " (held after a database error; stored as soon as the database accepts writes)"
        except StorageError as exc:
            self._publisher.changes.storage = True
            self._refuse(ticket, key, choice, f"decision not stored, try again: {exc}")
            return
        self._result(ticket, key, choice, True, text)
        self._publisher.notify("reconciled", text)
        self._publisher.changes.reconciliation = True
        self._publisher.changes.full = True  # statistics and positions may all have changed

    def _close_at(self, key: Key, quantity: Decimal, price: Decimal) -> bool:
        """Store a closing fill at ``price``; False if it is held after a storage error (it will be stored
        with the other held fills, so it must not be asked for again)."""
        fill = Fill(
            execution_id=f"TRADER-CLOSE-{uuid.uuid4().hex[:12]}",
            account=key[1],
            symbol=key[2],
            quantity=-quantity,
            price=price,
            time=datetime.now(UTC),
            source="trader",
        )
        try:
            self._ledger.stage([fill], reason="closed by trader")
            self._applied(self._ledger.commit())
        except StorageError:
            self._publisher.changes.storage = True
            return False
        return True

"""Reconciliation of stored positions with Sierra Chart's POSITION_UPDATE (306) reports (ARCHITECTURE §6).

After every logon the missed fills (304) are applied first; then the 305 batch is compared per
(account, symbol) with the stored positions: each is **confirmed**, or a ``Discrepancy`` — **opened**
(Sierra Chart has it, we don't), **closed** (we have it, Sierra Chart is flat: a phantom), **increased**,
**decreased** or **flipped**. Nothing is changed here: discrepancies wait for the trader's decision in the
reconnect dialog. A rejected or timed-out report leaves every position *unknown* (never flat); an account
Sierra Chart did not list is *not available*. A key with a fill applied after the report was requested is
not compared against that (older) report. An unsolicited 306 that disagrees is flagged only if no fill
explains it within ``UNSOLICITED_GRACE_SECONDS``.

Not thread-safe by itself: ``StateManager`` calls it under its lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from core.accounting import Position
from core.instruments import symbol_root
from core.units import format_avg_price

Key = tuple[str, str, str]  # (mode, account, symbol)
UNSOLICITED_GRACE_SECONDS = 2.0


class DiscrepancyKind(StrEnum):
    OPENED = "opened"
    CLOSED = "closed"
    INCREASED = "increased"
    DECREASED = "decreased"
    FLIPPED = "flipped"


@dataclass(frozen=True)
class BrokerPosition:
    """Sierra Chart's position: signed contracts, average price (points), entry time if reported."""

    quantity: Decimal
    average_price: Decimal
    entry_time: datetime | None = None


@dataclass(frozen=True)
class Discrepancy:
    """A stored position that Sierra Chart's report does not explain."""

    mode: str
    account: str
    symbol: str
    kind: DiscrepancyKind
    stored_quantity: Decimal
    stored_average: Decimal | None
    broker_quantity: Decimal
    broker_average: Decimal

    @property
    def key(self) -> Key:
        return (self.mode, self.account, self.symbol)

    @property
    def text(self) -> str:
        """E.g. ``LIVE 120005 · LONG 1 MES @ 5050.00 — Sierra Chart reports flat``."""
        root = symbol_root(self.symbol)
        mine = _describe(self.stored_quantity, self.stored_average, root, "no position here")
        theirs = _describe(self.broker_quantity, self.broker_average, root, "flat")
        return f"{self.mode} {self.account} · {mine} — Sierra Chart reports {theirs}"


def _describe(quantity: Decimal, average: Decimal | None, root: str, flat: str) -> str:
    if quantity == 0:
        return flat
    side = "LONG" if quantity > 0 else "SHORT"
    size = abs(quantity)
    size_text = str(int(size)) if size == size.to_integral_value() else str(size.normalize())
    price = f" @ {format_avg_price(average)}" if average is not None else ""
    return f"{side} {size_text} {root}{price}"


def classify(stored: Decimal, broker: Decimal) -> DiscrepancyKind | None:
    """How Sierra Chart's quantity differs from ours (both signed); ``None`` when they agree."""
    if stored == broker:
        return None
    if stored == 0:
        return DiscrepancyKind.OPENED
    if broker == 0:
        return DiscrepancyKind.CLOSED
    if (stored > 0) != (broker > 0):
        return DiscrepancyKind.FLIPPED
    return DiscrepancyKind.INCREASED if abs(broker) > abs(stored) else DiscrepancyKind.DECREASED


class Reconciler:
    """Sierra Chart's reported positions, the confirmation state of ours, and open discrepancies."""

    def __init__(self) -> None:
        self.broker: dict[Key, BrokerPosition] = {}
        self.confirmed: dict[Key, bool] = {}
        self.discrepancies: dict[Key, Discrepancy] = {}
        self.status = "not yet reported"
        self._report_started: float | None = None
        self._reported: dict[Key, BrokerPosition] = {}
        self._last_fill: dict[Key, float] = {}
        self._pending: dict[Key, float] = {}

    # --- events ----------------------------------------------------------------------------------

    def on_fill(self, key: Key, position: Position | None, now: float) -> None:
        """A fill was applied to ``key``: it is confirmed by Sierra Chart's own order update."""
        self._last_fill[key] = now
        self._pending.pop(key, None)
        if position is None:
            self.confirmed.pop(key, None)
        else:
            self.confirmed[key] = True
        broker = self.broker.get(key)
        quantity = position.quantity if position else Decimal(0)
        if key in self.discrepancies and broker is not None and broker.quantity == quantity:
            del self.discrepancies[key]  # the fill explained it

    def recovered(self, key: Key) -> None:
        self.confirmed[key] = False

    def begin_report(self, now: float) -> None:
        """A CURRENT_POSITIONS_REQUEST (305) was sent."""
        self._report_started = now
        self._reported = {}
        self.status = "waiting for Sierra Chart's positions"

    def on_report(self, key: Key, broker: BrokerPosition, solicited: bool, stored: Position | None, now: float) -> None:
        """One POSITION_UPDATE (306)."""
        self.broker[key] = broker
        if solicited and self._report_started is not None:
            self._reported[key] = broker
            return
        quantity = stored.quantity if stored else Decimal(0)
        if broker.quantity == quantity:
            self._pending.pop(key, None)
            self.discrepancies.pop(key, None)
            if stored is not None:
                self.confirmed[key] = True
        else:
            self._pending.setdefault(key, now + UNSOLICITED_GRACE_SECONDS)

    def on_no_positions(self, account: str) -> None:
        """A 306 with ``NoPositions`` 1 (inside a batch or alone): flat in ``account`` (all, if empty)."""
        for key in list(self.broker):
            if not account or key[1] == account:
                self.broker[key] = BrokerPosition(Decimal(0), Decimal(0))

    def end_report(
        self, stored: Mapping[Key, Position], accounts: set[str], now: float, mode_of: dict[str, str]
    ) -> list[Discrepancy]:
        """The 306 batch is complete: compare. Returns the discrepancies that are new."""
        started = self._report_started or now
        self._report_started = None
        reported = self._reported
        keys = set(reported) | set(stored)
        new: list[Discrepancy] = []
        unavailable = sorted({k[1] for k in stored if k[1] not in accounts})
        for key in sorted(keys):
            if key[1] not in accounts:
                continue  # Sierra Chart did not list this account: not available, stays unconfirmed
            if self._last_fill.get(key, 0.0) >= started:
                continue  # a fill applied since the request: this report is older than our state
            position = stored.get(key)
            broker = reported.get(key, BrokerPosition(Decimal(0), Decimal(0)))
            self.broker[key] = broker
            found = self._check(key, position, broker)
            if found is not None and key not in self.discrepancies:
                new.append(found)
            if found is not None:
                self.discrepancies[key] = found
        self.status = "confirmed" if not unavailable else f"not available for {', '.join(unavailable)}"
        if self.discrepancies:
            self.status = f"{len(self.discrepancies)} position(s) differ from Sierra Chart"
        return new

    def _check(self, key: Key, position: Position | None, broker: BrokerPosition) -> Discrepancy | None:
        stored_qty = position.quantity if position else Decimal(0)
        kind = classify(stored_qty, broker.quantity)
        if kind is None:
            self.discrepancies.pop(key, None)
            if position is not None:
                self.confirmed[key] = True
            return None
        if position is not None:
            self.confirmed[key] = False
        return Discrepancy(
            key[0],
            key[1],
            key[2],
            kind,
            stored_qty,
            position.avg_entry if position else None,
            broker.quantity,
            broker.average_price,
        )

    def report_failed(self, reason: str) -> None:
        """The 305 was rejected (307) or timed out: Sierra Chart's positions are unknown — not flat."""
        self._report_started = None
        self.status = f"unknown: {reason}"

    def due(self, stored: Mapping[Key, Position], now: float) -> list[Discrepancy]:
        """Unsolicited disagreements whose grace period passed without an explaining fill."""
        new = []
        for key, deadline in list(self._pending.items()):
            if now < deadline:
                continue
            del self._pending[key]
            broker = self.broker.get(key)
            if broker is None:
                continue
            found = self._check(key, stored.get(key), broker)
            if found is not None:
                if key not in self.discrepancies:
                    new.append(found)
                self.discrepancies[key] = found
        return new

    def on_disconnected(self) -> None:
        """Sierra Chart's reports are no longer current; every position waits for the next report."""
        self.broker.clear()
        self._pending.clear()
        self._reported = {}
        self._report_started = None
        for key in self.confirmed:
            self.confirmed[key] = False
        self.status = "disconnected"

    def resolved(self, key: Key, confirmed: bool) -> None:
        """The trader decided about ``key``."""
        self.discrepancies.pop(key, None)
        self._pending.pop(key, None)
        if confirmed:
            self.confirmed[key] = True
        else:
            self.confirmed.pop(key, None)


def adopted_position(key: Key, broker: BrokerPosition | None, found: Discrepancy | None) -> Position | None:
    """The position to store when the trader adopts Sierra Chart's: its quantity and average price, entered
    at its reported entry time (or now); ``None`` when Sierra Chart is flat."""
    quantity = broker.quantity if broker else (found.broker_quantity if found else Decimal(0))
    if quantity == 0:
        return None
    average = broker.average_price if broker else (found.broker_average if found else Decimal(0))
    when = (broker.entry_time if broker else None) or datetime.now(UTC)
    return Position(
        account=key[1],
        symbol=key[2],
        quantity=quantity,
        cost_basis=average * quantity,
        entry_time=when,
        opened_quantity=abs(quantity),
        opened_value=average * abs(quantity),
        max_quantity=abs(quantity),
        trade_min_price=average,
        trade_max_price=average,
        initial_quantity=abs(quantity),
        initial_entry=average,
    )

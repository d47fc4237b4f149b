"""Reconciliation of stored positions with Sierra Chart's POSITION_UPDATE (306) reports (ARCHITECTURE §6).

After every logon the missed fills (304) are applied first; then the 305 batch is compared per
(account, symbol) with the stored positions: each is **confirmed**, or a ``Discrepancy`` — **opened**
(Sierra Chart has it, we don't), **closed** (we have it, Sierra Chart is flat: a phantom), **increased**,
**decreased** or **flipped**. Nothing is changed here: discrepancies wait for the trader's decision in the
reconnect dialog. A rejected or timed-out report leaves every position *unknown* (never flat); an account
Sierra Chart did not list is *not available*. A key with a fill applied after the report was requested is
not compared against that (older) report. An unsolicited 306 that disagrees is flagged only if no fill
explains it within ``UNSOLICITED_GRACE_SECONDS``.

While a discrepancy is open, Sierra Chart's latest report of that key is what the window presents as the
position (``Discrepancy.broker_quantity``/``broker_average`` follow every later report at once); fills for the
key are still applied to the stored position and update ``stored_quantity``. When a later report agrees with
the stored position the discrepancy resolves itself (``take_self_resolved``), never silently.

Not thread-safe by itself: ``StateManager`` calls it under its lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from core.accounting import Position
from core.instruments import symbol_root
from core.units import format_avg_price

Key = tuple[str, str, str]  # (mode, account, symbol)
UNSOLICITED_GRACE_SECONDS = 2.0
RESULTS_KEPT = 20


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
    since: datetime | None = field(default=None, compare=False)
    """When the difference was first found (UTC)."""
    trades_since: int = 0
    """Trades the panel's fills closed on this key while the difference was open (they are stored)."""
    pnl_since: Decimal = Decimal(0)
    """Their net P&L (account currency, or the symbol's P&L unit)."""

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

    @property
    def panel_text(self) -> str:
        """The panel's own figure: ``LONG 1 MES @ 6,850.00`` or ``flat``."""
        return _describe(self.stored_quantity, self.stored_average, symbol_root(self.symbol), "flat")

    @property
    def broker_text(self) -> str:
        """Sierra Chart's reported position: ``SHORT 3 MES @ 6,851.00`` or ``flat``."""
        return _describe(self.broker_quantity, self.broker_average, symbol_root(self.symbol), "flat")


@dataclass(frozen=True)
class SelfResolved:
    """A discrepancy that Sierra Chart's later report resolved: it now agrees with the stored position."""

    found: Discrepancy
    broker: BrokerPosition

    @property
    def text(self) -> str:
        """E.g. ``resolved by itself: SIM Sim1 MESZ25 — Sierra Chart now reports SHORT 3 MES @ 6,851.00, as the
        panel's fills do``."""
        f = self.found
        theirs = _describe(self.broker.quantity, self.broker.average_price, symbol_root(f.symbol), "flat")
        return (
            f"resolved by itself: {f.mode} {f.account} {f.symbol} — Sierra Chart now reports {theirs}, "
            "as the panel's fills do"
        )


@dataclass(frozen=True)
class DecisionResult:
    """What became of one decision the trader sent from the reconnect dialog (``ticket`` is the dialog's)."""

    ticket: int
    key: Key
    choice: str
    ok: bool
    text: str


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
        self.base_status = "not yet reported"
        """Where the last position report left reconciliation (``status`` adds the open discrepancies)."""
        self._report_started: float | None = None
        self._reported: dict[Key, BrokerPosition] = {}
        self._last_fill: dict[Key, float] = {}
        self._pending: dict[Key, float] = {}
        self._self_resolved: list[SelfResolved] = []
        self.results: deque[DecisionResult] = deque(maxlen=RESULTS_KEPT)
        """What became of the trader's latest decisions, newest last (``core.decisions`` adds them)."""

    @property
    def status(self) -> str:
        """One line for the window: the open discrepancies if any, else where the last report left things."""
        if self.discrepancies:
            return f"{len(self.discrepancies)} position(s) differ from Sierra Chart"
        return self.base_status

    @status.setter
    def status(self, value: str) -> None:
        self.base_status = value

    def disputed(self, key: Key) -> bool:
        """Whether ``key`` has an open discrepancy (the window then presents Sierra Chart's position)."""
        return key in self.discrepancies

    def take_self_resolved(self) -> list[SelfResolved]:
        """Discrepancies resolved by a later report since the last call (to record and announce once)."""
        out, self._self_resolved = self._self_resolved, []
        return out

    # --- events ----------------------------------------------------------------------------------

    def on_fill(self, key: Key, position: Position | None, now: float, closed_pnl: Decimal | None = None) -> None:
        """A fill was applied to ``key``: it is confirmed by Sierra Chart's own order update. ``closed_pnl`` is
        the net P&L of the trade it closed, if it closed one.

        A disputed key stays disputed: the fill changes the panel's figure (``stored_quantity``) but Sierra
        Chart's last report predates it; the report that follows the fill decides (or, if none comes within
        ``UNSOLICITED_GRACE_SECONDS``, the last report is compared again)."""
        self._last_fill[key] = now
        self._pending.pop(key, None)
        if position is None:
            self.confirmed.pop(key, None)
        else:
            self.confirmed[key] = True
        found = self.discrepancies.get(key)
        if found is not None:
            quantity = position.quantity if position else Decimal(0)
            if position is not None:
                self.confirmed[key] = False
            kind = classify(quantity, found.broker_quantity) or found.kind
            self.discrepancies[key] = replace(
                found,
                kind=kind,
                stored_quantity=quantity,
                stored_average=position.avg_entry if position else None,
                trades_since=found.trades_since + (closed_pnl is not None),
                pnl_since=found.pnl_since + (closed_pnl or Decimal(0)),
            )
            self._pending[key] = now + UNSOLICITED_GRACE_SECONDS

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
            self._agrees(key, broker)
            if stored is not None:
                self.confirmed[key] = True
        elif key in self.discrepancies:
            self._pending.pop(key, None)
            self._check(key, stored, broker)  # already disputed: Sierra Chart's latest figure is shown at once
        else:
            self._pending.setdefault(key, now + UNSOLICITED_GRACE_SECONDS)

    def _agrees(self, key: Key, broker: BrokerPosition) -> None:
        found = self.discrepancies.pop(key, None)
        if found is not None:
            self._self_resolved.append(SelfResolved(found, broker))

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
        keys = set(reported) | set(stored) | set(self.discrepancies)
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
            known = key in self.discrepancies
            found = self._check(key, position, broker)
            if found is not None and not known:
                new.append(found)
        self.status = "confirmed" if not unavailable else f"not available for {', '.join(unavailable)}"
        return new

    def _check(self, key: Key, position: Position | None, broker: BrokerPosition) -> Discrepancy | None:
        """Compare and record: the discrepancy (new or refreshed with the latest figures), or ``None`` when
        the two agree (an open discrepancy then resolves itself)."""
        stored_qty = position.quantity if position else Decimal(0)
        kind = classify(stored_qty, broker.quantity)
        if kind is None:
            self._agrees(key, broker)
            if position is not None:
                self.confirmed[key] = True
            return None
        if position is not None:
            self.confirmed[key] = False
        before = self.discrepancies.get(key)
        found = Discrepancy(
            key[0],
            key[1],
            key[2],
            kind,
            stored_qty,
            position.avg_entry if position else None,
            broker.quantity,
            broker.average_price,
            before.since if before is not None else datetime.now(UTC),
            before.trades_since if before is not None else 0,
            before.pnl_since if before is not None else Decimal(0),
        )
        self.discrepancies[key] = found
        return found

    def report_failed(self, reason: str) -> None:
        """The 305 was rejected (307) or timed out: Sierra Chart's positions are unknown — not flat."""
        self._report_started = None
        self.status = f"unknown: {reason}"

    def due(self, stored: Mapping[Key, Position], now: float) -> list[Discrepancy]:
        """Unsolicited disagreements whose grace period passed without an explaining fill (new ones are
        returned; a disputed key whose fills now agree with the last report resolves itself)."""
        new = []
        for key, deadline in list(self._pending.items()):
            if now < deadline:
                continue
            del self._pending[key]
            broker = self.broker.get(key)
            if broker is None:
                continue
            known = key in self.discrepancies
            found = self._check(key, stored.get(key), broker)
            if found is not None and not known:
                new.append(found)
        return new

    def on_disconnected(self) -> None:
        """Sierra Chart's reports are no longer current; every position waits for the next report (open
        discrepancies stay open, with Sierra Chart's last reported figures)."""
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
    at its reported entry time (or now); ``None`` when Sierra Chart is flat. The discrepancy's figures (what
    the trader was shown: Sierra Chart's latest report) come first."""
    if found is not None:
        quantity, average = found.broker_quantity, found.broker_average
    else:
        quantity = broker.quantity if broker else Decimal(0)
        average = broker.average_price if broker else Decimal(0)
    if quantity == 0:
        return None
    same = broker is not None and broker.quantity == quantity
    when = (broker.entry_time if broker is not None and same else None) or datetime.now(UTC)
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

"""The order-side safety nets' decisions, as pure functions (no Qt, no I/O, no clock): the stop guard and the
orphan cleanup (issue 17). ``core/order_guards.py`` gathers the facts, acts on the decisions and records them.

**Stop guard.** A position with no working stop on its closing side for longer than the grace period gets a
warning; when the guard is *armed* for its account, one protective stop for the position's full size at the
set distance (ticks) from the average entry — unless any of these holds, in which case it only warns and says
why: trading not supported or disabled, a position the panel did not see open, a position not confirmed by
Sierra Chart or in an open discrepancy, no price or a stale one, a stop price already through the market, or
an order already sent for this position change; and nothing at all is decided while the working orders are
unknown (after a logon until Sierra Chart's open orders are restated). The guard's own working stop is resized
(``RESIZE``: new quantity, and the new price when the average entry moved) when the position size changes, under
the same rules.

**Orphan cleanup.** When a position goes flat (or flips), the stop/target orders that were working on its
closing side at that moment are the candidates. After the grace period (a flip in progress may still be
filling) the ones still working are cancelled when cleanup is armed, else offered to the trader. Orders on the
other side, or placed after the position closed, are never touched; a position re-entered on the same side
keeps them (they protect it now). A cancel Sierra Chart refused (or never answered) is not sent again by itself:
that order is offered to the trader with the reason.

Units: prices in points (snapped to ``tick``), quantities in contracts (signed for positions: + long,
− short), times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum


class StopAction(StrEnum):
    NOTHING = "nothing"
    """Protected, flat, or the guard is off: nothing to say."""
    WAIT = "wait"
    """Within the grace period, or an order of the guard awaits Sierra Chart's answer."""
    WARN = "warn"
    """Unprotected (or under-protected) and nothing will be sent; ``reason`` says why."""
    SUBMIT = "submit"
    """Send SUBMIT_NEW_SINGLE_ORDER (208): a stop for ``quantity`` at ``price``."""
    RESIZE = "resize"
    """Send CANCEL_REPLACE_ORDER (204) for the guard's stop: ``quantity`` at ``price``."""


@dataclass(frozen=True)
class GuardStop:
    """The guard's own stop for a position: ``state`` "pending" (sent, no answer yet), "working", "unknown" (no
    answer in time) or "unconfirmed" (working before the link dropped, not restated since the logon); ``price``
    points, ``quantity`` contracts; ``avg_entry`` the average entry it was placed for."""

    state: str
    price: Decimal
    quantity: Decimal
    avg_entry: Decimal


@dataclass(frozen=True)
class StopFacts:
    """Everything the stop guard decides on for one position. ``quantity`` signed; ``avg_entry``, ``tick``,
    ``last_price`` points; ``other_stop_quantity`` contracts of working closing-side stops that are not the
    guard's; ``missing_for`` seconds the position has had no stop (0 when it has one); ``trading_block`` why
    orders cannot be sent ("" when they can); ``sent_for_change`` True when the guard already sent an order
    for the position as it is now."""

    quantity: Decimal
    avg_entry: Decimal
    tick: Decimal
    distance_ticks: int | None
    armed: bool
    guard_stop: GuardStop | None = None
    other_stop_quantity: Decimal = Decimal(0)
    missing_for: float = 0.0
    grace: float = 3.0
    last_price: Decimal | None = None
    price_stale: bool = False
    confirmed: bool = True
    disputed: bool = False
    seen_open: bool = True
    trading_block: str = ""
    sent_for_change: bool = False
    cancel_replace_supported: bool = True
    orders_unknown: str = ""
    """Why the working orders are not known now ("" when Sierra Chart's open orders were restated since the
    logon): nothing is decided on them — a wait within ``grace`` of ``since_logon`` seconds, then a warning."""
    since_logon: float = float("inf")


@dataclass(frozen=True)
class StopDecision:
    action: StopAction
    reason: str = ""
    price: Decimal | None = None
    quantity: Decimal | None = None
    side: int = 0
    """+1 buy, −1 sell: the closing side of the position."""


def stop_price(avg_entry: Decimal, quantity: Decimal, distance_ticks: int, tick: Decimal) -> Decimal:
    """The protective stop ``distance_ticks`` ticks beyond the average entry, on the tick grid, rounded away
    from the market (down for a long's sell stop, up for a short's buy stop). Raises ``ValueError`` for a
    flat position, a tick ≤ 0 or a distance < 1."""
    if quantity == 0 or tick <= 0 or distance_ticks < 1:
        raise ValueError("a stop needs a position, a tick size > 0 and a distance of at least 1 tick")
    sign = 1 if quantity > 0 else -1
    raw = avg_entry - sign * distance_ticks * tick
    rounding = ROUND_FLOOR if sign > 0 else ROUND_CEILING
    return ((raw / tick).to_integral_value(rounding=rounding) * tick).normalize()


def _blocked(f: StopFacts, price: Decimal) -> str:
    """Why nothing may be sent for this position now ("" when it may), in the order a trader checks."""
    if f.trading_block:
        return f.trading_block
    if not f.seen_open:
        return "the panel did not see this position open"
    if f.disputed:
        return "the position differs from Sierra Chart's report"
    if not f.confirmed:
        return "the position is not confirmed by Sierra Chart"
    if f.last_price is None:
        return "no price for the symbol"
    if f.price_stale:
        return "the last price is stale"
    long = f.quantity > 0
    if (long and price >= f.last_price) or (not long and price <= f.last_price):
        return f"the stop price {price:f} is already through the market (last {f.last_price:f})"
    if f.sent_for_change:
        return "an order was already sent for this position change"
    return ""


def decide_stop(f: StopFacts) -> StopDecision:
    """What the stop guard does for one position now (see the module text)."""
    if f.quantity == 0 or f.distance_ticks is None:
        return StopDecision(StopAction.NOTHING)
    size = abs(f.quantity)
    side = -1 if f.quantity > 0 else 1
    unknown_tick = StopDecision(StopAction.WARN, "the symbol's tick size is unknown: set it in Settings (point values)")
    ours = f.guard_stop
    if ours is not None and ours.state == "pending":
        return StopDecision(StopAction.WAIT, "waiting for Sierra Chart's answer to the guard's order")
    if f.orders_unknown:  # the book was cleared at the logon: a stop of the trader's may be working unseen
        if f.since_logon < f.grace:
            return StopDecision(StopAction.WAIT, f"working orders not known yet: {f.orders_unknown}")
        return StopDecision(StopAction.WARN, f"working orders unknown: {f.orders_unknown}; nothing is sent")
    if ours is not None and ours.state in ("unknown", "unconfirmed"):
        return StopDecision(StopAction.WARN, "the guard's last order got no answer from Sierra Chart")
    if ours is not None:  # working: keep it the position's size (and its distance when the entry moved)
        moved = ours.avg_entry != f.avg_entry
        if moved and (f.tick <= 0 or f.distance_ticks < 1):
            return unknown_tick
        price = stop_price(f.avg_entry, f.quantity, f.distance_ticks, f.tick) if moved else ours.price
        if ours.quantity == size and ours.price == price:
            return StopDecision(StopAction.NOTHING)
        why = f"the guard's stop is for {ours.quantity:f} of {size:f} contracts"
        if not f.armed:
            return StopDecision(StopAction.WARN, f"{why} (stop guard not armed)", price, size, side)
        if not f.cancel_replace_supported:
            return StopDecision(
                StopAction.WARN, f"{why}; Sierra Chart does not support cancel/replace", price, size, side
            )
        blocked = _blocked(f, price)
        if blocked:
            return StopDecision(StopAction.WARN, f"{why}; not resized: {blocked}", price, size, side)
        return StopDecision(StopAction.RESIZE, why, price, size, side)
    if f.other_stop_quantity >= size:
        return StopDecision(StopAction.NOTHING)
    if f.other_stop_quantity > 0:
        return StopDecision(StopAction.WARN, f"the working stop covers {f.other_stop_quantity:f} of {size:f} contracts")
    if f.missing_for < f.grace:
        return StopDecision(StopAction.WAIT, "no working stop yet (grace period)")
    if f.tick <= 0 or f.distance_ticks < 1:
        return unknown_tick
    price = stop_price(f.avg_entry, f.quantity, f.distance_ticks, f.tick)
    if not f.armed:
        return StopDecision(StopAction.WARN, "no working stop (stop guard not armed)", price, size, side)
    blocked = _blocked(f, price)
    if blocked:
        return StopDecision(StopAction.WARN, f"no working stop; none sent: {blocked}", price, size, side)
    return StopDecision(StopAction.SUBMIT, "no working stop", price, size, side)


# --- orphan cleanup ---------------------------------------------------------------------------------


class OrphanAction(StrEnum):
    NOTHING = "nothing"
    WAIT = "wait"
    OFFER = "offer"
    """Show the one-click "Cancel orphaned orders"; ``reason`` says why they are not cancelled by themselves."""
    CANCEL = "cancel"
    """Send CANCEL_ORDER (203) for each of ``order_ids``."""


@dataclass(frozen=True)
class OrphanFacts:
    """One closed position's leftovers: ``closed_sign`` +1 a long closed, −1 a short; ``candidates`` the
    ServerOrderIDs of the stop/target orders working on its closing side when it closed, ``still_working``
    those of them working now; ``quantity_now`` the (signed) position now; ``flat_for`` seconds since it
    closed; ``pending`` cancels already sent and not yet answered; ``failed`` orders whose cancel was refused
or got no answer (``failed_reason`` why): offered, never cancelled by themselves again."""

    closed_sign: int
    candidates: frozenset[str]
    still_working: frozenset[str]
    quantity_now: Decimal
    flat_for: float
    grace: float
    armed: bool
    trading_block: str = ""
    disputed: bool = False
    pending: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()
    """Orders whose cancel Sierra Chart refused or never answered: never cancelled automatically again."""
    failed_reason: str = ""


@dataclass(frozen=True)
class OrphanDecision:
    action: OrphanAction
    reason: str = ""
    order_ids: tuple[str, ...] = ()


def decide_orphans(f: OrphanFacts) -> OrphanDecision:
    """What the orphan cleanup does for one closed position now (see the module text)."""
    left = tuple(sorted((f.candidates & f.still_working) - f.pending - f.failed))
    stuck = tuple(sorted((f.candidates & f.still_working & f.failed) - f.pending))
    if not left and not stuck:
        if f.pending & f.still_working:
            return OrphanDecision(OrphanAction.WAIT, "waiting for Sierra Chart to confirm the cancels")
        return OrphanDecision(OrphanAction.NOTHING)
    same_side = f.quantity_now != 0 and (f.quantity_now > 0) == (f.closed_sign > 0)
    if same_side:
        return OrphanDecision(OrphanAction.NOTHING, "a new position on the same side holds these orders")
    if f.flat_for < f.grace:
        return OrphanDecision(OrphanAction.WAIT, "grace period (a flip may be in progress)", left + stuck)
    if not left:  # a refused (or unanswered) cancel is never sent again by itself: the trader decides
        return OrphanDecision(OrphanAction.OFFER, f"{f.failed_reason}; not cancelled automatically again", stuck)
    if not f.armed:
        return OrphanDecision(OrphanAction.OFFER, "orphan cleanup not armed", left)
    if f.trading_block:
        return OrphanDecision(OrphanAction.OFFER, f"not cancelled: {f.trading_block}", left)
    if f.disputed:
        return OrphanDecision(
            OrphanAction.OFFER, "not cancelled: the position differs from Sierra Chart's report", left
        )
    return OrphanDecision(OrphanAction.CANCEL, "orders of a closed position", left)

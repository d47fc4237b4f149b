"""What the stop guard and orphan cleanup (issue 17) are set to and what the window shows of them: immutable
values that cross from the DTC thread (``core.order_guards``, which sends the orders) to the GUI thread
(``panels.order_guards``), so the window needs nothing of the sending code."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.instruments import symbol_root

STOP_GUARD, CLEANUP = "stop_guard", "orphan_cleanup"
FEATURES = {STOP_GUARD: "stop guard", CLEANUP: "orphan cleanup"}


@dataclass(frozen=True)
class GuardConfig:
    """``distances``: ticks by account (``"Sim1"``) or account and symbol root (``"Sim1/MES"``, wins);
    grace periods in seconds."""

    distances: dict[str, int] = field(default_factory=dict)
    stop_grace: float = 3.0
    cleanup_grace: float = 2.0

    def distance(self, account: str, symbol: str) -> int | None:
        return self.distances.get(f"{account}/{symbol_root(symbol)}", self.distances.get(account))


@dataclass(frozen=True)
class PositionGuard:
    """What the card of one position shows: ``level`` "ok", "wait", "warn" or "alarm"; ``text`` one line."""

    mode: str
    account: str
    symbol: str
    level: str
    text: str


@dataclass(frozen=True)
class OrphanOffer:
    """Stop/target orders of a closed position still working: ``orders`` one line each; ``text`` why they are
    offered rather than cancelled (or that they are being cancelled)."""

    account: str
    symbol: str
    orders: tuple[str, ...]
    text: str
    cancelling: bool = False


@dataclass(frozen=True)
class GuardView:
    """What the window shows of both safety nets (immutable; crosses to the GUI thread)."""

    stop_armed: frozenset[str] = frozenset()
    cleanup_armed: frozenset[str] = frozenset()
    distances: tuple[tuple[str, int], ...] = ()
    positions: tuple[PositionGuard, ...] = ()
    offers: tuple[OrphanOffer, ...] = ()
    trading_note: str = ""
    """Why orders cannot be sent at all ("" when they can), e.g. TradingIsSupported 0."""
    disabled_accounts: frozenset[str] = frozenset()
    refusal: str = ""
    """The latest arming request that was refused, and why."""

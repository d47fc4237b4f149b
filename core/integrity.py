"""Startup integrity check: every stored open position must agree with the fills stored for it.

For each ``OpenPosition`` the quantity and average entry are recomputed by folding its ``FillRecord``s —
from flat, or from the last reconciliation decision (adopted or kept by the trader), which is a baseline no
fill explains. A disagreement is reported and recorded as a ``PositionEvent`` (kind ``integrity``); the
stored row is never silently "fixed": the trader decides, and Sierra Chart's report will confirm or not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.accounting import Fill, Position, apply_fill
from core.records import stored_positions
from core.units import format_avg_price
from data.models import PositionEvent
from data.repository import PositionStore, StorageError

log = logging.getLogger(__name__)

AVERAGE_TOLERANCE = Decimal("1e-9")


@dataclass(frozen=True)
class IntegrityProblem:
    mode: str
    account: str
    symbol: str
    stored_quantity: Decimal
    stored_average: Decimal
    fills_quantity: Decimal
    fills_average: Decimal | None

    @property
    def text(self) -> str:
        fills = (
            f"{self.fills_quantity} @ {format_avg_price(self.fills_average)}"
            if self.fills_average is not None
            else "flat"
        )
        return (
            f"{self.mode} {self.account} {self.symbol}: stored position {self.stored_quantity} @ "
            f"{format_avg_price(self.stored_average)} does not match its fills ({fills})"
        )


def _baseline(store: PositionStore, mode: str, account: str, symbol: str) -> tuple[Position | None, dict[str, Any]]:
    """Where the fold starts: flat after the last close, or the trader's last decision; else flat at the start.
    Returns the position there and the ``fills_for`` filter for the fills applied after it."""
    event = store.last_baseline_event(mode, account, symbol)
    if event is None:
        return None, {}
    # a close is a fill ("source:execution id"): the fills after it are the rows after that one (a group
    # commit gives its fills one receive time); a decision has no fill: the fills received after it
    after: dict[str, Any] = {"received_after": event.at}
    if event.kind == "closed" and ":" in event.source:
        after = {"after_execution_id": event.source.split(":", 1)[1]}
    if event.kind == "closed" or event.quantity_after == 0 or event.avg_entry_after is None:
        return None, after
    qty, avg = event.quantity_after, event.avg_entry_after
    return Position(account, symbol, qty, avg * qty, event.at, abs(qty), avg * abs(qty)), after


def check(store: PositionStore) -> list[IntegrityProblem]:
    """Compare every stored open position with its fills. Raises ``StorageError`` if they cannot be read."""
    problems = []
    for item in stored_positions(store):
        pos = item.position
        position, after = _baseline(store, item.mode, pos.account, pos.symbol)
        for row in store.fills_for(item.mode, pos.account, pos.symbol, **after):
            fill = Fill(row.execution_id, row.account, row.symbol, row.quantity, row.price, row.time, row.commission)
            position = apply_fill(position, fill, Decimal(1)).position
        quantity = position.quantity if position else Decimal(0)
        average = position.avg_entry if position else None
        if quantity != pos.quantity or average is None or abs(average - pos.avg_entry) > AVERAGE_TOLERANCE:
            problem = IntegrityProblem(
                item.mode, pos.account, pos.symbol, pos.quantity, pos.avg_entry, quantity, average
            )
            log.error("integrity: %s", problem.text)
            problems.append(problem)
    return problems


def record(store: PositionStore, problem: IntegrityProblem) -> None:
    """Add the problem to the audit trail (kind ``integrity``); a storage failure is logged, not raised."""
    try:
        store.add_event(
            PositionEvent(
                mode=problem.mode,
                account=problem.account,
                symbol=problem.symbol,
                kind="integrity",
                quantity_before=problem.stored_quantity,
                quantity_after=problem.stored_quantity,
                avg_entry_after=problem.stored_average,
                reason="stored differs from fills",
                source=problem.text[:128],
            )
        )
    except StorageError as exc:
        log.error("cannot record integrity problem: %s", exc)

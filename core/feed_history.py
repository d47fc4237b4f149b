"""The notification feed after a restart: the newest stored audit events (``PositionEvent``) as the feed's lines,
so the trader sees what happened before the panel was closed. Pure text building; no Qt.

A restored line reads like the live one: ``SIM Sim1 · INCREASED · LONG 2 MESZ25 @ 6,852.125`` (prices on their
tick with separators), ``SIM Sim1 · CLOSED · MESZ25 flat · realized +36.25``, with the event's own time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal

from core.snapshots import Notification
from core.units import format_avg_price
from data.models import PositionEvent
from data.repository import PositionStore, StorageError

log = logging.getLogger(__name__)

RESTORED = 50
"""How many stored events the feed shows again after a restart (the feed lists 50)."""

_KINDS = {"opened", "increased", "decreased", "flipped", "closed", "reconciled", "stale", "integrity"}
NOT_POSITIONS = {
    "sierra_differs": ("warning", "differs from Sierra Chart's trade list"),
    "sierra_only": ("warning", "a trade only in Sierra Chart's trade list"),
    "panel_only": ("warning", "a trade Sierra Chart's trade list does not have"),
    "sierra_import": ("reconciled", "trade imported from Sierra Chart's trade list"),
    "sierra_resolved": ("reconciled", "now agrees with Sierra Chart's trade list"),
    "trade_released": ("reconciled", "trade held apart while disputed, counted"),
    "trade_discarded": ("reconciled", "trade held apart while disputed, discarded"),
}
"""Audit events about trades rather than a position change: (feed kind, what the line says)."""
ORDER_KINDS = {"stop_guard", "orphan_cleanup"}
"""Audit events of the orders the panel sends (``core/order_guards.py``): their ``source`` is the feed line."""


def note_for(event: PositionEvent, tick: Decimal | None) -> Notification:
    """The feed line of one audit event, at its own time; ``tick`` (points) aligns its price."""
    if event.kind in ORDER_KINDS and event.source:  # the stop guard / orphan cleanup store their feed line
        return Notification(event.at, "error" if "rejected" in event.reason else "order", event.source)
    if event.kind in NOT_POSITIONS:
        kind, what = NOT_POSITIONS[event.kind]
        text = f"{event.mode} {event.account} · {event.symbol}: {what}"
        if event.source:
            text += f" ({event.source})"
        if event.realized:
            text += f" · net {event.realized:+,.2f}"
        return Notification(event.at, kind, text)
    head = f"{event.mode} {event.account} · {event.kind.upper()} · "
    after = event.quantity_after
    if after == 0:
        text = head + f"{event.symbol} flat"
    else:
        side = "LONG" if after > 0 else "SHORT"
        text = head + f"{side} {abs(after).normalize():f} {event.symbol}"
        if event.avg_entry_after is not None:
            text += f" @ {format_avg_price(event.avg_entry_after, tick)}"
    if event.realized:
        text += f" · realized {event.realized:+,.2f}"
    if event.reason and event.reason != "fill":
        text += f" ({event.reason})"
    kind = event.kind if event.kind in _KINDS else "warning"
    if kind == "integrity":
        kind = "error"
    return Notification(event.at, kind, text)


def restored_notes(
    store: PositionStore, tick_for: Callable[[str], Decimal | None], limit: int = RESTORED
) -> list[Notification]:
    """The newest ``limit`` stored events as feed lines, oldest first; ``[]`` (logged) if they cannot be read.
    ``tick_for(symbol)`` gives the tick size of a symbol."""
    try:
        events: Iterable[PositionEvent] = store.recent_events(limit)
    except StorageError as exc:
        log.error("notifications of the last run not shown: %s", exc)
        return []
    return [note_for(event, tick_for(event.symbol)) for event in events]

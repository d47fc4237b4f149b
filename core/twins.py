"""The same execution under two execution ids: a live fill without one, and its history record (issue 11).

Sierra Chart may send a live fill (``ORDER_UPDATE`` 301) without ``LastFillExecutionID``; the panel then
derives an id from (``ServerOrderID``, ``FilledQuantity``) and marks the fill's source ``DERIVED_SOURCE``.
The same execution comes back in history (``HISTORICAL_ORDER_FILL_RESPONSE`` 304) with its
``UniqueExecutionID``. The two are matched by what both messages carry — trade account, symbol,
``ServerOrderID``, quantity, price — and a fill time within ``TWIN_WINDOW`` (a live fill without
``LastFillDateTime`` is stamped when it arrived), so the execution is stored once. Each stored fill matches at
most one incoming fill, the closest in time, so two equal parts of one order stay two fills.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from core.accounting import Fill
from data.repository import StoredFill

DERIVED_SOURCE = "301-noid"
"""``FillRecord.source`` of a live fill whose execution id was derived (it had no ``LastFillExecutionID``)."""
RENAMED_SOURCE = "301+304"
"""``FillRecord.source`` of a live fill stored under a derived id that history later gave its real id."""
TWIN_WINDOW = timedelta(seconds=10)


def may_have_twin(fill: Fill) -> bool:
    """Whether ``fill`` could be stored already under another id: a derived live fill, or a history fill."""
    return bool(fill.server_order_id) and fill.source in (DERIVED_SOURCE, "304")


def match_twins(fills: Sequence[Fill], stored: Sequence[StoredFill]) -> dict[str, StoredFill]:
    """Execution id of each fill in ``fills`` that is a stored fill under another id → that stored fill.

    A derived fill matches a stored fill with a real id; a history fill matches a stored derived one. The
    fills are of one (mode, account)."""
    claimed: set[str] = set()
    out: dict[str, StoredFill] = {}
    for fill in fills:
        derived = fill.source == DERIVED_SOURCE
        best: StoredFill | None = None
        for s in stored:
            if s.execution_id in claimed or (s.source == DERIVED_SOURCE) == derived:
                continue
            if (s.symbol, s.server_order_id, s.quantity, s.price) != (
                fill.symbol,
                fill.server_order_id,
                fill.quantity,
                fill.price,
            ):
                continue
            gap = abs(s.time - fill.time)
            if gap <= TWIN_WINDOW and (best is None or gap < abs(best.time - fill.time)):
                best = s
        if best is not None:
            claimed.add(best.execution_id)
            out[fill.execution_id] = best
    return out

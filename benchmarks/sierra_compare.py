"""Sierra Chart's trade list against the panel's (issue 15's cross-check, ``core.sierra_check.compare``): how long
sorting one account's answer takes with N trades both sides have, in-process, one core.

Half the trades match by their opening/closing fills' execution ids, half (no ids on Sierra Chart's side) by
entry/exit time and quantity — the two ways ``compare`` pairs them. The comparison runs on a worker thread
after every logon while the trader uses the window, holding the interpreter lock: its cost per trade must not
grow with the number of trades.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from benchmarks.common import Figure

TARGET_US_PER_TRADE = 50.0
"""A year of a busy trader's trades (20,000) in about a second at most."""


def _pairs(count: int) -> tuple[list, list]:
    from core.sierra_check import SierraTrade
    from data.sierra_store import PanelTrade

    start = datetime(2026, 1, 2, 14, 30, tzinfo=UTC)
    panel, sierra = [], []
    for i in range(count):
        entry = start + timedelta(seconds=97 * i)
        exit_ = entry + timedelta(seconds=41)
        price = Decimal("6000.25") + Decimal(i % 40) / 4
        ids = (f"E{2 * i}", f"E{2 * i + 1}")
        panel.append(
            PanelTrade(
                id=i + 1, symbol="MESZ25", side="LONG", qty=Decimal(1), max_qty=Decimal(1), entry_price=price,
                exit_price=price + 1, entry_time=entry, exit_time=exit_, gross_pnl=Decimal(5), commissions=Decimal(0),
                mae=Decimal(-5), mfe=Decimal(10), pnl_unit="", sierra="", open_execution_id=ids[0],
                close_execution_id=ids[1],
            )
        )  # fmt: skip
        by_ids = i % 2 == 0
        sierra.append(
            SierraTrade(
                account="Sim1", symbol="MESZ25", side="LONG", entry_time=entry, exit_time=exit_, entry_price=price,
                exit_price=price + 1, entry_quantity=Decimal(1), exit_quantity=Decimal(1), max_open_quantity=None,
                closed_pnl=Decimal(5), max_open_loss=Decimal(-5), max_open_profit=Decimal(10), commission=None,
                open_execution_id=ids[0] if by_ids else "", close_execution_id=ids[1] if by_ids else "",
            )
        )  # fmt: skip
    sierra.reverse()  # Sierra Chart's order is its own: nothing may rely on the two lists being aligned
    return panel, sierra


def measure_compare(counts: tuple[int, ...]) -> list[Figure]:
    """One figure per count: µs per trade to compare ``count`` trades both sides have (all must match)."""
    from core.sierra_check import compare

    figures = []
    for count in counts:
        panel, sierra = _pairs(count)
        first_seen = panel[0].entry_time - timedelta(days=1)
        began = time.perf_counter()
        result = compare(sierra, panel, first_seen, datetime(2027, 1, 1, tzinfo=UTC), first_seen)
        seconds = time.perf_counter() - began
        if len(result.matches) != count:
            raise RuntimeError(f"compare matched {len(result.matches)} of {count} trades")
        figures.append(
            Figure(
                f"Sierra Chart trade list, {count:,} trades compared",
                seconds / count * 1e6,
                "µs/trade",
                TARGET_US_PER_TRADE,
                note=f"{seconds:.3f} s in all",
            )
        )
    return figures

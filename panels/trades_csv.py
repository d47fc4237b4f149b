"""The CSV export of closed trades: a pure function (no Qt).

Raw values, times in ISO 8601 UTC, money in account currency, efficiency as a fraction, so a spreadsheet
can compute with them."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from core.snapshots import TradeRow

CSV_HEADER = (
    "entry_time_utc",
    "exit_time_utc",
    "symbol",
    "side",
    "quantity",
    "entry_price",
    "exit_price",
    "net_pnl",
    "pnl_unit",
    "mae_trade_pnl",
    "mfe_trade_pnl",
    "mae_points",
    "mfe_points",
    "total_efficiency",
    "r_multiple",
)
"""``mae_trade_pnl``/``mfe_trade_pnl``: the trade's lowest/highest P&L while open — realized so far by partial
exits + open P&L, gross — in ``pnl_unit`` (empty: the account currency; ``pt``: points × contracts, the point
value being unknown; else a currency code). ``mae_points``/``mfe_points``: the worst/best price distance from
the average entry price at that moment."""


def _raw(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def write_trades_csv(path: Path, trades: Sequence[TradeRow]) -> int:
    """Write ``trades`` to ``path`` (UTF-8, header + one row per trade); returns the number of rows.

    Empty cells mean "not available". Raises ``OSError`` if the file cannot be written.
    """
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for t in trades:
            writer.writerow(
                [
                    t.entry_time.isoformat(),
                    t.exit_time.isoformat(),
                    t.symbol,
                    t.side,
                    _raw(t.quantity),
                    _raw(t.entry_price),
                    _raw(t.exit_price),
                    _raw(t.net_pnl),
                    t.pnl_unit,
                    _raw(t.mae),
                    _raw(t.mfe),
                    _raw(t.mae_points),
                    _raw(t.mfe_points),
                    _raw(t.total_efficiency),
                    _raw(t.r_multiple),
                ]
            )
    return len(trades)

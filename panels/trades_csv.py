"""The CSV export of closed trades: a pure function (no Qt).

Times in ISO 8601 UTC, money in the trade's ``pnl_unit`` (empty: the account currency), efficiency as a
fraction, so a spreadsheet can compute with them. Each column has one number format for every row: money with
2 decimals, R with 2, efficiency with 4, prices and points with the decimals the column's ticks need (an
average price between ticks gets up to two more, as on screen), quantities whole unless one is fractional.
No thousands separators (a spreadsheet would read them as text)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from core.snapshots import TradeRow
from core.units import tick_decimals

CSV_HEADER = (
    "account",
    "entry_time_utc",
    "exit_time_utc",
    "symbol",
    "side",
    "quantity",
    "entry_price",
    "exit_price",
    "net_pnl",
    "commissions",
    "pnl_unit",
    "mae_trade_pnl",
    "mfe_trade_pnl",
    "mae_points",
    "mfe_points",
    "mae_ticks",
    "mfe_ticks",
    "total_efficiency",
    "r_multiple",
)
"""``net_pnl`` is after ``commissions``. ``mae_trade_pnl``/``mfe_trade_pnl``: the trade's lowest/highest P&L while
open — realized so far by partial exits + open P&L, gross — in ``pnl_unit`` (empty: the account currency;
``pt``: points × contracts, the point value being unknown; else a currency code). ``mae_points``/``mfe_points``:
the worst/best price distance from the average entry price at that moment (``_ticks``: the same in ticks)."""

MAX_EXTRA_PLACES = 2
"""A price or distance between ticks gets at most this many decimals more than its tick has."""


def _places_needed(value: Decimal | None) -> int:
    if value is None or not value.is_finite():
        return 0
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _fixed(value: Decimal | None, places: int) -> str:
    if value is None:
        return ""
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):.{places}f}"


def _price_places(trades: Sequence[TradeRow], getters: Sequence[Callable[[TradeRow], Decimal | None]]) -> int:
    """One number of decimals for price-like columns: the finest tick's decimals, more (up to
    ``MAX_EXTRA_PLACES``) where a value lies between ticks."""
    places = 2
    for t in trades:
        base = tick_decimals(t.tick_size)
        places = max(places, base)
        for get in getters:
            places = max(places, min(_places_needed(get(t)), base + MAX_EXTRA_PLACES))
    return places


def write_trades_csv(path: Path, trades: Sequence[TradeRow], account: str = "") -> int:
    """Write ``trades`` of ``account`` to ``path`` (UTF-8, header + one row per trade); returns the number of rows.

    Empty cells mean "not available". Raises ``OSError`` if the file cannot be written.
    """
    rows = list(trades)
    prices = _price_places(rows, [lambda t: t.entry_price, lambda t: t.exit_price])
    points = _price_places(rows, [lambda t: t.mae_points, lambda t: t.mfe_points])
    quantity = min(4, max((_places_needed(t.quantity) for t in rows), default=0))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for t in rows:
            writer.writerow(
                [
                    account,
                    t.entry_time.isoformat(),
                    t.exit_time.isoformat(),
                    t.symbol,
                    t.side,
                    _fixed(t.quantity, quantity),
                    _fixed(t.entry_price, prices),
                    _fixed(t.exit_price, prices),
                    _fixed(t.net_pnl, 2),
                    _fixed(t.commissions, 2),
                    t.pnl_unit,
                    _fixed(t.mae, 2),
                    _fixed(t.mfe, 2),
                    _fixed(t.mae_points, points),
                    _fixed(t.mfe_points, points),
                    _fixed(t.mae_ticks, 1),
                    _fixed(t.mfe_ticks, 1),
                    _fixed(t.total_efficiency, 4),
                    _fixed(t.r_multiple, 2),
                ]
            )
    return len(rows)

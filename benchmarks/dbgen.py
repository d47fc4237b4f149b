"""A trader's database with many closed trades, written quickly with bulk inserts.

``generate(data_dir, trades)`` creates ``<data_dir>/dtc-panel.db`` (migrated schema) holding ``trades`` closed
round trips of 1–3 contracts in account ``Sim1`` spread over the last 365 days (the newest today), each with
its opening and closing ``FillRecord`` and its two ``PositionEvent``s, in the quarterly MES contract of its
day (MESH26, MESM26, …, as a trader rolls), plus one open position LONG 1 in the current contract with its
fill and event — so the startup integrity check folds a realistic number of fills. Prices in points, P&L in
USD (MES: 5 USD per point, 0.62 USD commission per contract per side).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from data.db import make_engine
from data.models import FillRecord, OpenPosition, PositionEvent, TradeRecord

ACCOUNT = "Sim1"
MODE = "SIM"
POINT_VALUE = Decimal(5)
COMMISSION = Decimal("0.62")
BATCH = 20_000
_MONTHS = "HMUZ"


def contract(day: datetime) -> str:
    """The front quarterly MES contract of ``day`` (ignoring the roll week): MESZ26 for November 2026."""
    quarter = (day.month - 1) // 3
    return f"MES{_MONTHS[quarter]}{day.year % 100:02d}"


def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i : i + BATCH])


def generate(data_dir: Path, trades: int = 100_000, seed: int = 5, summaries: bool = True) -> str:
    """Write the database; returns the symbol of the open position. With ``summaries`` the per-day trade
    summaries are stored too, as the app leaves them once a long period was shown (``core.long_history``)."""
    rng = random.Random(seed)
    engine = make_engine(data_dir)
    now = datetime.now(UTC).replace(microsecond=0)
    span = timedelta(days=365).total_seconds()
    trade_rows: list[dict[str, Any]] = []
    fill_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for i in range(trades):
        exit_time = now - timedelta(seconds=span * (trades - i) / trades + 60)
        entry_time = exit_time - timedelta(seconds=rng.randint(20, 1800))
        symbol = contract(entry_time)
        side = rng.choice((1, -1))
        qty = Decimal(rng.randint(1, 3))
        entry = Decimal(6000) + Decimal("0.25") * rng.randint(-400, 400)
        exit_ = entry + Decimal("0.25") * rng.randint(-16, 16)
        gross = (exit_ - entry) * qty * POINT_VALUE * side
        commissions = COMMISSION * qty * 2
        low, high = min(entry, exit_) - Decimal("0.25") * rng.randint(0, 8), max(entry, exit_) + Decimal("0.5")
        mae = min(Decimal(0), ((low if side > 0 else high) - entry) * qty * POINT_VALUE * side)
        mfe = max(Decimal(0), ((high if side > 0 else low) - entry) * qty * POINT_VALUE * side)
        span_pnl = mfe - mae
        trade_rows.append(
            {
                "mode": MODE, "account": ACCOUNT, "symbol": symbol, "side": "LONG" if side > 0 else "SHORT",
                "qty": qty, "max_qty": qty, "entry_price": entry, "exit_price": exit_, "entry_time": entry_time,
                "exit_time": exit_time, "gross_pnl": gross, "commissions": commissions,
                "realized_pnl": gross - commissions, "point_value": POINT_VALUE, "trade_min_price": low,
                "trade_max_price": high, "mae": mae, "mfe": mfe, "exit_reason": "fill",
                "total_efficiency": gross / span_pnl if span_pnl else None, "created_at": exit_time,
            }
        )  # fmt: skip
        for n, (when, signed, price) in enumerate(((entry_time, qty * side, entry), (exit_time, -qty * side, exit_))):
            fill_rows.append(
                {
                    "mode": MODE, "account": ACCOUNT, "symbol": symbol, "execution_id": f"GEN-{i}-{n}",
                    "server_order_id": f"GEN-O-{i}-{n}", "quantity": signed, "price": price,
                    "commission": COMMISSION * qty, "time": when, "source": "301", "received_at": when,
                }
            )  # fmt: skip
            event_rows.append(
                {
                    "at": when, "mode": MODE, "account": ACCOUNT, "symbol": symbol,
                    "kind": "opened" if n == 0 else "closed", "quantity_before": Decimal(0) if n == 0 else signed * -1,
                    "quantity_after": signed if n == 0 else Decimal(0), "avg_entry_after": entry if n == 0 else None,
                    "realized": Decimal(0) if n == 0 else gross, "reason": "fill",
                    "source": f"301:GEN-{i}-{n}",
                }
            )  # fmt: skip
    symbol = contract(now)
    entry_time = now - timedelta(seconds=30)
    price = Decimal("6012.25")
    fill_rows.append(
        {
            "mode": MODE, "account": ACCOUNT, "symbol": symbol, "execution_id": "GEN-OPEN",
            "server_order_id": "GEN-O-OPEN", "quantity": Decimal(1), "price": price, "commission": COMMISSION,
            "time": entry_time, "source": "301", "received_at": entry_time,
        }
    )  # fmt: skip
    event_rows.append(
        {
            "at": entry_time, "mode": MODE, "account": ACCOUNT, "symbol": symbol, "kind": "opened",
            "quantity_before": Decimal(0), "quantity_after": Decimal(1), "avg_entry_after": price,
            "realized": Decimal(0), "reason": "fill", "source": "301:GEN-OPEN",
        }
    )  # fmt: skip
    position = {
        "mode": MODE, "account": ACCOUNT, "symbol": symbol, "qty": Decimal(1), "side": "LONG",
        "entry_price": price, "cost_basis": price, "entry_time": entry_time, "opened_quantity": Decimal(1),
        "opened_value": price, "commissions": COMMISSION, "max_quantity": Decimal(1), "trade_min_price": price,
        "trade_max_price": price, "last_fill_time": entry_time, "mae": Decimal(0), "mfe": Decimal(0),
        "initial_quantity": Decimal(1), "initial_entry": price, "created_at": entry_time, "updated_at": entry_time,
    }  # fmt: skip
    with engine.begin() as conn:
        _insert(conn, TradeRecord.__table__, trade_rows)
        _insert(conn, FillRecord.__table__, fill_rows)
        _insert(conn, PositionEvent.__table__, event_rows)
        conn.execute(insert(OpenPosition.__table__), [position])
    if summaries:
        from core.long_history import up_to_date_summaries

        up_to_date_summaries(engine, MODE, ACCOUNT)
    engine.dispose()
    return symbol

"""What one comparison with Sierra Chart's trade list stores (issue 15): the rows of imported trades, the listed
differences, the differences that now agree (resolved), and their audit events — as plain column dicts for
``data.sierra_store.SierraTradeStore.record``; and how a stored difference is shown (``DifferenceView``).

Values come from HISTORICAL_TRADES_RESPONSE (10102, dtc-protocol §15) and the panel's ``TradeRecord``: prices
points, quantities contracts, money account currency, times UTC. Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.instruments import InstrumentBook
from core.sierra_check import Comparison, SierraTrade
from core.trade_metrics import efficiency
from data.models import SierraDifference

MISSING_LISTED = 200
"""At most this many trades only one side has are listed per answer and side (the newest): a Sierra Chart whose
trade list was cleared would otherwise list a whole year of the panel's trades; the status counts the rest."""
FIELD_LABELS = {
    "EntryPrice": "Entry price",
    "ExitPrice": "Exit price",
    "EntryQuantity": "Quantity",
    "ClosedProfitLoss": "Closed P&L",
    "Commission": "Commission",
    "MaximumOpenPositionLoss": "MAE",
    "MaximumOpenPositionProfit": "MFE",
}
KIND_LABELS = {
    "differs": "differs",
    "sierra_only": "only in Sierra Chart",
    "panel_only": "only in DTC Panel",
}
MONEY_FIELDS = ("ClosedProfitLoss", "Commission", "MaximumOpenPositionLoss", "MaximumOpenPositionProfit")


@dataclass(frozen=True)
class DifferenceView:
    """One listed difference: ``what`` (a field's label, or which side lacks the trade), both values as text
    (prices points, quantity contracts, money account currency; "—" where a side has nothing). Times UTC."""

    mode: str
    account: str
    symbol: str
    kind: str
    what: str
    panel_value: str
    sierra_value: str
    entry_time: datetime
    exit_time: datetime
    found_at: datetime


@dataclass(frozen=True)
class StoredDifference:
    """A difference already stored for the account (``SierraDifference`` columns), as ``resolved`` reads it."""

    key: str
    kind: str
    symbol: str
    field: str
    trade_id: int | None


@dataclass(frozen=True)
class Rows:
    """``SierraTradeStore.record``'s arguments for one answer: ``events`` carry a ``"_key"`` (see there)."""

    imports: list[dict[str, Any]]
    checks: dict[int, str]
    differences: list[dict[str, Any]]
    events: list[dict[str, Any]]
    resolved: list[str]


def text(value: Decimal | None, money: bool = False) -> str:
    """Exact text of a value: money with two decimals (more if it has them), else without trailing zeros."""
    if value is None:
        return "—"
    if money:
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"
    return f"{value.normalize():f}"


def comparison_rows(
    mode: str,
    account: str,
    c: Comparison,
    instruments: InstrumentBook,
    now: datetime,
    stored: Iterable[StoredDifference] = (),
) -> Rows:
    """The rows one comparison stores. ``stored``: the account's differences stored by earlier comparisons;
    those the comparison no longer finds for a trade it compared are ``resolved`` (deleted from the list, each
    with a ``sierra_resolved`` audit event — the earlier ``sierra_differs``/``sierra_only``/``panel_only`` event
    stays in the audit log)."""
    imports = [import_row(mode, s, instruments, now) for s in c.imports]
    events = [
        event(mode, account, s.symbol, "sierra_import", s.close_execution_id, s.key, now, s.closed_pnl)
        for s in c.imports
    ]
    checks = {m.panel.id: ("differs" if m.differences else "agrees") for m in c.matches}
    differences: list[dict[str, Any]] = []

    def add(kind: str, symbol: str, what: str, values: tuple[str, str], times: tuple[datetime, datetime],
            trade_id: int | None, key: str, source: str) -> None:  # fmt: skip
        differences.append(difference(mode, account, symbol, kind, what, values, times, trade_id, key, now))
        events.append(event(mode, account, symbol, f"sierra_{kind}" if kind == "differs" else kind, source, key, now))

    for m in c.matches:
        p = m.panel
        for d in m.differences:
            money = d.field in MONEY_FIELDS
            values = (text(d.panel, money), text(d.sierra, money))
            add("differs", p.symbol, d.field, values, (p.entry_time, p.exit_time), p.id, f"d:{p.id}:{d.field}", d.field)
    for s in c.sierra_only[-MISSING_LISTED:]:
        values = ("—", trade_text(s.side, s.entry_quantity, s.entry_price, s.exit_price, s.closed_pnl))
        add("sierra_only", s.symbol, "", values, (s.entry_time, s.exit_time), None, f"s:{s.key}", s.close_execution_id)
    for p in c.panel_only[-MISSING_LISTED:]:
        values = (trade_text(p.side, p.qty, p.entry_price, p.exit_price, p.gross_pnl), "—")
        add("panel_only", p.symbol, "", values, (p.entry_time, p.exit_time), p.id, f"p:{p.id}", f"trade {p.id}")
    resolved = resolved_differences(c, stored, {str(d["key"]) for d in differences})
    for r in resolved:
        source = r.field if r.kind == "differs" else f"trade {r.trade_id}" if r.kind == "panel_only" else r.key[2:]
        events.append(event(mode, account, r.symbol, "sierra_resolved", source, r.key, now))
    return Rows(imports, checks, differences, events, [r.key for r in resolved])


def resolved_differences(c: Comparison, stored: Iterable[StoredDifference], found: set[str]) -> list[StoredDifference]:
    """Stored differences that ``c`` shows to agree now: a field of a compared panel trade that no longer
    differs, a panel trade "only in DTC Panel" that Sierra Chart now lists, a Sierra Chart trade "only in Sierra
    Chart" that the panel now has. Differences of trades this answer did not compare stay as they are."""
    compared = {m.panel.id for m in c.matches}
    matched_sierra = {f"s:{m.sierra.key}" for m in c.matches}
    out = []
    for r in stored:
        if r.key in found:
            continue
        now_compared = r.trade_id in compared if r.kind in ("differs", "panel_only") else r.key in matched_sierra
        if now_compared and r.kind in ("differs", "panel_only", "sierra_only"):
            out.append(r)
    return out


def import_row(mode: str, s: SierraTrade, instruments: InstrumentBook, now: datetime) -> dict[str, Any]:
    """A ``TradeRecord`` row of an imported trade: Sierra Chart's figures as they are (``ClosedProfitLoss``,
    ``Commission``, ``MaximumOpenPositionLoss``/``Profit`` as MAE/MFE in account currency); net = closed P&L −
    commission; point value as the panel knows it (for MAE/MFE in points nothing is known: left empty)."""
    gross = s.closed_pnl if s.closed_pnl is not None else Decimal(0)
    commission = s.commission if s.commission is not None else Decimal(0)
    instrument = instruments.lookup(s.symbol)
    eff = efficiency(s.max_open_loss, s.max_open_profit, gross)
    return {
        "mode": mode,
        "account": s.account,
        "symbol": s.symbol,
        "side": s.side,
        "qty": s.entry_quantity,
        "max_qty": s.max_open_quantity if s.max_open_quantity else s.entry_quantity,
        "entry_price": s.entry_price,
        "exit_price": s.exit_price,
        "entry_time": s.entry_time,
        "exit_time": s.exit_time,
        "gross_pnl": gross,
        "commissions": commission,
        "realized_pnl": gross - commission,
        "point_value": instrument.point_value,
        "mae": s.max_open_loss,
        "mfe": s.max_open_profit,
        "exit_reason": "imported from Sierra Chart",
        "entry_efficiency": eff.entry if eff else None,
        "exit_efficiency": eff.exit if eff else None,
        "total_efficiency": eff.total if eff else None,
        "tick_size": instrument.tick_size if instrument.tick_size > 0 else None,
        "pnl_unit": "",
        "sierra": "imported",
        "sierra_key": s.key,
        "created_at": now,
    }


def trade_text(side: str, qty: Decimal, entry: Decimal, exit_: Decimal, pnl: Decimal | None) -> str:
    return f"{side} {text(qty)} @ {text(entry)} → {text(exit_)}, P&L {text(pnl, True)}"[:64]


def difference(
    mode: str, account: str, symbol: str, kind: str, field_name: str, values: tuple[str, str],
    times: tuple[datetime, datetime], trade_id: int | None, key: str, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    return {
        "mode": mode,
        "account": account,
        "symbol": symbol,
        "kind": kind,
        "field": field_name,
        "panel_value": values[0][:64],
        "sierra_value": values[1][:64],
        "entry_time": times[0],
        "exit_time": times[1],
        "trade_id": trade_id,
        "key": key[:240],
        "found_at": now,
    }


def event(
    mode: str, account: str, symbol: str, kind: str, source: str, key: str, now: datetime,
    realized: Decimal | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A ``PositionEvent`` audit row (no position changes: quantities 0); ``_key`` ties it to its stored row."""
    return {
        "at": now,
        "mode": mode,
        "account": account,
        "symbol": symbol,
        "kind": kind,
        "quantity_before": Decimal(0),
        "quantity_after": Decimal(0),
        "avg_entry_after": None,
        "realized": realized if realized is not None else Decimal(0),
        "reason": "Sierra Chart list: now agrees" if kind == "sierra_resolved" else "Sierra Chart trade list",
        "source": f"10102:{source}"[:128],
        "_key": key[:240],
    }


def difference_view(r: SierraDifference) -> DifferenceView:
    what = FIELD_LABELS.get(r.field, r.field) if r.kind == "differs" else KIND_LABELS.get(r.kind, r.kind)
    return DifferenceView(
        r.mode, r.account, r.symbol, r.kind, what, r.panel_value or "—", r.sierra_value or "—", r.entry_time,
        r.exit_time, r.found_at,
    )  # fmt: skip

"""Trades held apart while their position is disputed (``HeldTrade``, issue 13).

The ledger stores a trade that fills closed during an open discrepancy with those fills (``rows`` gives the
``HeldTrade`` rows for ``PositionStore.commit_batch``), not in ``traderecord``: every statistic, the trades
table, the day summaries and the local API read only ``traderecord``, so none of them counts a trade of a
position Sierra Chart contradicts. When the discrepancy resolves, ``release`` moves the key's held trades into
``traderecord`` (as new rows, oldest first — trades are only ever inserted there) and ``discard`` drops them;
each in one transaction with one ``PositionEvent`` audit row per trade (kind ``trade_released`` or
``trade_discarded``, ``realized`` its net P&L).

Plain column values in and out; nothing here imports ``core/``. Every method raises ``StorageError`` when the
database refuses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from data.models import HeldTrade, PositionEvent, TradeRecord
from data.repository import StorageError

Key = tuple[str, str, str]


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    raise TypeError(f"cannot hold a {type(value).__name__} in a held trade")


def _hook(value: dict[str, Any]) -> object:
    if len(value) == 1:
        if "$d" in value:
            return Decimal(value["$d"])
        if "$t" in value:
            return datetime.fromisoformat(value["$t"])
    return value


def encode(trade: dict[str, Any]) -> str:
    """A ``TradeRecord`` column dict as JSON text; Decimals and aware datetimes come back exactly (``decode``)."""
    return json.dumps(trade, default=_default, sort_keys=True)


def decode(text: str) -> dict[str, Any]:
    value = json.loads(text, object_hook=_hook)
    assert isinstance(value, dict)
    return value


def rows(trades: Sequence[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    """``HeldTrade`` column dicts for ``TradeRecord`` column dicts (held at ``at``, UTC)."""
    return [
        {"mode": t["mode"], "account": t["account"], "symbol": t["symbol"], "held_at": at, "trade": encode(t)}
        for t in trades
    ]


class HeldTradeStore:
    """Reads, releases and discards held trades of one database (any thread; each call its own session)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def keys(self) -> dict[Key, int]:
        """How many trades each (mode, account, symbol) holds (none: not listed)."""
        try:
            with Session(self._engine) as session:
                found = session.exec(
                    select(HeldTrade.mode, HeldTrade.account, HeldTrade.symbol, func.count()).group_by(
                        col(HeldTrade.mode), col(HeldTrade.account), col(HeldTrade.symbol)
                    )
                ).all()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the held trades: {exc}") from exc
        return {(m, a, s): n for m, a, s, n in found}

    def release(self, key: Key, at: datetime, reason: str) -> list[dict[str, Any]]:
        """Move ``key``'s held trades into ``traderecord`` (oldest first); returns them (``TradeRecord`` dicts)."""
        return self._take(key, at, reason, "trade_released", keep=True)

    def discard(self, key: Key, at: datetime, reason: str) -> list[dict[str, Any]]:
        """Drop ``key``'s held trades (each audited); returns them."""
        return self._take(key, at, reason, "trade_discarded", keep=False)

    def _take(self, key: Key, at: datetime, reason: str, kind: str, keep: bool) -> list[dict[str, Any]]:
        mode, account, symbol = key
        try:
            with Session(self._engine) as session, session.begin():
                held = session.exec(
                    select(HeldTrade)
                    .where(HeldTrade.mode == mode, HeldTrade.account == account, HeldTrade.symbol == symbol)
                    .order_by(col(HeldTrade.id))
                ).all()
                trades = [decode(h.trade) for h in held]
                if not trades:
                    return []
                if keep:
                    session.execute(insert(TradeRecord.__table__), trades)  # type: ignore[attr-defined]
                session.execute(delete(HeldTrade).where(col(HeldTrade.id).in_([h.id for h in held])))
                events = [_event(key, t, at, reason, kind) for t in trades]
                session.execute(insert(PositionEvent.__table__), events)  # type: ignore[attr-defined]
                return trades
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot {'release' if keep else 'discard'} the held trades: {exc}") from exc


def _event(key: Key, trade: dict[str, Any], at: datetime, reason: str, kind: str) -> dict[str, Any]:
    """The audit row of one released or discarded trade: its net P&L as ``realized``, which trade in ``source``."""
    mode, account, symbol = key
    what = f"trade {trade['side']} {trade['qty']} exited {trade['exit_time']:%Y-%m-%d %H:%M:%S}"
    return {
        "at": at, "mode": mode, "account": account, "symbol": symbol, "kind": kind,
        "quantity_before": Decimal(0), "quantity_after": Decimal(0), "avg_entry_after": None,
        "realized": trade.get("realized_pnl") or Decimal(0), "reason": reason[:32], "source": what[:128],
    }  # fmt: skip


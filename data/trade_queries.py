"""Column queries over ``traderecord`` for statistics of long periods (issue 10): no ORM objects.

``trade_columns`` reads the closed trades of one (mode, account) as columns — one Python list per column,
index i of every list being trade i — parsed exactly as the ORM would load them (``data.types``): Decimals
from their stored text, times as aware UTC datetimes. A hundred thousand trades take a fraction of a
second, where loading ``TradeRecord`` objects takes seconds.

How: one statement returns each column ``group_concat``-ed into a single string (SQLite does the per-row
work in C; Python splits each string once and maps it through caches, so a price or P&L that repeats is
parsed once and shared — Decimals are immutable). If a value holds the separator character the query falls
back to ordinary rows. The order is checked (and restored if needed) in Python, so it never depends on the
query plan.

Units: quantities in contracts, prices in points, money (P&L, commissions, MAE, MFE) in account currency,
efficiency a fraction, R a multiple of the initial risk; times UTC.

Safe from any thread: each call checks a connection out of the engine's pool and returns it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from operator import le, lt
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from data.repository import StorageError

_SEP = "\x1f"  # ASCII unit separator: not in symbols, sides, numbers or times
_UTC_SUFFIX = "+00:00"  # appended in SQL: fromisoformat then gives tzinfo=UTC directly
_TIMES = ("entry_time", "exit_time")
_NULLABLE = ("mae", "mfe", "total_efficiency", "r_multiple", "mae_points", "mfe_points", "tick_size")
_DECIMALS = ("qty", "entry_price", "exit_price", "realized_pnl", "commissions")
COLUMNS = (
    "id",
    "symbol",
    "side",
    "qty",
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "realized_pnl",
    "commissions",
    "mae",
    "mfe",
    "total_efficiency",
    "r_multiple",
    "mae_points",
    "mfe_points",
    "tick_size",
    "pnl_unit",
    "sierra",
)
STATISTICS_COLUMNS = (
    "id",
    "entry_time",
    "exit_time",
    "realized_pnl",
    "commissions",
    "mae",
    "mfe",
    "total_efficiency",
    "r_multiple",
    "pnl_unit",
)
"""What the statistics and the equity curve of a period need; the other columns are read by id when a trade's
row is shown (``trade_columns_by_id``)."""


@dataclass(frozen=True)
class TradeColumns:
    """Closed trades of one (mode, account), oldest exit first — ordered by (``exit_time``, ``id``) — one list per
    ``traderecord`` column, all of the same length. Values equal what ``TradeRecord`` loads: ``qty`` contracts,
    prices points, ``realized_pnl`` (net of ``commissions``), ``commissions``, ``mae``, ``mfe`` account currency,
    ``total_efficiency`` a fraction, ``r_multiple`` R, ``mae_points``/``mfe_points`` points, ``tick_size`` points;
    the nullable ones ``None`` where not stored; ``pnl_unit`` what the money is in ("" the account currency);
    times UTC."""

    id: list[int]
    symbol: list[str]
    side: list[str]
    qty: list[Decimal]
    entry_time: list[datetime]
    exit_time: list[datetime]
    entry_price: list[Decimal]
    exit_price: list[Decimal]
    realized_pnl: list[Decimal]
    commissions: list[Decimal]
    mae: list[Decimal | None]
    mfe: list[Decimal | None]
    total_efficiency: list[Decimal | None]
    r_multiple: list[Decimal | None]
    mae_points: list[Decimal | None]
    mfe_points: list[Decimal | None]
    tick_size: list[Decimal | None]
    pnl_unit: list[str]
    sierra: list[str]
    """Where the trade stands against Sierra Chart's trade list: "", "imported", "agrees", "differs"."""

    def __len__(self) -> int:
        return len(self.id)

    def take(self, positions: Sequence[int]) -> TradeColumns:
        """The trades at ``positions`` (in that order); columns that were not read stay empty."""
        columns = {f.name: getattr(self, f.name) for f in fields(self)}
        return TradeColumns(**{name: [c[i] for i in positions] if c else [] for name, c in columns.items()})


def _empty() -> TradeColumns:
    return TradeColumns(*([] for _ in COLUMNS))


def has_all_columns(c: TradeColumns) -> bool:
    """Whether every column of ``c`` was read (not only ``STATISTICS_COLUMNS``)."""
    return len(c.symbol) == len(c.id)


class Decimals(dict[str | None, Decimal | None]):
    """Text → ``Decimal(text)``, each distinct text parsed once (seeded with what stands for NULL)."""

    def __missing__(self, text: str) -> Decimal:
        value = self[text] = Decimal(text)
        return value


class _Strings(dict[str, str]):
    """One shared ``str`` object per distinct symbol or side."""

    def __missing__(self, text: str) -> str:
        self[text] = text
        return text


def stored_time(value: datetime) -> str:
    """``value`` as ``UTCDateTime`` stores it (SQLAlchemy's SQLite format), to compare with stored times."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given for a UTC column")
    v = value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"


def _where(
    mode: str, account: str, since: datetime | None, until: datetime | None = None
) -> tuple[str, tuple[str, ...]]:
    where, params = "mode = ? AND account = ?", (mode, account)
    if since is not None:
        where, params = f"{where} AND exit_time >= ?", (*params, stored_time(since))
    if until is not None:
        where, params = f"{where} AND exit_time < ?", (*params, stored_time(until))
    return where, params


def _aggregate_sql(where: str, columns: tuple[str, ...] = COLUMNS) -> str:
    # The separator as a literal: char(31) would be a function call per row.
    parts = []
    for name in columns:
        if name in _TIMES:
            parts.append(f"group_concat({name} || '{_UTC_SUFFIX}', '{_SEP}')")
        elif name in _NULLABLE:
            parts.append(f"group_concat(ifnull({name}, ''), '{_SEP}')")
        else:
            parts.append(f"group_concat({name}, '{_SEP}')")
    return f"SELECT count(*), {', '.join(parts)} FROM traderecord WHERE {where}"


def _rows_sql(where: str, columns: tuple[str, ...] = COLUMNS) -> str:
    return f"SELECT {', '.join(columns)} FROM traderecord WHERE {where} ORDER BY exit_time, id"


def _times(texts: list[str], suffixed: bool) -> list[datetime]:
    """Stored times → aware UTC datetimes, as ``UTCDateTime`` loads them (``fromisoformat``, then UTC)."""
    parse = datetime.fromisoformat
    if suffixed:
        try:
            return list(map(parse, texts))
        except ValueError:  # not SQLAlchemy's format (e.g. an offset already stored): the ORM's way below
            texts = [t[: -len(_UTC_SUFFIX)] for t in texts]
    return [parse(t).replace(tzinfo=UTC) for t in texts]


def _parse(raw: list[list[Any]], suffixed: bool, columns: tuple[str, ...] = COLUMNS) -> TradeColumns:
    """Columns of stored values (``None`` or ``""`` for a NULL of the nullable ones) → ``TradeColumns`` (the
    columns not in ``columns`` are left empty)."""
    decimals, optional, strings = Decimals(), Decimals({"": None, None: None}), _Strings()
    by_name = dict(zip(columns, raw, strict=True))
    values: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    values["id"] = list(map(int, by_name["id"]))
    for name in columns[1:]:
        column = by_name[name]
        if name in _TIMES:
            values[name] = _times(column, suffixed)
        elif name in _NULLABLE:
            values[name] = list(map(optional.__getitem__, column))
        elif name in _DECIMALS:
            values[name] = list(map(decimals.__getitem__, column))
        else:
            values[name] = list(map(strings.__getitem__, column))
    return _in_order(values)


def _in_order(values: dict[str, list[Any]]) -> TradeColumns:
    """The columns ordered by (exit time, id) — checked in O(n); sorted only if they are not."""
    exits, ids = values["exit_time"], values["id"]
    if not all(map(lt, exits, islice(exits, 1, None))):  # equal exit times: their ids decide
        keys = list(zip(exits, ids, strict=True))
        if not all(map(le, keys, islice(keys, 1, None))):
            order = sorted(range(len(keys)), key=keys.__getitem__)
            values = {name: [column[i] for i in order] if column else [] for name, column in values.items()}
    return TradeColumns(**values)


def _connect(engine: Engine) -> Any:
    return engine.raw_connection()  # a pooled DBAPI connection with the engine's pragmas


@contextmanager
def raw_cursor(engine: Engine, what: str) -> Iterator[Any]:
    """A DBAPI cursor on a pooled connection, committed when the block ends without error and returned to the
    pool either way. Raises ``StorageError("cannot <what>: …")`` for any database error."""
    try:
        conn = _connect(engine)
        try:
            cursor = conn.cursor()
            try:
                yield cursor
                conn.commit()
            finally:
                cursor.close()
        finally:
            conn.close()
    except (sqlite3.Error, SQLAlchemyError) as exc:
        raise StorageError(f"cannot {what}: {exc.__class__.__name__}: {exc}") from exc


def trade_columns(
    engine: Engine,
    mode: str,
    account: str,
    since: datetime | None = None,
    columns: tuple[str, ...] = COLUMNS,
    until: datetime | None = None,
) -> TradeColumns:
    """Closed trades of (``mode``, ``account``) with ``since`` ≤ ``exit_time`` < ``until`` (``None``: no bound),
    oldest exit first, ordered by (exit_time, id), as columns (see ``TradeColumns`` for units) — ``columns`` of
    them (they must include ``id`` first and ``exit_time``; the others are left empty). One statement, so one
    consistent snapshot of the table; uses the (mode, account, exit_time) index.

    Raises ``StorageError`` if the database cannot be read (locked, corrupt, missing table) or a stored value
    cannot be parsed; ``ValueError`` if ``since`` or ``until`` is naive.
    """
    where, params = _where(mode, account, since, until)
    try:
        conn = _connect(engine)
        try:
            cursor = conn.cursor()
            try:
                count, *joined = cursor.execute(_aggregate_sql(where, columns), params).fetchone()
                if not count:
                    return _empty()
                raw = [text.split(_SEP) for text in joined]
                suffixed = True
                if any(len(column) != count for column in raw):  # a separator inside a value: plain rows
                    rows = cursor.execute(_rows_sql(where, columns), params).fetchall()
                    raw, suffixed = [list(column) for column in zip(*rows, strict=True)], False
            finally:
                cursor.close()
        finally:
            conn.close()
        return _parse(raw, suffixed, columns)
    except (sqlite3.Error, SQLAlchemyError) as exc:
        raise StorageError(f"cannot read trades: {exc.__class__.__name__}: {exc}") from exc
    except (ArithmeticError, ValueError, TypeError) as exc:  # decimal.InvalidOperation is an ArithmeticError
        raise StorageError(f"cannot read trades: a stored value is not valid: {exc}") from exc


def trade_columns_by_id(engine: Engine, ids: Sequence[int]) -> TradeColumns:
    """Every column of the trades ``ids``, in the order given (a trade no longer stored is left out). One
    query per 500 ids, by primary key. Raises ``StorageError`` like ``trade_columns``."""
    found: dict[int, tuple[Any, ...]] = {}
    try:
        conn = _connect(engine)
        try:
            cursor = conn.cursor()
            try:
                for i in range(0, len(ids), 500):
                    chunk = list(ids[i : i + 500])
                    marks = ", ".join("?" * len(chunk))
                    sql = f"SELECT {', '.join(COLUMNS)} FROM traderecord WHERE id IN ({marks})"
                    found.update((row[0], row) for row in cursor.execute(sql, chunk))
            finally:
                cursor.close()
        finally:
            conn.close()
        rows = [found[i] for i in ids if i in found]
        if not rows:
            return _empty()
        values = _parse([list(column) for column in zip(*rows, strict=True)], False)
        return values
    except (sqlite3.Error, SQLAlchemyError) as exc:
        raise StorageError(f"cannot read trades: {exc.__class__.__name__}: {exc}") from exc
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise StorageError(f"cannot read trades: a stored value is not valid: {exc}") from exc


def trade_ids(
    engine: Engine, mode: str, account: str, since: datetime | None = None, newest: int | None = None
) -> list[int]:
    """The ids of the closed trades of (``mode``, ``account``) with ``exit_time`` ≥ ``since`` (all if ``None``),
    ordered by (exit_time, id) — only the last ``newest`` of them if given — read from the (mode, account,
    exit_time) index alone. Raises ``StorageError`` if the database cannot be read; ``ValueError`` if ``since``
    is naive."""
    where, params = _where(mode, account, since)
    sql = f"SELECT id FROM traderecord WHERE {where} ORDER BY exit_time, id"
    if newest is not None:
        sql = f"SELECT id FROM traderecord WHERE {where} ORDER BY exit_time DESC, id DESC LIMIT {int(newest)}"
    with raw_cursor(engine, "read trades") as cursor:
        ids = [row[0] for row in cursor.execute(sql, params)]
    if newest is not None:
        ids.reverse()
    return ids


def newest_trade_id(engine: Engine, mode: str | None = None, account: str | None = None) -> int:
    """The largest ``traderecord.id`` (0 if none): of every scope when ``mode``/``account`` are ``None`` (one
    primary-key lookup — a cheap "was a trade stored since?" probe), else of that (mode, account) (reads its
    index entries). Raises ``StorageError`` if the database cannot be read."""
    if mode is None and account is None:
        sql, params = "SELECT max(id) FROM traderecord", ()
    elif mode is not None and account is not None:
        sql, params = "SELECT max(id) FROM traderecord WHERE mode = ? AND account = ?", (mode, account)
    else:
        raise ValueError("newest_trade_id: give both mode and account, or neither")
    with raw_cursor(engine, "read trades") as cursor:
        (newest,) = cursor.execute(sql, params).fetchone()
    return int(newest or 0)


STORED_COLUMNS = (
    "id",
    "mode",
    "account",
    "symbol",
    "side",
    "qty",
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "realized_pnl",
    "commissions",
    "pnl_unit",
    "mae",
    "mfe",
    "mae_points",
    "mfe_points",
    "tick_size",
    "total_efficiency",
    "r_multiple",
    "exit_reason",
)


def trades_after_as_stored(engine: Engine, after_id: int, limit: int = 1000) -> list[dict[str, Any]]:
    """Closed trades of every scope stored after the trade with id ``after_id``, in id order, at most ``limit``,
    as their stored values (``STORED_COLUMNS``): decimals as their exact stored text, times as the stored UTC
    text (``YYYY-MM-DD HH:MM:SS.ffffff``), ``None`` where nothing is stored. No ORM objects: the local API
    turns them into JSON text directly. By primary key: the cost is the rows read. Raises ``StorageError``."""
    sql = f"SELECT {', '.join(STORED_COLUMNS)} FROM traderecord WHERE id > ? ORDER BY id LIMIT ?"
    try:
        conn = _connect(engine)
        try:
            rows = conn.cursor().execute(sql, (after_id, limit)).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, SQLAlchemyError) as exc:
        raise StorageError(f"cannot read trades: {exc.__class__.__name__}: {exc}") from exc
    return [dict(zip(STORED_COLUMNS, row, strict=True)) for row in rows]

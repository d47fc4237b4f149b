"""The stored per-day trade summaries (``TradeDaySummary``, ``TradeSummaryMark``; issue 10): read them, find the
days whose trades changed since they were written, write them back. The summaries themselves are opaque text
here (``core.day_summary`` writes and reads them).

Trades are only ever inserted, never changed or deleted, so the days to fold again are those of the trades
stored after the scope's mark (``covered_id``). Safe from any thread: each call checks a connection out of the
engine's pool. Every function raises ``StorageError`` if the database cannot be read or written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from sqlalchemy import Engine

from data.trade_queries import raw_cursor


def day_bounds(day: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the calendar day ``YYYY-MM-DD``."""
    start = datetime.combine(date.fromisoformat(day), time(0), tzinfo=UTC)
    return start, datetime.fromordinal(start.toordinal() + 1).replace(tzinfo=UTC)


def utc_day(moment: datetime) -> str:
    """``YYYY-MM-DD`` of ``moment`` (aware) in UTC: the day key of a trade exiting then."""
    return moment.astimezone(UTC).date().isoformat()


def read_summaries(engine: Engine, mode: str, account: str, from_day: str | None = None) -> tuple[int, dict[str, str]]:
    """(``covered_id``, {day: summary text}) of (mode, account), the days from ``from_day`` on (all if ``None``);
    (0, {}) if none were written."""
    days = "" if from_day is None else " AND day >= ?"
    with raw_cursor(engine, "read the trade summaries") as cursor:
        row = cursor.execute(
            "SELECT covered_id FROM tradesummarymark WHERE mode = ? AND account = ?", (mode, account)
        ).fetchone()
        rows = cursor.execute(
            f"SELECT day, summary FROM tradedaysummary WHERE mode = ? AND account = ?{days}",
            (mode, account, *(() if from_day is None else (from_day,))),
        ).fetchall()
    return (int(row[0]) if row else 0), dict(rows)


def changed_days(engine: Engine, mode: str, account: str, after_id: int) -> tuple[set[str], int]:
    """(the UTC days of the trades of (mode, account) with ``id`` > ``after_id``, the new mark): the mark is
    the largest trade id of any scope when asked, so trades of other accounts are not walked again next time.
    A primary-key range: it costs the trades stored since, not the history."""
    with raw_cursor(engine, "read the trades stored since the summaries") as cursor:
        (newest,) = cursor.execute("SELECT max(id) FROM traderecord").fetchone()
        newest = max(after_id, int(newest or 0))
        # "+mode": not through the (mode, account, exit_time) index, which would walk the scope's history
        rows = cursor.execute(
            "SELECT DISTINCT substr(exit_time, 1, 10) FROM traderecord"
            " WHERE id > ? AND id <= ? AND +mode = ? AND +account = ?",
            (after_id, newest, mode, account),
        ).fetchall()
    return {day for (day,) in rows}, newest


def write_summaries(
    engine: Engine, mode: str, account: str, summaries: Mapping[str, str | None], covered_id: int
) -> None:
    """Store ``summaries`` ({day: text, or ``None`` to delete the day}) and the scope's mark, in one
    transaction."""
    with raw_cursor(engine, "store the trade summaries") as cursor:
        cursor.execute("BEGIN IMMEDIATE")
        for day, text in summaries.items():
            if text is None:
                cursor.execute(
                    "DELETE FROM tradedaysummary WHERE mode = ? AND account = ? AND day = ?", (mode, account, day)
                )
            else:
                cursor.execute(
                    "INSERT OR REPLACE INTO tradedaysummary (mode, account, day, summary) VALUES (?, ?, ?, ?)",
                    (mode, account, day, text),
                )
        cursor.execute(
            "INSERT OR REPLACE INTO tradesummarymark (mode, account, covered_id) VALUES (?, ?, ?)",
            (mode, account, covered_id),
        )

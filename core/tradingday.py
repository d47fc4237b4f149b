"""The trading day and the statistics periods, from the session start (default 18:00 America/New_York).

A trading day runs from one session start (``session_start`` on the wall clock of ``tz``) to the next. It is
named after a calendar day by one rule:

* a session that opens before 12:00 (e.g. 09:30) is named after the calendar day it opens on;
* a session that opens at 12:00 or later (e.g. 18:00) is named after the calendar day after it opens — the
  futures convention: a fill at 19:00 New York on Monday counts for Tuesday.

Either way the trading day named D is the one in session at 11:59 on D. Weeks, months and years are made of
the trading days named after their calendar days, so every period contains the instant it was asked for,
begins at a session start, and a fill counts in a period exactly when its own trading day is named after a
day of that period. Calendar days only: weekends and holidays are not skipped.

A session start the clocks skip on a given day (02:30 on the day they go forward) opens at the instant the
wall clock would have shown it before the change (03:30 after it); a repeated one opens at its first
occurrence.
"""

from __future__ import annotations

import calendar
import functools
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

NOON = time(12, 0)


@functools.lru_cache(maxsize=64)
def _session_time(session_start: str) -> time:
    """``HH:MM`` as a time; raises ``ValueError`` for anything else."""
    hours, minutes = (int(part) for part in session_start.split(":"))
    return time(hours, minutes)


def _opens(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """UTC instant of the session start on the wall clock of calendar ``day`` (first occurrence if repeated)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _name_offset(wall: time) -> timedelta:
    """How many days after its opening day a trading day is named: 0 before noon, 1 from noon on."""
    return timedelta(days=1) if wall >= NOON else timedelta(0)


def _opening_day(now: datetime, wall: time, zone: ZoneInfo) -> date:
    """The calendar day on which the session containing ``now`` opened: the latest day whose open ≤ now."""
    day = now.astimezone(zone).date() + timedelta(days=1)  # a repeated midnight can put it a day ahead
    instant = now.astimezone(UTC)
    while _opens(day, wall, zone) > instant:
        day -= timedelta(days=1)
    return day


def trading_day(now: datetime, session_start: str = "18:00", tz: str = "America/New_York") -> date:
    """The calendar day the trading day containing ``now`` (aware) is named after (see the module's rule).

    Raises ``ValueError`` for a ``session_start`` not in ``HH:MM`` form and ``ZoneInfoNotFoundError`` for
    an unknown time zone.
    """
    wall = _session_time(session_start)
    return _opening_day(now, wall, ZoneInfo(tz)) + _name_offset(wall)


def day_start(day: date, session_start: str = "18:00", tz: str = "America/New_York") -> datetime:
    """UTC instant at which the trading day named after calendar ``day`` begins."""
    wall = _session_time(session_start)
    return _opens(day - _name_offset(wall), wall, ZoneInfo(tz))


def trading_day_start(now: datetime, session_start: str = "18:00", tz: str = "America/New_York") -> datetime:
    """The UTC instant at which the trading day containing ``now`` (aware) began: the latest session start at
    or before ``now``.

    Raises ``ValueError`` for a ``session_start`` not in ``HH:MM`` form and ``ZoneInfoNotFoundError`` for
    an unknown time zone.
    """
    wall = _session_time(session_start)
    zone = ZoneInfo(tz)
    return _opens(_opening_day(now, wall, zone), wall, zone)


class Period(StrEnum):
    TODAY = "today"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "3m"
    YEAR = "ytd"
    ALL = "all"


PERIOD_LABELS = {
    Period.TODAY: "Today",
    Period.WEEK: "Week",
    Period.MONTH: "Month",
    Period.QUARTER: "3 months",
    Period.YEAR: "Year to date",
    Period.ALL: "All",
}


def _months_back(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier, or that month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_start(
    period: Period, now: datetime, session_start: str = "18:00", tz: str = "America/New_York"
) -> datetime | None:
    """UTC start of ``period`` containing ``now`` (aware), in trading days named by the module's rule: today's
    session; the session of the trading day named after the week's Monday; of the month's or year's first
    calendar day; for ``QUARTER`` of the same calendar day three months back (the month's last day if that
    month is shorter). ``None`` for ``ALL``. The start is never after ``now``."""
    if period == Period.ALL:
        return None
    if period == Period.TODAY:
        return trading_day_start(now, session_start, tz)
    named = trading_day(now, session_start, tz)
    if period == Period.WEEK:
        first = named - timedelta(days=named.weekday())
    elif period == Period.MONTH:
        first = named.replace(day=1)
    elif period == Period.QUARTER:
        first = _months_back(named, 3)
    else:
        first = named.replace(month=1, day=1)
    return day_start(first, session_start, tz)

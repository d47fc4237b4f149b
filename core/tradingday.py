"""The futures trading day: it starts at the session start (default 18:00 America/New_York) on the evening
before the calendar day it is named after, so a fill at 19:00 New York time on Monday counts for Tuesday."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


def trading_day_start(now: datetime, session_start: str = "18:00", tz: str = "America/New_York") -> datetime:
    """The UTC instant at which the trading day containing ``now`` (aware) began.

    Raises ``ValueError`` for a ``session_start`` not in ``HH:MM`` form and ``ZoneInfoNotFoundError`` for
    an unknown time zone.
    """
    hours, minutes = (int(part) for part in session_start.split(":"))
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    start = datetime.combine(local.date(), time(hours, minutes), tzinfo=zone)
    if start > local:
        start = datetime.combine(local.date() - timedelta(days=1), time(hours, minutes), tzinfo=zone)
    return start.astimezone(UTC)


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


def period_start(
    period: Period, now: datetime, session_start: str = "18:00", tz: str = "America/New_York"
) -> datetime | None:
    """UTC start of ``period`` containing ``now``, in trading days: today's session; the week's Monday
    session (which opens Sunday evening); the session of the month's / year's first calendar day (opening
    the evening before); for ``QUARTER`` the session of the same calendar day three months back.
    ``None`` for ``ALL``."""
    if period == Period.ALL:
        return None
    today = trading_day_start(now, session_start, tz)
    if period == Period.TODAY:
        return today
    zone = ZoneInfo(tz)
    # the calendar date a trading day is named after: the day after its evening open
    named = (today.astimezone(zone) + timedelta(days=1)).date()
    if period == Period.WEEK:
        first = named - timedelta(days=named.weekday())
    elif period == Period.MONTH:
        first = named.replace(day=1)
    elif period == Period.QUARTER:
        month = named.month - 3
        year = named.year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        first = named.replace(year=year, month=month, day=min(named.day, 28))
    else:
        first = named.replace(month=1, day=1)
    noon = datetime.combine(first, time(12, 0), tzinfo=zone)
    return trading_day_start(noon, session_start, tz)

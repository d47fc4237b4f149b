"""The futures trading day: it starts at the session start (default 18:00 America/New_York) on the evening
before the calendar day it is named after, so a fill at 19:00 New York time on Monday counts for Tuesday."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
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

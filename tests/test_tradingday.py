"""The trading day and the statistics periods (Today, Week, Month, 3 months, Year) for every session start.

A period the trader picks must contain "now", begin at a session start, and count a fill exactly when the
fill's own trading day belongs to it — for a session that opens in the evening (futures, 18:00 New York) or
in the morning (09:30), on any day, across daylight-saving changes in several zones.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.tradingday import Period, period_start, trading_day_start

NEW_YORK = ZoneInfo("America/New_York")
CALENDAR_PERIODS = (Period.TODAY, Period.WEEK, Period.MONTH, Period.YEAR)
"""Periods that are calendar units: every instant of one has the same period start."""
ZONES = (
    "America/New_York",
    "America/Chicago",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",  # southern hemisphere: clocks go back in April
    "Australia/Lord_Howe",  # a 30-minute change
    "America/Santiago",  # changes at midnight: 00:00 is skipped or repeated
    "Asia/Tokyo",  # no change
)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def starts(now: datetime, session: str) -> dict[Period, datetime | None]:
    """Every period's start at ``now``, in New York time (what the trader reads)."""
    out: dict[Period, datetime | None] = {}
    for period in Period:
        start = period_start(period, now, session)
        out[period] = start.astimezone(NEW_YORK) if start is not None else None
    return out


def test_month_contains_now_for_morning_session() -> None:
    now = ny(2025, 10, 31, 10, 0)  # a Friday, half an hour after a 09:30 open
    assert starts(now, "09:30") == {
        Period.TODAY: ny(2025, 10, 31, 9, 30),
        Period.WEEK: ny(2025, 10, 27, 9, 30),  # Monday's open
        Period.MONTH: ny(2025, 10, 1, 9, 30),
        Period.QUARTER: ny(2025, 7, 31, 9, 30),
        Period.YEAR: ny(2025, 1, 1, 9, 30),
        Period.ALL: None,
    }


def test_before_the_morning_open_the_month_is_still_last_month() -> None:
    now = ny(2025, 11, 1, 8, 0)  # 1 November 08:00: the trading day of 31 October runs until 09:30
    assert trading_day_start(now, "09:30") == ny(2025, 10, 31, 9, 30)
    assert period_start(Period.MONTH, now, "09:30") == ny(2025, 10, 1, 9, 30)
    assert period_start(Period.WEEK, now, "09:30") == ny(2025, 10, 27, 9, 30)


def test_evening_session_counts_for_the_next_calendar_day() -> None:
    now = ny(2025, 10, 31, 19, 0)  # Friday 19:00: the 18:00 open started the trading day of Saturday 1 November
    assert starts(now, "18:00") == {
        Period.TODAY: ny(2025, 10, 31, 18, 0),
        Period.WEEK: ny(2025, 10, 26, 18, 0),  # the week of Monday 27 October opened on Sunday evening
        Period.MONTH: ny(2025, 10, 31, 18, 0),  # November's first trading day
        Period.QUARTER: ny(2025, 7, 31, 18, 0),  # the trading day of 1 August
        Period.YEAR: ny(2024, 12, 31, 18, 0),
        Period.ALL: None,
    }


# --- properties: every period, every session start, every daylight-saving change ------------------------


@functools.cache
def clock_changes(zone: str) -> tuple[datetime, ...]:
    """The UTC instants at which ``zone``'s UTC offset changes, 2020–2030 (found hour by hour)."""
    tz = ZoneInfo(zone)
    found = []
    t = datetime(2020, 1, 1, tzinfo=UTC)
    offset = t.astimezone(tz).utcoffset()
    while t.year < 2031:
        t += timedelta(minutes=30)
        now_offset = t.astimezone(tz).utcoffset()
        if now_offset != offset:
            found.append(t)
            offset = now_offset
    return tuple(found) or (datetime(2025, 3, 9, 7, tzinfo=UTC),)


def session_opens(start: datetime, session: str, zone: str) -> bool:
    """Whether ``start`` is the moment a session opens: ``session`` on the wall clock of some day (a time
    the clocks skip that day opens when the clocks have moved on)."""
    tz = ZoneInfo(zone)
    day = start.astimezone(tz).date()
    wall = time.fromisoformat(session)
    return any(datetime.combine(day + timedelta(days=k), wall, tzinfo=tz).astimezone(UTC) == start for k in (-1, 0, 1))


def latest_open(now: datetime, session: str, zone: str) -> datetime:
    """The last session open at or before ``now``, among the opens of the surrounding calendar days."""
    tz = ZoneInfo(zone)
    day = now.astimezone(tz).date()
    wall = time.fromisoformat(session)
    opens = [datetime.combine(day + timedelta(days=k), wall, tzinfo=tz).astimezone(UTC) for k in range(-3, 4)]
    return max(t for t in opens if t <= now)


def check_periods(now: datetime, session: str, zone: str, fill: datetime) -> None:
    today = trading_day_start(now, session, zone)
    assert today == latest_open(now, session, zone), f"today starts at {today}, now is {now}"
    for period in (Period.TODAY, Period.WEEK, Period.MONTH, Period.QUARTER, Period.YEAR):
        start = period_start(period, now, session, zone)
        assert start is not None
        assert start <= today <= now, f"{period} starts at {start}, after now {now}"
        assert session_opens(start, session, zone), f"{period} starts at {start}, not at a session open"
        assert trading_day_start(start, session, zone) == start
        if period in CALENDAR_PERIODS:
            assert period_start(period, start, session, zone) == start  # a period starts at its own start
            # a fill before now is counted exactly when its own trading day is in this period
            if fill <= now:
                assert (fill >= start) == (period_start(period, fill, session, zone) == start), (period, fill)
    assert period_start(Period.TODAY, now, session, zone) == today
    assert period_start(Period.ALL, now, session, zone) is None


sessions = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))


@st.composite
def instants_near_clock_changes(draw: st.DrawFn) -> tuple[datetime, str]:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):
        change = draw(st.sampled_from(clock_changes(zone)))
        now = change + timedelta(seconds=draw(st.integers(-3 * 86_400, 3 * 86_400)))
    else:
        now = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 10 * 365 * 86_400)))
    return now, zone


@settings(max_examples=500, deadline=None)
@given(instants_near_clock_changes(), sessions, st.integers(-40 * 86_400, 0))
def test_every_period_contains_now_for_any_session_start(
    now_zone: tuple[datetime, str], session: str, fill_offset: int
) -> None:
    now, zone = now_zone
    check_periods(now, session, zone, now + timedelta(seconds=fill_offset))


def test_every_period_contains_now_for_each_minute_of_the_day_across_new_york_clock_changes() -> None:
    # the 2025 changes (9 March 07:00 UTC, 2 November 06:00 UTC) and the month ends around them
    instants = [ny(2025, 10, 31, 10, 0).astimezone(UTC)]
    for change in (datetime(2025, 3, 9, 7, tzinfo=UTC), datetime(2025, 11, 2, 6, tzinfo=UTC)):
        instants += [change + timedelta(hours=h) for h in (-30, -1, 0, 1, 30)]
    for minute in range(24 * 60):
        session = f"{minute // 60:02d}:{minute % 60:02d}"
        for now in instants:
            check_periods(now, session, "America/New_York", now - timedelta(days=1, minutes=minute))


def test_named_trading_day_matches_calendar_day_at_noon() -> None:
    # the trading day named after a calendar day is the one in session at 11:59 on that day
    for session in ("00:00", "09:30", "11:59", "12:00", "18:00", "23:59"):
        for day in (date(2025, 3, 9), date(2025, 10, 31), date(2025, 11, 2)):
            noonish = datetime.combine(day, time(11, 59), tzinfo=NEW_YORK)
            month = period_start(Period.MONTH, noonish, session)
            expected = trading_day_start(datetime.combine(day.replace(day=1), time(11, 59), tzinfo=NEW_YORK), session)
            assert month == expected, (session, day)

"""Pure scheduling rules: session times as wall-clock times in the programme's zone.

A series is defined in local time ("Mondays at 9:00 in Europe/Helsinki, every three weeks"),
so each occurrence is computed from the local date and time and only then converted to UTC.
Adding 21 days to a UTC instant would drift by an hour across a daylight-saving change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a day in a zone.

    A time that does not exist (skipped by a spring-forward change) is moved forward by the
    gap, as people expect ("2:30 that night" becomes 3:30); an ambiguous time (autumn) takes
    the first occurrence (fold=0).
    """
    # PEP 495: with fold=0 a time in the spring gap is read with the offset before the change
    # (so it lands after the gap, moved forward by it) and an ambiguous autumn time is the
    # first of the two. Both are what people expect.
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def series(
    first_day: date, at: time, tz_name: str, *, count: int, every_weeks: int
) -> list[datetime]:
    """UTC starts of `count` sessions every `every_weeks` weeks at local time `at`."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if every_weeks < 1:
        raise ValueError("every_weeks must be at least 1")
    tz = ZoneInfo(tz_name)
    return [
        local_to_utc(first_day + timedelta(weeks=every_weeks * index), at, tz)
        for index in range(count)
    ]


def next_weekday(after: date, weekday: int = 0) -> date:
    """The first date strictly after `after` falling on `weekday` (0 = Monday)."""
    days = (weekday - after.weekday()) % 7 or 7
    return after + timedelta(days=days)

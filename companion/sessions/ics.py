"""Calendar invitations (.ics) for sessions, built with icalendar from plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText


@dataclass(frozen=True)
class CalendarEntry:
    """One session as it goes into a calendar."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    url: str
    description: str
    cancelled: bool = False
    sequence: int = 0


def build_calendar(entries: Sequence[CalendarEntry], *, method: str = "PUBLISH") -> bytes:
    """An iCalendar file; times carry the programme's zone (with VTIMEZONE) so clients show
    them at the right local time, including across daylight-saving changes."""
    calendar = Calendar()
    calendar.add("prodid", "-//Kollega//Peer mentoring sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    for entry in entries:
        tz = ZoneInfo(entry.timezone)
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", datetime.now(tz=ZoneInfo("UTC")))
        event.add("dtstart", entry.starts_at.astimezone(tz))
        event.add("dtend", entry.ends_at.astimezone(tz))
        event.add("summary", entry.title)
        event.add("description", entry.description)
        event.add("location", vText(entry.url))
        event.add("url", entry.url)
        event.add("sequence", entry.sequence)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical

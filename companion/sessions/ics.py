"""Calendar invitations (.ics) for sessions, built with icalendar from plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText


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
    #: Raised by every change of the session, so calendars replace their copy (same UID).
    sequence: int = 0
    #: The sender's address; a cancellation (METHOD:CANCEL) names its organizer (RFC 5546).
    organizer: str = ""
    #: The recipient's address, for a cancellation addressed to one person.
    attendee: str = ""


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
        if entry.organizer:
            event.add("organizer", vCalAddress(f"mailto:{entry.organizer}"))
        if entry.attendee and method == "CANCEL":
            event.add("attendee", vCalAddress(f"mailto:{entry.attendee}"))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical

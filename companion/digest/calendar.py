"""The digest's calendar invitation: one session, in the programme's time zone (icalendar).

Two things make a thousand invitations cheap. icalendar derives a VTIMEZONE from the zone's
rules, by default for 1970-2038, which costs tens of milliseconds and several kilobytes per
email; the years around the session are all a calendar needs. And everything but the personal
join link is the same for every recipient of a session. So the shared part is serialised once
(cached), and per recipient only the three properties that carry their link are; whole
content lines are spliced, so icalendar's line folding stays intact. Those three lines are
written here (escaped by icalendar's value types, folded as icalendar folds) rather than by
building and serialising an Event per recipient, which cost most of a millisecond each.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vText, vUri

from companion.sessions.ics import CalendarEntry

_END_EVENT = b"END:VEVENT\r\n"


@lru_cache(maxsize=64)
def timezone_block(timezone: str, year: int) -> bytes:
    """The VTIMEZONE of `timezone` for the year before to the year after `year`."""
    component = Timezone.from_tzinfo(
        ZoneInfo(timezone),
        timezone,
        first_date=date(year - 1, 1, 1),
        last_date=date(year + 1, 12, 31),
    )
    block: bytes = component.to_ical()
    return block


@lru_cache(maxsize=256)
def _shared_part(
    uid: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    sequence: int,
    cancelled: bool,
    method: str,
    stamp: datetime,
) -> bytes:
    tz = ZoneInfo(timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//Kollega//Peer mentoring sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at.astimezone(tz))
    event.add("dtend", ends_at.astimezone(tz))
    event.add("summary", title)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    raw: bytes = calendar.to_ical()
    block = timezone_block(timezone, starts_at.astimezone(tz).year)
    return raw.replace(b"BEGIN:VEVENT", block + b"BEGIN:VEVENT", 1)


def invitation(entry: CalendarEntry, *, method: str = "PUBLISH") -> bytes:
    """An .ics with one event at the right local time (TZID plus its VTIMEZONE)."""
    # DTSTAMP to the minute, so the shared part serves a whole digest run from the cache.
    stamp = datetime.now(UTC).replace(second=0, microsecond=0)
    shared = _shared_part(
        entry.uid,
        entry.title,
        entry.starts_at,
        entry.ends_at,
        entry.timezone,
        entry.sequence,
        entry.cancelled,
        method,
        stamp,
    )
    personal = (
        _content_line(b"DESCRIPTION", vText(entry.description).to_ical()),
        _content_line(b"LOCATION", vText(entry.url).to_ical()),
        _content_line(b"URL", vUri(entry.url).to_ical()),
    )
    return shared.replace(_END_EVENT, b"".join(personal) + _END_EVENT, 1)


#: RFC 5545 3.1: content lines are folded to at most 75 octets (continuations start with a
#: space), so a piece holds at most 74 octets, as icalendar folds them.
_FOLD_OCTETS = 74


def _content_line(name: bytes, value: bytes) -> bytes:
    """`NAME:value` folded, CRLF-terminated; never splits a UTF-8 character or an escape."""
    line = name + b":" + value
    pieces = []
    start = 0
    while len(line) - start > _FOLD_OCTETS:
        end = start + _FOLD_OCTETS
        while line[end] & 0xC0 == 0x80:  # inside a character: cut before it
            end -= 1
        if line[end - 1 : end] in (b"\\", b"^") and end - 1 > start:
            end -= 1  # keep a backslash escape (or RFC 6868 caret) with what it escapes
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return b"\r\n ".join(pieces) + b"\r\n"

"""Times as Graph writes them: `dateTimeTimeZone` for events, DateTimeOffset for meetings.

Outlook's `dateTimeTimeZone.timeZone` takes Windows zone names and a short list of IANA
names; the programme's IANA zone is turned into its Windows name with the CLDR table that
tzlocal ships (Europe/Helsinki → "FLE Standard Time"), falling back to UTC. Graph answers
event times in UTC unless asked otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz


def windows_zone(iana: str) -> str | None:
    """The Windows name of an IANA zone, or None when CLDR has none."""
    return tz_win.get(iana)


def _zone(name: str) -> tzinfo | None:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(win_tz.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def event_time(when: datetime, iana: str) -> dict[str, str]:
    """A `dateTimeTimeZone` in the programme's zone (UTC when Outlook would not know it)."""
    name = windows_zone(iana)
    zone = _zone(iana) if name else None
    if name is None or zone is None:
        return {"dateTime": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}
    return {"dateTime": when.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": name}


def parse_event_time(value: Any) -> datetime | None:
    """The aware UTC time of a `dateTimeTimeZone` Graph answered, or None."""
    if not isinstance(value, Mapping):
        return None
    zone = _zone(str(value.get("timeZone") or "UTC"))
    text = str(value.get("dateTime") or "")
    if zone is None or not text:
        return None
    try:
        # Graph writes seven fraction digits ("...T09:00:00.0000000"); Python reads six.
        parsed = datetime.fromisoformat(text[:26].rstrip("Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def offset_time(when: datetime) -> str:
    """A DateTimeOffset as Graph takes it (UTC, `Z`)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_offset_time(value: Any) -> datetime | None:
    """An aware UTC time from a Graph DateTimeOffset, or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(c for c in tail if c.isdigit())
        text = f"{head}.{digits[:6]}{tail[len(digits) :]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)

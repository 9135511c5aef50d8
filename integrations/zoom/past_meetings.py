"""Reading a meeting's past runs: its instances and each one's participants (NOTES §3).

A meeting that ran twice (ended, then started again) has a UUID per run; the meeting id names
the last run only, so attendance reads every instance.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from companion.meetings.platform import AttendanceRecord, Room
from integrations.zoom.client import ZoomApi, read_json

log = logging.getLogger(__name__)

#: Items per page of Zoom's lists (at most 300, NOTES §3) and pages read at most.
LIST_PAGE_SIZE = 300
LIST_MAX_PAGES = 10


def encode_uuid(uuid: str) -> str:
    """A meeting UUID as a path segment, double-encoded if it starts with / or has // (NOTES §3)."""
    once = quote(uuid, safe="")
    if uuid.startswith("/") or "//" in uuid:
        return quote(once, safe="")
    return once


def parse_time(value: Any) -> datetime | None:
    """A Zoom timestamp (`2019-08-30T22:00:00Z`) as an aware datetime; None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def past_instances(api: ZoomApi, room: Room) -> list[str]:
    """UUIDs of the meeting's ended runs, or its id (= its latest run) when none is listed.

    The run a `meeting.ended` webhook named (`last_uuid`) is added: Zoom may list it a little
    later than it sends the event.
    """
    meeting_id = int(room.external_id)
    # NOTES §3: GET /past_meetings/{meetingId}/instances → {"meetings": [{uuid, start_time}]}.
    answer = api.request("GET", f"/past_meetings/{meeting_id}/instances", missing_ok=True)
    listed = read_json(answer).get("meetings") if answer.status_code != 404 else None
    uuids = [str(item["uuid"]) for item in listed or [] if item.get("uuid")]
    last = str(room.data.get("last_uuid") or "")
    if last:
        uuids.append(last)
    return list(dict.fromkeys(uuids)) or [str(meeting_id)]


def past_participants(api: ZoomApi, key: str) -> list[AttendanceRecord]:
    """One run's participants, one record per visit (`key`: its UUID, or the meeting id)."""
    path = f"/past_meetings/{encode_uuid(key)}/participants"
    records: list[AttendanceRecord] = []
    token: str | None = None
    for _page in range(LIST_MAX_PAGES):
        params: dict[str, Any] = {"page_size": LIST_PAGE_SIZE}
        if token:
            params["next_page_token"] = token
        response = api.request("GET", path, params=params, missing_ok=True)
        if response.status_code == 404:
            # A run Zoom no longer (or not yet) has; the other runs still count.
            log.info("Zoom has no participants for one past run of a meeting")
            break
        answer = read_json(response)
        for item in answer.get("participants") or []:
            joined = parse_time(item.get("join_time"))
            if joined is None:
                continue
            duration = item.get("duration")
            records.append(
                AttendanceRecord(
                    email=str(item.get("user_email") or "").strip().lower(),
                    name=str(item.get("name") or ""),
                    joined_at=joined,
                    left_at=parse_time(item.get("leave_time")),
                    minutes=round(duration / 60) if isinstance(duration, int) else None,
                )
            )
        token = answer.get("next_page_token") or None
        if not token:
            break
    return records

"""Attendance from Zoom: past participants of every run of the meeting, as the session's
platform presence (NOTES §3).

Importing this module registers the job `zoom.import_attendance`. Like every operations module
here: no `flask.request`; the caller commits and checks access.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from companion.core.db import Db, utcnow
from companion.core.errors import Conflict
from companion.core.jobs import job_handler
from companion.meetings import operations as rooms
from companion.meetings.platform import PlatformError
from companion.programmes.models import Participant
from companion.sessions import attendance
from companion.sessions.models import Session
from integrations.zoom.configuration import PLATFORM
from integrations.zoom.session_meeting import as_room, domain_error, require_zoom_session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttendanceImport:
    """What reading Zoom's past participants gave."""

    matched: int
    unmatched: list[str] = field(default_factory=list)


def members_by_email(session: Session) -> dict[str, Participant]:
    """The session's group members by their email, trimmed and lower-cased."""
    return {
        m.participant.email.strip().lower(): m.participant
        for m in session.group.memberships
        if m.participant.email
    }


def import_attendance(db: Db, session: Session) -> AttendanceImport:
    """Read Zoom's past participants of every run of the meeting into the session's presence.

    Matched by email (Zoom leaves it empty for people outside the host's account, NOTES §3).
    Zoom's earlier report of the session is replaced: each visit of each run is recorded,
    so minutes add up over visits and runs, and the earliest join and the latest leave win.
    """
    require_zoom_session(session)
    row = session.room
    if row is None:
        raise Conflict(_("The session has no Zoom meeting."))
    platform = rooms.platform_for(db, session, rooms.host_of(db, row))
    try:
        records = platform.fetch_attendance(as_room(row))
    except PlatformError as exc:
        raise domain_error(exc) from None
    members = members_by_email(session)
    matched: set[int] = set()
    unmatched: list[str] = []
    if records:
        # An empty answer replaces nothing: Zoom lists nobody for a one-person meeting and
        # nothing for a free account (NOTES §3), and the webhooks' report is better than none.
        attendance.clear_platform_presence(db, session, platform=PLATFORM)
    for record in records:
        participant = members.get(record.email) if record.email else None
        if participant is None:
            if record.name and record.name not in unmatched:
                unmatched.append(record.name)
            continue
        attendance.record_platform_presence(
            db,
            session,
            participant.id,
            platform=PLATFORM,
            joined_at=record.joined_at,
            left_at=record.left_at,
            minutes=record.minutes,
        )
        matched.add(participant.id)
    row.data = {
        **row.data,
        "attendance_import": {
            "at": utcnow().isoformat(),
            "matched": len(matched),
            "unmatched": unmatched[:50],
        },
    }
    db.flush()
    return AttendanceImport(matched=len(matched), unmatched=unmatched)


@job_handler("zoom.import_attendance")
def import_attendance_job(db: Db, payload: dict[str, Any]) -> None:
    """Read past participants some minutes after a meeting ended."""
    session = db.get(Session, payload["session_id"])
    if session is None or session.platform != PLATFORM or session.room is None:
        return
    try:
        import_attendance(db, session)
    except Conflict:
        log.info("No attendance to import for session %s", session.id)

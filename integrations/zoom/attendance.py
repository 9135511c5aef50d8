"""Attendance from Zoom: past participants merged into a session's attendance (NOTES §3).

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
from companion.sessions.attendance import clear_platform_presence, record_platform_presence
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
    """Merge Zoom's past participants into the session's attendance (NOTES §3).

    Matched by email (Zoom leaves it empty for people outside the host's account); each
    person's visits fold into one row: earliest join, latest leave, minutes added up.
    """
    require_zoom_session(session)
    row = session.room
    if row is None:
        raise Conflict(_("The session has no Zoom meeting."))
    platform = rooms.platform_for(db, session, row.data.get("host_facilitator_id"))
    try:
        records = platform.fetch_attendance(as_room(row))
    except PlatformError as exc:
        raise domain_error(exc) from None
    members = members_by_email(session)
    visits: dict[int, list[Any]] = {}
    unmatched: list[str] = []
    for record in records:
        participant = members.get(record.email) if record.email else None
        if participant is None:
            if record.name and record.name not in unmatched:
                unmatched.append(record.name)
            continue
        visits.setdefault(participant.id, []).append(record)
    # Zoom's report is the whole truth of the platform's side: it replaces what the live
    # participant events said (so importing twice counts nobody's minutes twice).
    clear_platform_presence(db, session, platform="zoom")
    for participant_id, person_visits in visits.items():
        lefts = [v.left_at for v in person_visits if v.left_at is not None]
        minutes = [v.minutes for v in person_visits if v.minutes is not None]
        record_platform_presence(
            db,
            session,
            participant_id,
            platform="zoom",
            joined_at=min(v.joined_at for v in person_visits),
            left_at=max(lefts) if lefts else None,
            minutes=sum(minutes) if minutes else None,
        )
    row.data = {
        **row.data,
        "attendance_import": {
            "at": utcnow().isoformat(),
            "matched": len(visits),
            "unmatched": unmatched[:50],
        },
    }
    db.flush()
    return AttendanceImport(matched=len(visits), unmatched=unmatched)


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

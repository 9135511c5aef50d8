"""Attendance from Teams: the attendance reports of a session's meetings, polled after it ends.

NOTES §2.4: a report exists only after a meeting ends, and only the organiser reads it. When
a Teams session ends, the worker asks for the reports of the main meeting and of every group
meeting, again and again with a growing pause, until each meeting has one or a cutoff passes.
Each pass reads everything afresh and replaces Teams' reports of the session, so a repeated
pass never counts anyone twice. People are matched to the group's participants by email
(case-insensitively); the facts go in through `attendance.record_platform_presence`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.jobs import enqueue_job, job_handler
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import AttendanceRecord, Room
from companion.sessions import attendance
from companion.sessions.models import Session
from companion.sessions.operations import on_session_ended
from integrations.teams.platform import PLATFORM, TeamsPlatform

log = logging.getLogger(__name__)

#: The first look, after the meeting's end (Teams needs a moment to make the report).
FIRST_DELAY = timedelta(minutes=5)
#: The pause doubles up to this.
MAX_DELAY = timedelta(hours=4)
#: After this long past the session's end, meetings without a report are given up on.
CUTOFF = timedelta(hours=48)


@dataclass
class AttendanceImport:
    """What one pass over a session's meetings found."""

    meetings: int = 0
    #: Meetings that have a report by now.
    reported: int = 0
    matched: int = 0
    unmatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every meeting has reported."""
        return self.reported >= self.meetings


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _meeting_rooms(session: Session) -> list[MeetingRoom]:
    """The session's active Teams meetings, one row per online meeting, the main one first."""
    seen: set[str] = set()
    rows = []
    for row in sorted(session.rooms, key=lambda r: (r.purpose != "plenary", r.id)):
        meeting_id = str(row.data.get("online_meeting_id") or "")
        if row.platform != PLATFORM or row.status != "active" or not meeting_id:
            continue
        if meeting_id not in seen:
            seen.add(meeting_id)
            rows.append(row)
    return rows


def import_attendance(db: Db, config: Config, session: Session) -> AttendanceImport:
    """Read the reports of all the session's meetings and record who was there."""
    result = AttendanceImport()
    members = {
        m.participant.email.strip().lower(): m.participant.id
        for m in session.group.memberships
        if m.participant.email
    }
    found: dict[int, list[AttendanceRecord]] = defaultdict(list)
    for row in _meeting_rooms(session):
        result.meetings += 1
        platform = TeamsPlatform(config, db, row.data.get("host_facilitator_id"))
        room = Room(row.external_id, row.join_url, dict(row.data))
        if not platform.attendance_reports(room):
            continue
        result.reported += 1
        for record in platform.fetch_attendance(room):
            participant_id = members.get(record.email) if record.email else None
            if participant_id is None:
                if record.name and record.name not in result.unmatched:
                    result.unmatched.append(record.name)
                continue
            found[participant_id].append(record)
    if result.reported:
        attendance.clear_platform_presence(db, session, platform=PLATFORM)
        for participant_id, records in found.items():
            for record in records:
                attendance.record_platform_presence(
                    db,
                    session,
                    participant_id,
                    platform=PLATFORM,
                    joined_at=record.joined_at,
                    left_at=record.left_at,
                    minutes=record.minutes,
                )
    result.matched = len(found)
    main = next((r for r in session.rooms if r.purpose == "plenary" and r.status == "active"), None)
    if main is not None and main.platform == PLATFORM:
        main.data = {
            **main.data,
            "attendance_import": {
                "at": utcnow().isoformat(),
                "meetings": result.meetings,
                "reported": result.reported,
                "matched": result.matched,
                "unmatched": result.unmatched[:50],
            },
        }
    db.flush()
    return result


def schedule_attendance(
    db: Db, session: Session, attempt: int = 0, at: datetime | None = None
) -> None:
    """Queue a look at the session's attendance reports (pass number `attempt`)."""
    enqueue_job(
        db,
        "teams.attendance",
        {"session_id": session.id, "attempt": attempt},
        run_at=at or utcnow() + FIRST_DELAY,
        dedupe_key=f"teams-attendance-{session.id}-{attempt}",
    )


@on_session_ended
def _after_session(db: Db, session: Session) -> None:
    if session.platform == PLATFORM:
        schedule_attendance(db, session)


@job_handler("teams.attendance")
def attendance_job(db: Db, payload: dict[str, Any]) -> None:
    """One pass; another is queued, later each time, until every meeting has reported."""
    session = db.get(Session, payload["session_id"])
    if session is None or session.platform != PLATFORM or session.is_cancelled:
        return
    result = import_attendance(db, _config(), session)
    if result.complete:
        return
    if utcnow() >= session.ends_at + CUTOFF:
        log.info(
            "Teams attendance of session %s: %s of %s meetings reported by the cutoff",
            session.id,
            result.reported,
            result.meetings,
        )
        return
    attempt = int(payload.get("attempt", 0)) + 1
    delay = min(FIRST_DELAY * 2**attempt, MAX_DELAY)
    schedule_attendance(db, session, attempt, utcnow() + delay)

"""A facilitator's view of Teams meetings: the programme's invitation choice, a session's
meeting (re-made when needed), its group meetings and reading attendance on demand.

Like every operations module: no `flask.request`, the caller commits, access is checked by
the caller (`get_programme`, `get_session`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotFound, Unavailable
from companion.meetings import operations as rooms
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import PlatformError
from companion.programmes.models import Programme
from companion.sessions.models import Session
from integrations.teams.attendance import AttendanceImport, import_attendance
from integrations.teams.models import TeamsProgrammeSettings
from integrations.teams.platform import PLATFORM, invites_participants


@dataclass(frozen=True)
class GroupMeeting:
    """A breakout group's own Teams meeting, as the facilitator's page lists it."""

    round_number: int
    group_name: str
    join_url: str
    status: str
    error: str


def require_teams_session(session: Session) -> None:
    """NotFound unless the session meets on Teams."""
    if session.platform != PLATFORM:
        raise NotFound(_("This session does not meet on Teams."))


def teams_room(session: Session) -> MeetingRoom | None:
    """The session's main Teams meeting row in whatever state (the newest live one first)."""
    candidates = [r for r in session.rooms if r.purpose == "plenary" and r.platform == PLATFORM]
    live = [r for r in candidates if r.status != "deleted"]
    chosen = live or candidates
    return max(chosen, key=lambda r: r.id) if chosen else None


def group_meetings(db: Db, session: Session) -> list[GroupMeeting]:
    """Every breakout group's meeting of the session, round by round."""
    from companion.breakouts.models import BreakoutGroup, BreakoutRound

    groups = db.scalars(
        select(BreakoutGroup)
        .join(BreakoutRound, BreakoutRound.id == BreakoutGroup.round_id)
        .where(BreakoutRound.session_id == session.id, BreakoutGroup.room_id.is_not(None))
        .order_by(BreakoutRound.number, BreakoutGroup.position)
    )
    return [
        GroupMeeting(
            round_number=group.round.number,
            group_name=group.name,
            join_url=group.room.join_url if group.room else "",
            status=group.room.status if group.room else "",
            error=str(group.room.data.get("error") or "") if group.room else "",
        )
        for group in groups
    ]


def invitation_setting(db: Db, programme: Programme) -> bool:
    """Whether Outlook invites the programme's participants to its sessions."""
    return invites_participants(db, programme.id)


def set_invitations(db: Db, programme: Programme, invite: bool) -> None:
    """Choose whether participants are invited; upcoming meetings follow at their next change."""
    row = db.scalar(
        select(TeamsProgrammeSettings).where(TeamsProgrammeSettings.programme_id == programme.id)
    )
    if row is None:
        row = TeamsProgrammeSettings(programme_id=programme.id)
        db.add(row)
    row.invite_participants = invite
    db.flush()
    for group in programme.groups:
        for session in group.sessions:
            upcoming = session.ends_at > utcnow() and not session.is_cancelled
            if session.platform == PLATFORM and upcoming and session.room:
                rooms.reschedule_room(db, session)


def recreate_meeting(db: Db, session: Session, facilitator: Facilitator) -> MeetingRoom:
    """Make the session a new Teams meeting organised by this facilitator."""
    require_teams_session(session)
    if session.is_cancelled:
        raise Conflict(_("A cancelled session gets no meeting."))
    row = teams_room(session)
    if row is not None and row.status == "active":
        raise Conflict(_("The session already has its Teams meeting."))
    if row is None:
        return rooms.ensure_session_room(db, session, facilitator.id)
    row.status = "pending"
    row.external_id = ""
    row.join_url = ""
    row.data = {"host_facilitator_id": facilitator.id}
    db.flush()
    return rooms.ensure_session_room(db, session, facilitator.id)


def read_attendance(db: Db, config: Config, session: Session) -> AttendanceImport:
    """Read the attendance reports now (the worker also does after the session)."""
    require_teams_session(session)
    try:
        return import_attendance(db, config, session)
    except PlatformError as exc:
        if exc.temporary:
            raise Unavailable(exc.message) from None
        raise Conflict(exc.message, reconnect=exc.reconnect) from None


def meeting_facts(row: MeetingRoom | None) -> dict[str, Any]:
    """What the page shows about the main meeting (never a token)."""
    if row is None:
        return {}
    data = row.data
    return {
        "status": row.status,
        "join_url": row.join_url,
        "error": data.get("error", ""),
        "reconnect": bool(data.get("reconnect")),
        "thread_id": data.get("thread_id", ""),
        "invited": len(data.get("attendees") or []),
        "outlook_change": data.get("outlook_change") or {},
        "attendance": data.get("attendance_import") or {},
        "event_gone": bool(data.get("event_gone")),
    }

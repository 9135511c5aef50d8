"""Who is here: marking members absent or present; the session's draft rounds follow.

The marks are the facilitator's presence marks (`sessions.attendance.mark_presence`), the
strongest source of the session's one presence fact.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from flask_babel import gettext as _

from companion.breakouts import planning
from companion.breakouts.access import rounds_of
from companion.breakouts.channel import publish_round
from companion.breakouts.drafts import drafts_from, plan_jointly
from companion.breakouts.models import BreakoutRound, RoundKind
from companion.breakouts.people import absent_ids, group_members
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotFound
from companion.sessions.attendance import mark_presence, presence_of
from companion.sessions.models import Session
from companion.sessions.operations import on_presence_marked


@dataclass
class AttendanceChange:
    """What marking people absent or present did to the draft rounds."""

    replanned: list[BreakoutRound] = field(default_factory=list)
    #: Why the drafts could not be planned again (they then just lost the absent people).
    problem: str | None = None
    #: The new plan of the re-planned drafts (how often people meet again).
    plan: planning.Plan | None = None


def set_absences(db: Db, session: Session, absent: Collection[int]) -> AttendanceChange:
    """Mark exactly these members absent; draft rounds follow (re-planned where optimised)."""
    members = {p.id for p in group_members(session)}
    wanted = set(absent) & members
    current = absent_ids(db, session)
    if wanted == current:
        return AttendanceChange()
    for participant_id in sorted(current - wanted):
        mark_presence(db, session, participant_id, None)
    for participant_id in sorted(wanted - current):
        mark_presence(db, session, participant_id, False)
    return _after_attendance(db, session, wanted)


def set_absent(db: Db, session: Session, participant_id: int, absent: bool) -> AttendanceChange:
    """Mark one member absent or present again."""
    if participant_id not in {p.id for p in group_members(session)}:
        raise NotFound(_("This person is not in the session's group."))
    current = absent_ids(db, session)
    wanted = current | {participant_id} if absent else current - {participant_id}
    return set_absences(db, session, wanted)


def absent_not_joined(db: Db, session: Session) -> AttendanceChange:
    """Mark everyone absent whom no source has seen at the session (join link, platform)."""
    if session.starts_at > utcnow():
        raise Conflict(_("The session has not started yet, so nobody has joined."))
    facts = presence_of(db, session)
    away = {p.id for p in group_members(session) if not facts[p.id].present}
    return set_absences(db, session, away | absent_ids(db, session))


@on_presence_marked
def drafts_follow_presence(db: Db, session: Session) -> None:
    """Presence corrected on the session page: the drafts lose people marked absent (and
    are planned again), as when they are marked on the breakouts page."""
    _after_attendance(db, session, absent_ids(db, session))


def _after_attendance(db: Db, session: Session, absent: set[int]) -> AttendanceChange:
    """Take absent people out of the session's drafts; re-plan the optimised ones."""
    for round_ in rounds_of(db, session):
        if not round_.is_draft:
            continue
        gone = [
            m
            for g in round_.groups
            for m in g.members
            if m.participant_id is not None and m.participant_id in absent
        ]
        for member in gone:
            member.group.members.remove(member)
            db.delete(member)
        db.flush()
        if round_.kind != RoundKind.OPTIMISED:
            publish_round(db, round_)
    planned = drafts_from(db, session)
    if not planned:
        return AttendanceChange()
    try:
        plan = plan_jointly(db, planned)
    except Invalid as exc:  # raised before anything is written: the drafts stay as they are
        for round_ in planned:
            publish_round(db, round_)
        return AttendanceChange(problem=exc.detail)
    return AttendanceChange(replanned=planned, plan=plan)

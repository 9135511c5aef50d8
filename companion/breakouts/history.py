"""The programme's breakout history: which rounds happened and who was in them, for the planner.

Started and closed rounds have happened; for planning, locked rounds count too (they will).
People who missed a session did not meet anyone in its rounds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import select

from companion.breakouts.models import BreakoutRound, RoundStatus
from companion.breakouts.people import absent_ids
from companion.breakouts.planning import PastRound
from companion.core.db import Db, utcnow
from companion.programmes.models import Programme
from companion.sessions.models import Attendance, Session


def _absent_keys(db: Db, session: Session, now: datetime | None = None) -> set[str]:
    """Who missed the session: marked absent, or (once people joined) never joined.

    Attendance only says something once the session has begun and someone's join link was
    used; before that, everyone not marked absent is expected.
    """
    keys = {f"p:{pid}" for pid in absent_ids(db, session)}
    now = now or utcnow()
    if session.starts_at <= now:
        joined = set(
            db.scalars(select(Attendance.participant_id).where(Attendance.session_id == session.id))
        )
        if joined:
            keys |= {f"p:{m.participant_id}" for m in session.group.memberships} - {
                f"p:{pid}" for pid in joined
            }
    return keys


def _as_past(db: Db, rounds: Iterable[BreakoutRound]) -> list[PastRound]:
    absent: dict[int, set[str]] = {}
    past: list[PastRound] = []
    for round_ in rounds:
        if round_.session_id not in absent:
            absent[round_.session_id] = _absent_keys(db, round_.session)
        groups = [[m.key for m in group.members] for group in round_.groups]
        past.append(PastRound(groups=groups, absent=absent[round_.session_id]))
    return past


def _programme_rounds(
    db: Db, programme: Programme, statuses: Collection[str]
) -> list[BreakoutRound]:
    from companion.programmes.models import Group

    rounds = db.scalars(
        select(BreakoutRound)
        .join(Session, Session.id == BreakoutRound.session_id)
        .join(Group, Group.id == Session.group_id)
        .where(Group.programme_id == programme.id, BreakoutRound.status.in_(list(statuses)))
    )
    return sorted(rounds, key=lambda r: (r.session.starts_at, r.number, r.id))


def history_before(db: Db, round_: BreakoutRound) -> list[PastRound]:
    """Rounds of the programme that happened before this one (started or closed)."""
    session = round_.session
    earlier = [
        r
        for r in _programme_rounds(
            db, session.group.programme, (RoundStatus.STARTED, RoundStatus.CLOSED)
        )
        if r.id != round_.id
        and (
            r.session.starts_at < session.starts_at
            or (r.session_id == session.id and r.number < round_.number)
        )
    ]
    return _as_past(db, earlier)


def programme_history(db: Db, programme: Programme) -> list[PastRound]:
    """Every round of the programme that happened (started or closed)."""
    return _as_past(db, _programme_rounds(db, programme, (RoundStatus.STARTED, RoundStatus.CLOSED)))


def planning_history(db: Db, programme: Programme, planned: Collection[int]) -> list[PastRound]:
    """The rounds to plan around: the programme's final rounds except those being planned."""
    # Locked rounds count too: they will happen, so planning others around them avoids repeats.
    statuses = (RoundStatus.LOCKED, RoundStatus.STARTED, RoundStatus.CLOSED)
    return _as_past(
        db, [r for r in _programme_rounds(db, programme, statuses) if r.id not in planned]
    )

"""The programme's breakout history: which rounds happened and who was in them, for the planner.

Started and closed rounds have happened; for planning, locked rounds count too (they will).
People who missed a session did not meet anyone in its rounds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import select

from companion.breakouts.models import BreakoutMember, BreakoutRound, RoundStatus
from companion.breakouts.planning import PastRound
from companion.core.db import Db
from companion.programmes.models import Programme
from companion.sessions.attendance import presence_by_session, register_breakout_source
from companion.sessions.models import Session
from companion.sessions.presence import absent_ids


@register_breakout_source
def members_of_rounds_that_ran(db: Db, session_ids: Sequence[int]) -> dict[int, set[int]]:
    """For the session's presence: who sat in a group of a round that started (or closed)."""
    seated: dict[int, set[int]] = {}
    rows = db.execute(
        select(BreakoutRound.session_id, BreakoutMember.participant_id)
        .join(BreakoutMember, BreakoutMember.round_id == BreakoutRound.id)
        .where(
            BreakoutRound.session_id.in_(list(session_ids)),
            BreakoutRound.status.in_([RoundStatus.STARTED, RoundStatus.CLOSED]),
            BreakoutMember.participant_id.is_not(None),
        )
    )
    for session_id, participant_id in rows:
        if participant_id is not None:
            seated.setdefault(session_id, set()).add(participant_id)
    return seated


def _as_past(db: Db, rounds: Iterable[BreakoutRound]) -> list[PastRound]:
    """The rounds as the planner sees them: groups of keys, and who missed each session (by
    the session's one presence fact: nobody who missed it met anyone in its rounds)."""
    rounds = list(rounds)
    sessions = list({r.session_id: r.session for r in rounds}.values())
    facts = presence_by_session(db, sessions)
    absent = {
        session_id: {f"p:{pid}" for pid in absent_ids(people)}
        for session_id, people in facts.items()
    }
    return [
        PastRound(
            groups=[[m.key for m in group.members] for group in round_.groups],
            absent=absent[round_.session_id],
        )
        for round_ in rounds
    ]


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

"""A participant's breakout groups: the round to show them and their group in it; also
what the notes ask (who is in an announced group, what it is called).
"""

from __future__ import annotations

from companion.breakouts.access import possible_id, rounds_of
from companion.breakouts.drafts import find_member
from companion.breakouts.models import BreakoutGroup, BreakoutRound, RoundKind, RoundStatus
from companion.core.db import Db
from companion.programmes.models import Participant
from companion.sessions.models import Session


def participant_round(db: Db, session: Session, participant: Participant) -> BreakoutRound | None:
    """The round a participant should see: the running one, a locked one, or one to pick in."""
    rounds = rounds_of(db, session)
    for status in (RoundStatus.STARTED, RoundStatus.LOCKED):
        found = [r for r in rounds if r.status == status]
        if found:
            return found[-1]
    picking = [
        r
        for r in rounds
        if r.kind == RoundKind.TOPICS and r.is_draft and r.settings.get("picks_open")
    ]
    return picking[-1] if picking else None


def group_of(round_: BreakoutRound, key: str) -> BreakoutGroup | None:
    """The group of the round a person is in."""
    member = find_member(round_, key)
    return member.group if member is not None else None


def members_of_group(db: Db, session: Session, breakout_group_id: int) -> set[int]:
    """Participant ids of a breakout group of the session that has been announced (locked,
    started or closed); empty for drafts, unknown or foreign ids."""
    if not possible_id(breakout_group_id):
        return set()
    group = db.get(BreakoutGroup, breakout_group_id)
    if group is None or group.round.session_id != session.id or group.round.is_draft:
        return set()
    return {m.participant_id for m in group.members if m.participant_id is not None}


def running_group_of(db: Db, session: Session, participant_id: int) -> int | None:
    """Id of the participant's group in the session's running round, if any."""
    running = [r for r in rounds_of(db, session) if r.status == RoundStatus.STARTED]
    group = group_of(running[-1], f"p:{participant_id}") if running else None
    return group.id if group is not None else None


def announced_groups_of(db: Db, session: Session, participant_id: int) -> list[int]:
    """Ids of the participant's groups in the session's announced rounds (locked, started or
    closed), in round order."""
    return [
        group.id
        for round_ in rounds_of(db, session)
        if not round_.is_draft
        for group in round_.groups
        if any(m.participant_id == participant_id for m in group.members)
    ]


def group_name_of(db: Db, session: Session, breakout_group_id: int) -> str | None:
    """The name of a breakout group of the session ("Group 2"), or None for other ids."""
    if not possible_id(breakout_group_id):
        return None
    group = db.get(BreakoutGroup, breakout_group_id)
    if group is None or group.round.session_id != session.id:
        return None
    return group.name

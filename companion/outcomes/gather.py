"""Reading a programme's data into the plain facts the figures are made of.

A few queries per programme: its sessions and their states (`sessions.operations.state_of`),
the one presence fact of each held session (`attendance.presence_by_session`), the breakout
rounds that ran in held sessions, contacts, ratings and expert talks.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from companion.breakouts.models import BreakoutGroup, BreakoutRound, RoundStatus
from companion.breakouts.planning import PastRound
from companion.contacts.models import FollowUpContact
from companion.core.db import Db
from companion.needs.operations import planning_themes
from companion.outcomes.figures import (
    ContactFacts,
    FeedbackFacts,
    GroupFacts,
    PersonFacts,
    ProgrammeFacts,
    SessionFacts,
)
from companion.outcomes.models import SessionFeedback
from companion.programmes.models import Programme
from companion.sessions import operations as session_ops
from companion.sessions.attendance import presence_by_session
from companion.sessions.lifecycle import has_happened
from companion.sessions.models import AgendaItem, AgendaKind, Session
from companion.sessions.presence import absent_ids


def programme_sessions(db: Db, programme: Programme) -> list[Session]:
    """Every session of the programme's groups, oldest first."""
    group_ids = [g.id for g in programme.groups]
    if not group_ids:
        return []
    return list(
        db.scalars(
            select(Session)
            .where(Session.group_id.in_(group_ids))
            .order_by(Session.starts_at, Session.id)
        )
    )


def _rounds(db: Db, held: list[Session]) -> list[BreakoutRound]:
    if not held:
        return []
    return list(
        db.scalars(
            select(BreakoutRound)
            .where(
                BreakoutRound.session_id.in_([s.id for s in held]),
                BreakoutRound.status.in_([RoundStatus.STARTED, RoundStatus.CLOSED]),
            )
            .options(selectinload(BreakoutRound.groups).selectinload(BreakoutGroup.members))
            .order_by(BreakoutRound.session_id, BreakoutRound.number)
        )
    )


def programme_facts(db: Db, programme: Programme, now: datetime | None = None) -> ProgrammeFacts:
    """Everything the figures of a programme need, read in a few queries."""
    sessions = programme_sessions(db, programme)
    states = {s.id: session_ops.state_of(s, now) for s in sessions}
    held = [s for s in sessions if has_happened(states[s.id])]
    presence = presence_by_session(db, held)
    talks: dict[int, list[str]] = defaultdict(list)
    if held:
        for item in db.scalars(
            select(AgendaItem)
            .where(
                AgendaItem.session_id.in_([s.id for s in held]),
                AgendaItem.kind == AgendaKind.EXPERT_TALK,
            )
            .order_by(AgendaItem.session_id, AgendaItem.position)
        ):
            talks[item.session_id].append(item.title or item.speaker_name)

    # Breakout rounds of held sessions, as the planner's history: who missed the session
    # (by its presence fact) met nobody in its rounds.
    rounds_by_group: dict[int, list[PastRound]] = defaultdict(list)
    group_of = {s.id: s.group_id for s in held}
    for round_ in _rounds(db, held):
        away = {f"p:{pid}" for pid in absent_ids(presence.get(round_.session_id, {}))}
        rounds_by_group[group_of[round_.session_id]].append(
            PastRound(groups=[[m.key for m in g.members] for g in round_.groups], absent=away)
        )

    contacts = db.scalars(
        select(FollowUpContact).where(FollowUpContact.programme_id == programme.id)
    )
    feedback: list[SessionFeedback] = (
        list(
            db.scalars(
                select(SessionFeedback).where(SessionFeedback.session_id.in_([s.id for s in held]))
            )
        )
        if held
        else []
    )
    return ProgrammeFacts(
        people=[
            PersonFacts(p.id, p.name, tuple(m.group_id for m in p.memberships), *planning_themes(p))
            for p in sorted(programme.participants, key=lambda p: (p.name.casefold(), p.id))
        ],
        groups=[
            GroupFacts(g.id, g.name, tuple(rounds_by_group.get(g.id, ()))) for g in programme.groups
        ],
        sessions=[
            SessionFacts(
                id=s.id,
                group_id=s.group_id,
                title=s.title,
                starts_at=s.starts_at,
                duration_minutes=s.duration_minutes,
                state=states[s.id],
                presence=presence.get(s.id, {}),
                expert_talks=tuple(talks.get(s.id, ())),
            )
            for s in sessions
        ],
        contacts=[ContactFacts(c.requester_id, c.recipient_id, c.kind, c.status) for c in contacts],
        feedback=[FeedbackFacts(f.session_id, f.rating, f.comment) for f in feedback],
    )

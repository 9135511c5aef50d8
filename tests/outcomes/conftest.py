"""The outcomes tests' programme: two groups, held, cancelled and coming sessions, presence from
every source, a breakout round or two, contacts of every status and some ratings.

The figures it should give are worked out by hand in `EXPECTED` (see the comments there), so
the tests compare the code's numbers with numbers nobody computed with the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from companion.breakouts.models import BreakoutGroup, BreakoutMember, BreakoutRound, RoundStatus
from companion.contacts.models import FollowUpContact
from companion.core.db import Db, utcnow
from companion.outcomes.models import SessionFeedback
from companion.programmes.models import Participant, Programme
from companion.sessions import attendance
from companion.sessions.lifecycle import StoredStatus
from companion.sessions.models import AgendaItem, AgendaKind, Session
from tests.notes.conftest import World, world  # noqa: F401 - re-exported fixture

__all__ = ["World"]


@dataclass
class Outcomes:
    """The programme and its people and sessions, by the letters the comments use."""

    programme: Programme
    facilitator: Any
    people: dict[str, Participant]
    sessions: dict[str, Session]


def _round(db: Db, session: Session, groups: list[list[Participant]]) -> None:
    round_ = BreakoutRound(session_id=session.id, number=1, status=RoundStatus.CLOSED)
    db.add(round_)
    db.flush()
    for position, members in enumerate(groups):
        group = BreakoutGroup(round_id=round_.id, name=f"Room {position + 1}", position=position)
        round_.groups.append(group)
        db.flush()
        for person in members:
            group.members.append(
                BreakoutMember(round_id=round_.id, group_id=group.id, participant_id=person.id)
            )
    db.flush()


@pytest.fixture()
def outcomes_world(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
) -> Outcomes:
    """Group 1: Aino, Bertta, Cecilia, Dan; group 2: Eero, Fanni.

    Group 1 held S1 (120 min), S2 (90), S3 (60); S4 was cancelled, S5 is tomorrow.
    Group 2 held T1 (120 min).
    """
    facilitator = make_facilitator()
    programme = make_programme(facilitator=facilitator, groups=2)
    g1, g2 = programme.groups
    names = {"A": "Aino Aalto", "B": "Bertta Berg", "C": "Cecilia Castrén", "D": "Dan Dahl"}
    people = {k: make_participant(programme, group=g1, name=v) for k, v in names.items()}
    people["E"] = make_participant(programme, group=g2, name="Eero Esko")
    people["F"] = make_participant(programme, group=g2, name='=HYPERLINK("http://x")')
    now = utcnow()
    sessions = {
        "S1": make_session(g1, starts_at=now - timedelta(days=30), duration_minutes=120),
        "S2": make_session(g1, starts_at=now - timedelta(days=20), duration_minutes=90),
        "S3": make_session(g1, starts_at=now - timedelta(days=10), duration_minutes=60),
        "S4": make_session(g1, starts_at=now - timedelta(days=5), duration_minutes=60),
        "S5": make_session(g1, starts_at=now + timedelta(days=1), duration_minutes=60),
        "T1": make_session(g2, starts_at=now - timedelta(days=15), duration_minutes=120),
    }
    with app.app_context():
        for key in ("S1", "S2", "S3", "T1"):
            sessions[key].status = StoredStatus.ENDED
        sessions["S4"].status = StoredStatus.CANCELLED
        a, b, c, d, e = (people[k] for k in "ABCDE")
        s1, s2, s3, t1 = (sessions[k] for k in ("S1", "S2", "S3", "T1"))
        # S1: A and B by link, C by the platform for 100 minutes; D nobody saw.
        attendance.record_join(db, s1.id, a.id)
        attendance.record_join(db, s1.id, b.id)
        attendance.record_platform_presence(
            db, s1, c.id, platform="zoom", joined_at=s1.starts_at, left_at=None, minutes=100
        )
        # S2: A by link, B marked present by the facilitator, C and D absent.
        attendance.record_join(db, s2.id, a.id)
        attendance.mark_presence(db, s2, b.id, True)
        # S3: A by the platform for 45 minutes, B and D by link; C opened the link but the
        # facilitator marked them absent (the mark wins).
        attendance.record_platform_presence(
            db, s3, a.id, platform="zoom", joined_at=s3.starts_at, left_at=None, minutes=45
        )
        attendance.record_join(db, s3.id, b.id)
        attendance.record_join(db, s3.id, d.id)
        attendance.record_join(db, s3.id, c.id)
        attendance.mark_presence(db, s3, c.id, False)
        # T1: E by link; F nobody saw.
        attendance.record_join(db, t1.id, e.id)
        # Breakouts: S1 one room of A, B, C; S3 rooms A+D and B.
        _round(db, s1, [[a, b, c]])
        _round(db, s3, [[a, d], [b]])
        # Expert talks: one at S2, one at the cancelled S4 (does not count).
        db.add(AgendaItem(session_id=s2.id, kind=AgendaKind.EXPERT_TALK, title="VAT for starters"))
        db.add(AgendaItem(session_id=sessions["S4"].id, kind=AgendaKind.EXPERT_TALK, title="No"))
        # Contacts: A-B lunch and business agreed, B-C sparring agreed, D->A business waiting,
        # E->F customer declined.
        for requester, recipient, kind, status in (
            (a, b, "lunch", "accepted"),
            (b, a, "business", "accepted"),
            (c, b, "sparring", "accepted"),
            (d, a, "business", "pending"),
            (e, people["F"], "customer", "declined"),
        ):
            db.add(
                FollowUpContact(
                    programme_id=programme.id,
                    requester_id=requester.id,
                    recipient_id=recipient.id,
                    kind=kind,
                    status=status,
                )
            )
        # Ratings: S1 5 and 4 ("=cmd|' /C calc'!A0" tests neutralising), S2 3.
        db.add(SessionFeedback(session_id=s1.id, participant_id=a.id, rating=5))
        db.add(
            SessionFeedback(
                session_id=s1.id, participant_id=b.id, rating=4, comment="=cmd|' /C calc'!A0"
            )
        )
        db.add(SessionFeedback(session_id=s2.id, participant_id=a.id, rating=3, comment="Good"))
        db.commit()
    return Outcomes(programme, facilitator, people, sessions)


#: The figures, by hand.
EXPECTED: dict[str, Any] = {
    "participants": 6,
    "sessions_held": 4,  # S1, S2, S3, T1
    "sessions_cancelled": 1,  # S4
    # Minutes: A 120+90+45 = 255, B 120+90+60 = 270, C 100, D 60, E 120, F 0.
    "minutes": {"A": 255, "B": 270, "C": 100, "D": 60, "E": 120, "F": 0},
    "hours": {"A": 4.25, "B": 4.5, "C": 100 / 60, "D": 1.0, "E": 2.0, "F": 0.0},
    "total_minutes": 805,
    "attended": {"A": 3, "B": 3, "C": 1, "D": 1, "E": 1, "F": 0},
    "held_for": {"A": 3, "B": 3, "C": 3, "D": 3, "E": 1, "F": 1},
    # C missed S2 and S3; D missed S1 and S2 but came to S3; F has one held session only.
    "dropped_out": {"C"},
    # Present of expected: S1 3/4, S2 2/4, S3 3/4 (D and A and B), T1 1/2.
    "by_session": {"S1": (3, 4), "S2": (2, 4), "S3": (3, 4), "T1": (1, 2)},
    # Mutual partners: A{B}, B{A, C}, C{B}: 3 of 6; group 1 3 of 4; group 2 0 of 2.
    "with_contact": (3, 6),
    "with_contact_groups": [(3, 4), (0, 2)],
    "kinds": {
        "lunch": (1, 0),
        "sparring": (1, 0),
        "business": (1, 1),
        "customer": (0, 0),
        "other": (0, 0),
    },
    "network": {("A", "B"), ("B", "C")},
    # S1 room A-B-C: AB, AC, BC; S3 room A-D: AD. Group 1: 4 of 6 pairs; group 2: 0 of 1.
    "pairs_met": 4,
    "pairs": 7,
    # S1: 5 and 4 -> 4.5; S2: 3; all three: 4.0.
    "feedback": {"S1": (2, 4.5), "S2": (1, 3.0), "S3": (0, None)},
    "feedback_average": 4.0,
    "expert_talks": 1,
}

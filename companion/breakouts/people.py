"""Who takes part in a session's breakouts: members, absences, facilitators, and their seats.

A seat is a person as the planner sees them, named by a key: "p:<participant id>" or
"f:<facilitator id>".
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.models import Facilitator, ProgrammeRole
from companion.accounts.roles import RUNNING_VALUES
from companion.breakouts import planning
from companion.breakouts.access import possible_id
from companion.breakouts.models import BreakoutMember, BreakoutRound
from companion.breakouts.planning import Seat
from companion.core.db import Db
from companion.core.errors import Invalid
from companion.needs.operations import planning_themes
from companion.programmes.models import Participant, Programme
from companion.sessions.attendance import marked_absent
from companion.sessions.models import Session


def group_members(session: Session) -> list[Participant]:
    """The participants of the session's group, by name."""
    return sorted(
        (m.participant for m in session.group.memberships), key=lambda p: p.name.casefold()
    )


def absent_ids(db: Db, session: Session) -> set[int]:
    """Participants the facilitator marked absent (in advance or on the day): left out of the
    session's rounds."""
    return marked_absent(db, session.id)


def present_participants(db: Db, session: Session) -> list[Participant]:
    """The group's members who are not marked absent."""
    away = absent_ids(db, session)
    return [p for p in group_members(session) if p.id not in away]


def programme_facilitators(db: Db, programme: Programme) -> list[Facilitator]:
    """The active facilitators who run the programme (not its observers), by name."""
    facilitators = db.scalars(
        select(Facilitator)
        .join(ProgrammeRole, ProgrammeRole.facilitator_id == Facilitator.id)
        .where(
            ProgrammeRole.programme_id == programme.id,
            ProgrammeRole.role.in_(RUNNING_VALUES),
            Facilitator.active.is_(True),
        )
    )
    return sorted(facilitators, key=lambda f: f.name.casefold())


def participant_seat(participant: Participant) -> Seat:
    """A participant as the planner sees them."""
    offers, needs = planning_themes(participant)
    return Seat(
        key=f"p:{participant.id}",
        name=participant.name,
        company=participant.company,
        industry=participant.industry,
        region=participant.region,
        years=participant.years_as_entrepreneur,
        offers=offers,
        needs=needs,
    )


def facilitator_seat(facilitator: Facilitator) -> Seat:
    """A facilitator as the planner sees them (no attributes: they do not make a group mixed)."""
    return Seat(key=f"f:{facilitator.id}", name=facilitator.name, facilitator=True)


def seat_of_member(member: BreakoutMember) -> Seat:
    """The planner's view of someone already in a group."""
    if member.participant is not None:
        return participant_seat(member.participant)
    assert member.facilitator is not None
    return facilitator_seat(member.facilitator)


def round_facilitators(db: Db, round_: BreakoutRound) -> list[Facilitator]:
    """The facilitators taking part in the round's groups."""
    chosen = set(round_.settings.get("facilitator_ids") or [])
    programme = round_.session.group.programme
    return [f for f in programme_facilitators(db, programme) if f.id in chosen]


def round_seats(db: Db, round_: BreakoutRound) -> list[Seat]:
    """Everyone to place in the round: present participants, then the chosen facilitators."""
    participants = [participant_seat(p) for p in present_participants(db, round_.session)]
    return participants + [facilitator_seat(f) for f in round_facilitators(db, round_)]


def current_limit(db: Db, round_: BreakoutRound) -> int:
    """Most participants per topic group right now (an even share unless the facilitator set
    a limit)."""
    present = len(present_participants(db, round_.session))
    return planning.topic_limit(present, len(round_.groups), round_.settings.get("topic_limit"))


#: The number in a person key: ASCII digits only ("²" passes str.isdigit() but not int()).
_KEY_NUMBER = re.compile(r"[0-9]{1,10}")


def person_for_key(db: Db, session: Session, key: str) -> Participant | Facilitator:
    """The participant or facilitator a key names, if they belong to the session."""
    kind, _sep, raw = key.partition(":")
    number = int(raw) if _KEY_NUMBER.fullmatch(raw) else 0
    if kind == "p" and possible_id(number):
        participant = db.get(Participant, number)
        if participant is not None and any(
            m.group_id == session.group_id for m in participant.memberships
        ):
            return participant
    if kind == "f" and possible_id(number):
        facilitator = db.get(Facilitator, number)
        programme = session.group.programme
        if facilitator is not None and facilitator in programme_facilitators(db, programme):
            return facilitator
    raise Invalid(errors={"person": _("This person is not in the session's group.")})

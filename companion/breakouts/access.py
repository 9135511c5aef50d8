"""Finding a breakout round or group for someone allowed to see it (NotFound for anyone else)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.accounts.models import Facilitator
from companion.breakouts.models import BreakoutGroup, BreakoutRound
from companion.core.db import Db
from companion.core.errors import NotAllowed, NotFound
from companion.programmes.models import Participant
from companion.sessions.models import Session
from companion.sessions.operations import get_session, session_for_actor

#: Largest id a path may name (PostgreSQL integers); larger ones are simply not found.
_MAX_ID = 2**31 - 1


def possible_id(value: int) -> bool:
    """Whether an id from a path or form could name a row at all."""
    return 0 < value <= _MAX_ID


def _no_round() -> NotFound:
    return NotFound(_("No such breakout round."))


def _no_group() -> NotFound:
    return NotFound(_("No such breakout group."))


def get_round(db: Db, facilitator: Facilitator, round_id: int) -> BreakoutRound:
    """The round if the facilitator manages its programme; NotFound for anyone else's."""
    round_ = db.get(BreakoutRound, round_id) if possible_id(round_id) else None
    if round_ is None:
        raise _no_round()
    try:
        get_session(db, facilitator, round_.session_id)
    except NotAllowed:
        raise _no_round() from None
    return round_


def get_group(db: Db, facilitator: Facilitator, group_id: int) -> BreakoutGroup:
    """The group if the facilitator manages its programme."""
    group = db.get(BreakoutGroup, group_id) if possible_id(group_id) else None
    if group is None:
        raise _no_group()
    get_round(db, facilitator, group.round_id)
    return group


def group_for_participant(db: Db, participant: Participant, group_id: int) -> BreakoutGroup:
    """A group of a session of the participant's own group (NotFound otherwise)."""
    group = db.get(BreakoutGroup, group_id) if possible_id(group_id) else None
    if group is None:
        raise _no_group()
    session_for_actor(db, Actor(participant=participant), group.round.session_id)
    return group


def rounds_of(db: Db, session: Session) -> list[BreakoutRound]:
    """The session's rounds in order."""
    return list(
        db.scalars(
            select(BreakoutRound)
            .where(BreakoutRound.session_id == session.id)
            .order_by(BreakoutRound.number, BreakoutRound.id)
        )
    )

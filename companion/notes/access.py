"""Notes spaces (a session's plenary and its breakout groups), their live channels' names, and
who may read and write them.

Who may do what: facilitators of the programme everything; participants of the session's
group read and write the plenary notes; a breakout group's notes are read and written by its
members (see `membership.group_members_of`) and read by everyone in the session once shared to
the plenary. Authors edit and delete their own items (`note_items`); facilitators edit all.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from companion.accounts.identity import Actor
from companion.core.db import Db
from companion.core.errors import NotAllowed, NotFound
from companion.notes import membership
from companion.notes.models import NoteSpace, scope_of
from companion.programmes.models import Participant
from companion.sessions.models import Session
from companion.sessions.operations import session_for_actor

#: Prefix of the notes' live channels.
CHANNEL_PREFIX = "notes"


def channel_of(space: NoteSpace) -> str:
    """The live channel of a space: "notes:<session>" or "notes:<session>:<group>"."""
    return channel_for(space.session_id, space.breakout_group_id)


def channel_for(session_id: int, breakout_group_id: int | None) -> str:
    """The live channel of a session's plenary or breakout notes."""
    if breakout_group_id is None:
        return f"{CHANNEL_PREFIX}:{session_id}"
    return f"{CHANNEL_PREFIX}:{session_id}:{breakout_group_id}"


def find_space(db: Db, session_id: int, breakout_group_id: int | None) -> NoteSpace | None:
    """The space if it has been opened already."""
    return db.scalar(
        select(NoteSpace).where(
            NoteSpace.session_id == session_id, NoteSpace.scope == scope_of(breakout_group_id)
        )
    )


def ensure_space(
    db: Db, session: Session, breakout_group_id: int | None = None, *, label: str = ""
) -> NoteSpace:
    """The session's plenary or breakout space, made on first use (once, even when raced)."""
    space = find_space(db, session.id, breakout_group_id)
    if space is not None:
        return space
    if not label and breakout_group_id is not None:
        label = membership.breakout_group_label(db, session, breakout_group_id) or ""
    space = NoteSpace(
        session_id=session.id,
        breakout_group_id=breakout_group_id,
        scope=scope_of(breakout_group_id),
        label=label,
    )
    try:
        with db.begin_nested():
            db.add(space)
            db.flush()
    except IntegrityError:
        # Someone else opened it at the same moment; the unique scope made theirs the one.
        space = find_space(db, session.id, breakout_group_id)
        if space is None:
            raise
    return space


def is_group_member(db: Db, space: NoteSpace, participant: Participant) -> bool:
    """Whether the participant belongs to the space's breakout group (everyone: the plenary)."""
    if space.breakout_group_id is None:
        return True
    members = membership.group_members_of(db, space.session, space.breakout_group_id)
    return members is not None and participant.id in members


def can_read(db: Db, actor: Actor, space: NoteSpace) -> bool:
    """Read access, given that the actor already passed the session check."""
    if actor.facilitator is not None:
        return True
    participant = actor.participant
    if participant is None:
        return False
    return space.shared_to_plenary or is_group_member(db, space, participant)


def can_write(db: Db, actor: Actor, space: NoteSpace) -> bool:
    """Write access (add items, save the summary, add actions), after the session check."""
    if actor.facilitator is not None:
        return True
    participant = actor.participant
    return participant is not None and is_group_member(db, space, participant)


def space_for_actor(db: Db, actor: Actor, space_id: int, *, write: bool = False) -> NoteSpace:
    """The space if the actor may read it (and write, if asked); NotFound for strangers."""
    space = db.get(NoteSpace, space_id)
    if space is None:
        raise NotFound(_("No such notes."))
    session_for_actor(db, actor, space.session_id)
    if not can_read(db, actor, space):
        raise NotFound(_("No such notes."))
    if write and not can_write(db, actor, space):
        raise NotAllowed(_("Only the members of this small group can write here."))
    return space


def session_space(
    db: Db,
    actor: Actor,
    session_id: int,
    breakout_group_id: int | None = None,
    *,
    mine: bool = False,
) -> NoteSpace:
    """A session's plenary or breakout space for the actor, opened on first use. With `mine`
    and no group: a participant's group in the round running now, else the plenary."""
    session = session_for_actor(db, actor, session_id)
    if breakout_group_id is None and mine and actor.participant is not None:
        breakout_group_id = membership.running_breakout_group(db, session, actor.participant.id)
    space = find_space(db, session.id, breakout_group_id)
    if space is None:
        # Only the session's own breakout groups have notes: any other id (another
        # session's or organisation's group, or none at all) must not make a row.
        label = (
            membership.breakout_group_label(db, session, breakout_group_id)
            if breakout_group_id is not None
            else ""
        )
        if label is None:
            raise NotFound(_("No such notes."))
        may_open = actor.facilitator is not None or (
            actor.participant is not None
            and (
                breakout_group_id is None
                or actor.participant.id
                in (membership.group_members_of(db, session, breakout_group_id) or set())
            )
        )
        if not may_open:
            raise NotFound(_("No such notes."))
        space = ensure_space(db, session, breakout_group_id, label=label)
    if not can_read(db, actor, space):
        raise NotFound(_("No such notes."))
    return space


def open_own_spaces(db: Db, actor: Actor, session: Session) -> None:
    """Open the notes of a participant's own breakout groups in the session (announced rounds
    only), so that the notes page offers them before anyone has written there."""
    if actor.participant is None:
        return
    for group_id in membership.own_breakout_groups(db, session, actor.participant.id):
        ensure_space(db, session, group_id)


def visible_spaces(db: Db, actor: Actor, session: Session) -> list[NoteSpace]:
    """The session's spaces the actor may read: the plenary first, then breakout groups."""
    spaces = db.scalars(select(NoteSpace).where(NoteSpace.session_id == session.id))
    readable = [s for s in spaces if can_read(db, actor, s)]
    return sorted(readable, key=lambda s: (s.breakout_group_id is not None, s.breakout_group_id))


def space_label(space: NoteSpace, siblings: Iterable[NoteSpace] = ()) -> str:
    """A name for the space: its own, or "Small group n" by its place among the session's."""
    if space.is_plenary:
        return str(_("Whole group"))
    if space.label:
        return space.label
    numbers = sorted(s.breakout_group_id for s in siblings if s.breakout_group_id is not None)
    if space.breakout_group_id in numbers:
        return str(_("Small group %(n)s", n=numbers.index(space.breakout_group_id) + 1))
    return str(_("Small group"))


def session_members(session: Session) -> list[Participant]:
    """The participants of the session's group, by name."""
    return sorted((m.participant for m in session.group.memberships), key=lambda p: p.name.lower())

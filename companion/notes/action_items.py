"""Action items: who owns what by when, written in a space, ticked done by their owner."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.core.db import Db, utcnow
from companion.core.errors import Invalid, NotAllowed, NotFound
from companion.notes.access import can_read, can_write
from companion.notes.models import ActionItem, NoteSpace
from companion.notes.payloads import action_out, author_columns, publish
from companion.notes.schemas import ActionIn, ActionPatch
from companion.programmes.models import Participant
from companion.sessions.models import Session
from companion.sessions.operations import session_for_actor


def _session_member(session: Session, participant_id: int) -> Participant:
    for membership_row in session.group.memberships:
        if membership_row.participant_id == participant_id:
            return membership_row.participant
    raise Invalid(errors={"owner_id": _("Choose a participant of this session.")})


def add_action(db: Db, actor: Actor, space: NoteSpace, data: ActionIn) -> ActionItem:
    """Record an action item for a participant of the session."""
    if not can_write(db, actor, space):
        raise NotAllowed(_("Only the members of this small group can write here."))
    session = space.session
    owner = _session_member(session, data.owner_id)
    author = author_columns(actor)
    action = ActionItem(
        programme_id=session.group.programme_id,
        session_id=session.id,
        space_id=space.id,
        owner_id=owner.id,
        text=data.text,
        due_on=data.due_on,
        created_by_participant_id=author["participant_id"],
        created_by_facilitator_id=author["facilitator_id"],
        created_at=utcnow(),
    )
    db.add(action)
    db.flush()
    db.refresh(action)
    publish(db, space, "action.added", action_out(action).model_dump(mode="json"))
    return action


def action_for_actor(db: Db, actor: Actor, action_id: int, *, write: bool = False) -> ActionItem:
    """The action if the actor may see it: its owner, readers of its notes, facilitators.

    Changing it is for the owner, whoever may write in its notes, and facilitators.
    """
    action = db.get(ActionItem, action_id)
    if action is None:
        raise NotFound(_("No such action item."))
    session_for_actor(db, actor, action.session_id)
    if actor.facilitator is not None:
        return action
    participant = actor.participant
    assert participant is not None  # session_for_actor accepted someone
    if action.owner_id == participant.id:
        return action
    space = db.get(NoteSpace, action.space_id) if action.space_id else None
    if space is None or not can_read(db, actor, space):
        raise NotFound(_("No such action item."))
    if write and not can_write(db, actor, space):
        raise NotAllowed(_("Only the owner can change this action item."))
    return action


def update_action(db: Db, actor: Actor, action: ActionItem, data: ActionPatch) -> ActionItem:
    """Change an action item: tick it done, reword it, move its date or owner."""
    action_for_actor(db, actor, action.id, write=True)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("owner_id") is not None:
        action.owner_id = _session_member(action.session, changes["owner_id"]).id
    if changes.get("text"):
        action.text = changes["text"]
    if "due_on" in changes:
        action.due_on = changes["due_on"]
    if changes.get("done") is not None and changes["done"] != action.done:
        action.done = bool(changes["done"])
        action.done_at = utcnow() if action.done else None
    db.flush()
    db.refresh(action)
    space = db.get(NoteSpace, action.space_id) if action.space_id else None
    if space is not None:
        publish(db, space, "action.updated", action_out(action).model_dump(mode="json"))
    return action


def delete_action(db: Db, actor: Actor, action: ActionItem) -> None:
    """Remove an action item."""
    action_for_actor(db, actor, action.id, write=True)
    space = db.get(NoteSpace, action.space_id) if action.space_id else None
    db.delete(action)
    db.flush()
    if space is not None:
        publish(db, space, "action.deleted", {"id": action.id, "space_id": space.id})


def actions_of(db: Db, participant: Participant) -> list[ActionItem]:
    """The participant's own action items across the programme: open first, by due date."""
    actions = db.scalars(select(ActionItem).where(ActionItem.owner_id == participant.id))
    return sorted(actions, key=lambda a: (a.done, a.due_on is None, a.due_on, a.created_at, a.id))

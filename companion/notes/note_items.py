"""Note items in a space: add them (writers of the space), edit and delete them (their author
or a facilitator)."""

from __future__ import annotations

from flask_babel import gettext as _

from companion.accounts.identity import Actor
from companion.core.db import Db, utcnow
from companion.core.errors import Invalid, NotAllowed, NotFound
from companion.notes.access import can_write, space_for_actor
from companion.notes.markdown import render_markdown
from companion.notes.models import NoteItem, NoteSpace
from companion.notes.payloads import author_columns, item_out, publish
from companion.notes.schemas import NoteItemIn


def _rendered(body: str) -> str:
    html = render_markdown(body)
    if not html:
        raise Invalid(errors={"body": _("The note is empty once unsafe parts are removed.")})
    return html


def add_item(db: Db, actor: Actor, space: NoteSpace, data: NoteItemIn) -> NoteItem:
    """Add a note item by the actor."""
    if not can_write(db, actor, space):
        raise NotAllowed(_("Only the members of this small group can write here."))
    author = author_columns(actor)
    now = utcnow()
    item = NoteItem(
        space_id=space.id,
        body=data.body,
        html=_rendered(data.body),
        author_participant_id=author["participant_id"],
        author_facilitator_id=author["facilitator_id"],
        created_at=now,
        updated_at=now,
    )
    db.add(item)
    db.flush()
    db.refresh(item)
    publish(db, space, "item.added", item_out(item).model_dump(mode="json"))
    return item


def item_for_actor(db: Db, actor: Actor, item_id: int, *, write: bool = False) -> NoteItem:
    """The item if the actor may read it; with `write`, only its author or a facilitator."""
    item = db.get(NoteItem, item_id)
    if item is None:
        raise NotFound(_("No such note."))
    space_for_actor(db, actor, item.space_id)
    if write:
        own = actor.participant is not None and item.author_participant_id == actor.participant.id
        if actor.facilitator is None and not own:
            raise NotAllowed(_("You can change only your own notes."))
    return item


def edit_item(db: Db, actor: Actor, item: NoteItem, data: NoteItemIn) -> NoteItem:
    """Change an item's text (its author or a facilitator)."""
    item_for_actor(db, actor, item.id, write=True)
    item.body = data.body
    item.html = _rendered(data.body)
    item.updated_at = utcnow()
    db.flush()
    publish(db, item.space, "item.updated", item_out(item).model_dump(mode="json"))
    return item


def delete_item(db: Db, actor: Actor, item: NoteItem) -> None:
    """Remove an item (its author or a facilitator)."""
    item_for_actor(db, actor, item.id, write=True)
    space = item.space
    space.items.remove(item)
    db.delete(item)
    db.flush()
    publish(db, space, "item.deleted", {"id": item.id, "space_id": space.id})

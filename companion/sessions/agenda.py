"""A session's agenda: its slots, in order, an expert talk naming its speaker and material."""

from __future__ import annotations

from typing import Literal

from flask_babel import gettext as _

from companion.core.db import Db
from companion.core.errors import Invalid
from companion.sessions.models import AgendaItem, AgendaKind, Session
from companion.sessions.schemas import AgendaItemIn


def add_agenda_item(db: Db, session: Session, data: AgendaItemIn) -> AgendaItem:
    """Append a slot to the agenda; an expert talk needs its speaker."""
    if data.kind == AgendaKind.EXPERT_TALK and not data.speaker_name:
        raise Invalid(errors={"speaker_name": _("Name the speaker of the expert talk.")})
    position = max((item.position for item in session.agenda), default=-1) + 1
    item = AgendaItem(session=session, position=position, **data.model_dump())
    db.add(item)
    db.flush()
    return item


def update_agenda_item(db: Db, item: AgendaItem, data: AgendaItemIn) -> AgendaItem:
    """Change an agenda slot."""
    if data.kind == AgendaKind.EXPERT_TALK and not data.speaker_name:
        raise Invalid(errors={"speaker_name": _("Name the speaker of the expert talk.")})
    for key, value in data.model_dump().items():
        setattr(item, key, value)
    db.flush()
    return item


def remove_agenda_item(db: Db, item: AgendaItem) -> None:
    """Take a slot off the agenda."""
    session = item.session
    session.agenda.remove(item)
    db.delete(item)
    for position, other in enumerate(session.agenda):
        other.position = position
    db.flush()


def move_agenda_item(db: Db, item: AgendaItem, direction: Literal["up", "down"]) -> None:
    """Swap the slot with its neighbour."""
    items = item.session.agenda
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index].position, items[other].position = items[other].position, items[index].position
        items.sort(key=lambda i: i.position)
    db.flush()

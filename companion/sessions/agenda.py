"""A session's agenda: its slots, in order, an expert talk naming its speaker and material."""

from __future__ import annotations

from typing import Literal

from flask_babel import gettext as _
from sqlalchemy import select

from companion.core.db import Db
from companion.core.errors import Invalid
from companion.programmes.models import Group, Programme
from companion.sessions.models import AgendaItem, AgendaKind, AgendaTemplateItem, Session
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


# --- a programme's agenda template ----------------------------------------------------------


def template_of(db: Db, programme: Programme) -> list[AgendaTemplateItem]:
    """The agenda the programme's new sessions get, in order (empty: the default agenda)."""
    return list(
        db.scalars(
            select(AgendaTemplateItem)
            .where(AgendaTemplateItem.programme_id == programme.id)
            .order_by(AgendaTemplateItem.position)
        )
    )


def _latest_agenda(db: Db, programme: Programme) -> list[AgendaItem]:
    """The agenda of the programme's latest session that was not cancelled."""
    session = db.scalar(
        select(Session)
        .join(Group, Group.id == Session.group_id)
        .where(Group.programme_id == programme.id, Session.status != "cancelled")
        .order_by(Session.starts_at.desc(), Session.id.desc())
        .limit(1)
    )
    return list(session.agenda) if session is not None else []


def copy_agenda_template(db: Db, source: Programme, target: Programme) -> int:
    """Give `target` the agenda of `source`: its template, or else its latest session's agenda.

    Only the slots go over (kind, title, length, description); who spoke is not copied.
    Returns how many slots were copied (none: `target` gets the default agenda).
    """
    slots: list[tuple[str, str, int, str]] = [
        (s.kind, s.title, s.duration_minutes, s.description) for s in template_of(db, source)
    ] or [(s.kind, s.title, s.duration_minutes, s.description) for s in _latest_agenda(db, source)]
    for position, (kind, title, minutes, description) in enumerate(slots):
        db.add(
            AgendaTemplateItem(
                programme_id=target.id,
                position=position,
                kind=kind,
                title=title,
                duration_minutes=minutes,
                description=description,
            )
        )
    db.flush()
    return len(slots)

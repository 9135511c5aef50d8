"""A session's agenda: its slots in order, each editable, their total within the session's length.

An expert talk is a slot like the others; the expert invited to it (companion.experts) sets
its speaker. The total of the slots' minutes never grows beyond the session's length: a change
that would is refused (pages and API alike), and so is shortening the session below its agenda.
A change that shortens an agenda which is already too long (made before this rule) is allowed,
so it can be put right one slot at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from flask_babel import gettext as _
from sqlalchemy import select

from companion.core.db import Db
from companion.core.errors import Invalid
from companion.programmes.models import Group, Programme
from companion.sessions.models import AgendaItem, AgendaKind, AgendaTemplateItem, Session
from companion.sessions.schemas import AgendaItemIn

#: The fields of a slot that a page form or the API may change.
EDITABLE = (
    "kind",
    "title",
    "duration_minutes",
    "speaker_name",
    "speaker_email",
    "material_url",
    "description",
)


@dataclass(frozen=True)
class Slot:
    """An agenda item with the moments it begins and ends if the session keeps to time."""

    item: AgendaItem
    #: 1-based place in the agenda.
    number: int
    starts_at: datetime
    ends_at: datetime


def agenda_minutes(items: Sequence[AgendaItem]) -> int:
    """The minutes the slots take together."""
    return sum(item.duration_minutes for item in items)


def slots(session: Session) -> list[Slot]:
    """The session's slots in order with their planned start and end (UTC)."""
    result = []
    start = session.starts_at
    for number, item in enumerate(session.agenda, start=1):
        end = start + timedelta(minutes=item.duration_minutes)
        result.append(Slot(item, number, start, end))
        start = end
    return result


def slot_of(item: AgendaItem) -> Slot:
    """One item's slot (its place and planned time)."""
    return next(slot for slot in slots(item.session) if slot.item is item)


def _too_long(total: int, length: int) -> Invalid:
    message = _(
        "The agenda would take %(total)s min, but the session is %(length)s min long. "
        "Shorten a slot or make the session longer first.",
        total=total,
        length=length,
    )
    return Invalid(message, errors={"duration_minutes": message})


def _require_fits(session: Session, before: int, after: int) -> None:
    """Invalid if a change makes the agenda longer than the session (shortening is fine)."""
    if after > session.duration_minutes and after > before:
        raise _too_long(after, session.duration_minutes)


def require_fits_length(session: Session, duration_minutes: int | None) -> None:
    """Invalid (on `duration_minutes`) if the session's agenda does not fit a new length;
    moving or shortening a session calls it before changing the length."""
    if duration_minutes is None:
        return
    total = agenda_minutes(session.agenda)
    if total > duration_minutes and duration_minutes < session.duration_minutes:
        message = _(
            "The agenda takes %(total)s min, longer than %(length)s min. Shorten the agenda first.",
            total=total,
            length=duration_minutes,
        )
        raise Invalid(message, errors={"duration_minutes": message})


def fit_minutes(minutes: Sequence[int], length: int, flexible: int | None = None) -> list[int]:
    """Scale slot lengths down to fit `length` (whole minutes, at least one each; in steps of
    five when every slot can have five); what rounding leaves over goes to the `flexible`
    slot (the longest if None). Lengths that already fit come back unchanged."""
    if sum(minutes) <= length or not minutes:
        return list(minutes)
    step = 5 if length >= 5 * len(minutes) else 1
    scaled = [max(step, int(m * length / sum(minutes)) // step * step) for m in minutes]
    while sum(scaled) > length:  # the floors of one or five can add up past the length
        longest = max(range(len(scaled)), key=lambda i: scaled[i])
        scaled[longest] -= 1
    target = flexible if flexible is not None else max(range(len(minutes)), key=minutes.__getitem__)
    scaled[target] += length - sum(scaled)
    return scaled


def fit_to_length(session: Session) -> None:
    """Shrink a new session's agenda (the default one) to fit a session shorter than it; the
    small-group discussion takes up what rounding leaves over."""
    items = session.agenda
    flexible = next((i for i, item in enumerate(items) if item.kind == AgendaKind.BREAKOUTS), None)
    for item, minutes in zip(
        items,
        fit_minutes([i.duration_minutes for i in items], session.duration_minutes, flexible),
        strict=True,
    ):
        item.duration_minutes = minutes


def add_agenda_item(db: Db, session: Session, data: AgendaItemIn) -> AgendaItem:
    """Append a slot to the agenda, if it still fits the session."""
    before = agenda_minutes(session.agenda)
    _require_fits(session, before, before + data.duration_minutes)
    position = max((item.position for item in session.agenda), default=-1) + 1
    item = AgendaItem(session=session, position=position, **data.model_dump())
    db.add(item)
    db.flush()
    return item


def update_agenda_item(db: Db, item: AgendaItem, changes: Mapping[str, Any]) -> AgendaItem:
    """Change a slot's fields (those given), if the agenda still fits the session."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(errors={name: _("This field is not allowed here.") for name in unknown})
    session = item.session
    before = agenda_minutes(session.agenda)
    minutes = int(changes.get("duration_minutes", item.duration_minutes))
    _require_fits(session, before, before - item.duration_minutes + minutes)
    for key, value in changes.items():
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


def reorder_agenda(db: Db, session: Session, item_ids: Sequence[int]) -> None:
    """Put the slots in the order given (every slot of the session, each once)."""
    current = {item.id: item for item in session.agenda}
    if sorted(item_ids) != sorted(current):
        raise Invalid(
            errors={"item_ids": _("List every agenda item of this session once, in order.")}
        )
    for position, item_id in enumerate(item_ids):
        current[item_id].position = position
    session.agenda.sort(key=lambda i: i.position)
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

"""The agenda item's edit page (kind, title, minutes, speaker, material link, description).

Adding, moving and removing items are on the session page (views.py); the expert invited to a
talk slot and its material files have their own page (companion.experts).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.identity import require_facilitator
from companion.core.db import get_db
from companion.core.errors import NotFound
from companion.core.validation import submit_form
from companion.sessions import agenda
from companion.sessions import operations as ops
from companion.sessions.blueprint import bp
from companion.sessions.models import AgendaItem, AgendaKind
from companion.sessions.schemas import AgendaItemIn


def agenda_item_for_page(item_id: int) -> AgendaItem:
    """The agenda item if the signed-in facilitator may manage its session."""
    facilitator = require_facilitator()
    db = get_db()
    item = db.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(_("No such agenda item."))
    ops.get_session(db, facilitator, item.session_id)
    return item


def _values(item: AgendaItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "title": item.title,
        "duration_minutes": item.duration_minutes,
        "speaker_name": item.speaker_name,
        "material_url": item.material_url,
        "description": item.description,
    }


@bp.route("/agenda/<int:item_id>/edit", methods=["GET", "POST"])
def edit_agenda(item_id: int) -> ResponseReturnValue:
    """Change one agenda slot; the agenda must still fit the session's length."""
    item = agenda_item_for_page(item_id)
    session = item.session
    db = get_db()

    def save(data: AgendaItemIn) -> ResponseReturnValue:
        changes = data.model_dump()
        # The speaker's address comes with an expert's invitation; this form does not show it.
        changes.pop("speaker_email")
        agenda.update_agenda_item(db, item, changes)
        flash(_("The agenda item was saved."))
        return redirect(url_for("sessions.show", session_id=session.id) + "#agenda", code=303)

    values, errors, response = submit_form(AgendaItemIn, save, defaults=_values(item))
    if response is not None:
        return response
    slot = agenda.slot_of(item)
    others = agenda.agenda_minutes(session.agenda) - item.duration_minutes
    return render_template(
        "sessions/agenda_item.html",
        item=item,
        session=session,
        programme=session.group.programme,
        slot=slot,
        count=len(session.agenda),
        free_minutes=max(session.duration_minutes - others, 0),
        agenda_kinds=list(AgendaKind),
        values=values,
        errors=errors,
    ), (422 if errors else 200)

"""The JSON API of expert talks: the agenda as people see it, inviting an expert, material."""

from __future__ import annotations

from flask import Blueprint, current_app, url_for
from flask_babel import gettext as _

from companion.accounts.access import contacts_shown
from companion.accounts.identity import require_actor, require_facilitator
from companion.config import Config
from companion.core.api import api_view
from companion.core.db import get_db
from companion.core.errors import Conflict, NotFound
from companion.experts import materials, operations, public
from companion.experts.schemas import AgendaLineOut, AgendaOut, ExpertIn, ExpertOut, MaterialOut
from companion.sessions.agenda import agenda_minutes
from companion.sessions.operations import session_for_actor

api = Blueprint("experts_api", __name__, url_prefix="/api/v1")


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


@api.get("/sessions/<int:session_id>/agenda")
@api_view(summary="A session's agenda", response=AgendaOut, tags=("sessions",))
def api_agenda(session_id: int) -> AgendaOut:
    """The agenda as the session's people see it: each slot's planned time, the speaker and
    the material (for members of the group and the programme's facilitators)."""
    actor = require_actor()
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    lines = public.lines_for_actor(db, _config(), actor, session)
    db.commit()  # a participant's join link is made on first need
    return AgendaOut(
        session_id=session.id,
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        duration_minutes=session.duration_minutes,
        agenda_minutes=agenda_minutes(session.agenda),
        items=[
            AgendaLineOut(
                number=line.number,
                kind=line.kind,
                title=line.title,
                duration_minutes=line.duration_minutes,
                starts_at=line.starts_at,
                ends_at=line.ends_at,
                speaker_name=line.speaker_name,
                speaker_bio=line.speaker_bio,
                description=line.description,
                material_url=next((m.url for m in line.materials if m.kind == "link"), ""),
                materials=[
                    MaterialOut(
                        id=m.material_id or 0,
                        filename=m.label,
                        content_type=m.content_type,
                        size=m.size,
                        url=m.url,
                    )
                    for m in line.materials
                    if m.kind == "file"
                ],
            )
            for line in lines
        ],
    )


def _expert_out(expert: object) -> ExpertOut:
    out = ExpertOut.model_validate(expert, from_attributes=True)
    return out if contacts_shown() else out.model_copy(update={"email": None})


@api.get("/agenda/<int:item_id>/expert")
@api_view(summary="A talk's expert and their answer", response=ExpertOut, tags=("sessions",))
def api_expert(item_id: int) -> ExpertOut:
    """The expert invited to the talk: whether they confirmed or declined, opened their page,
    and what they told about themselves (404 if nobody has been invited)."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)
    expert = operations.expert_of(db, item)
    if expert is None:
        raise NotFound(_("Nobody has been invited to this talk yet."))
    return _expert_out(expert)


@api.post("/agenda/<int:item_id>/expert")
@api_view(
    summary="Invite an expert to a talk",
    body=ExpertIn,
    response=ExpertOut,
    status=201,
    tags=("sessions",),
)
def api_invite_expert(item_id: int, body: ExpertIn) -> ExpertOut:
    """The expert becomes the talk's speaker and gets an email with their personal link
    (409 if the slot is not an expert talk, or the session is cancelled or over)."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)
    expert = operations.invite_expert(db, _config(), item, body, invited_by=facilitator)
    db.commit()
    return _expert_out(expert)


@api.delete("/agenda/<int:item_id>/expert")
@api_view(summary="Stop an expert's link", response=ExpertOut, tags=("sessions",))
def api_revoke_expert(item_id: int) -> ExpertOut:
    """The expert's personal link stops working (inviting them again makes a new one)."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)
    expert = operations.expert_of(db, item)
    if expert is None:
        raise Conflict(_("Nobody has been invited to this talk yet."))
    operations.revoke_expert(db, expert)
    db.commit()
    return _expert_out(expert)


@api.get("/agenda/<int:item_id>/materials")
@api_view(summary="A talk's material files", response=list[MaterialOut], tags=("sessions",))
def api_materials(item_id: int) -> list[MaterialOut]:
    """The files of a talk slot, with the address each opens at."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)
    return [
        MaterialOut(
            id=m.id,
            filename=m.filename,
            content_type=m.content_type,
            size=m.size,
            url=url_for("experts.material", material_id=m.id),
        )
        for m in materials.materials_of(db, [item])
    ]

"""Expert talks' pages: the facilitator's "expert and material" page of a talk slot, serving
material to the session's people, the agenda in the side panel, and template helpers.

The expert's own pages (`/x/<token>`) are in expert_views; both share the blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.access import contacts_shown
from companion.accounts.identity import current_actor, require_facilitator
from companion.board.views import PANEL_FRAME_ANCESTORS
from companion.config import Config
from companion.core.db import get_db, utcnow
from companion.core.errors import Conflict, Invalid
from companion.core.validation import submit_form
from companion.experts import (
    changes,  # noqa: F401 - registers the experts' schedule-change emails with sessions
    expert_views,  # noqa: F401 - registers the expert's own pages
    materials,
    operations,
    personal_data,  # noqa: F401 - registers the experts' share of personal data
    public,
    sniff,
)
from companion.experts.blueprint import bp
from companion.experts.files import receive_upload, serve_material, upload_status
from companion.experts.models import Expert
from companion.experts.schemas import ExpertIn, MaterialLinkIn
from companion.sessions import agenda, lifecycle
from companion.sessions.models import AgendaItem, AgendaKind, Session
from companion.sessions.operations import session_for_actor, state_of


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _talk_page_url(item: AgendaItem) -> str:
    return url_for("experts.talk_page", item_id=item.id)


# --- the facilitator's page of a talk slot -----------------------------------------------------


def _talk_page(
    item: AgendaItem,
    *,
    invite_values: dict[str, Any] | None = None,
    invite_errors: dict[str, str] | None = None,
    link_errors: dict[str, str] | None = None,
    upload_errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    db = get_db()
    session = item.session
    expert = operations.expert_of(db, item)
    values = invite_values
    if values is None:
        values = (
            {"name": expert.name, "email": expert.email, "language": expert.language}
            if expert
            else {
                "name": item.speaker_name,
                "email": item.speaker_email,
                "language": session.group.programme.language,
            }
        )
        if not contacts_shown():
            values["email"] = ""
    return render_template(
        "experts/talk.html",
        item=item,
        session=session,
        programme=session.group.programme,
        slot=agenda.slot_of(item),
        count=len(session.agenda),
        expert=expert,
        files=materials.materials_of(db, [item]),
        file_kind=public.file_kind,
        accept=sniff.ACCEPT,
        kinds=", ".join(k.name for k in sniff.KINDS),
        max_mb=_config().materials_max_mb,
        coming=lifecycle.is_coming(state_of(session)),
        invite_values=values,
        invite_errors=invite_errors or {},
        link_values={"material_url": item.material_url},
        link_errors=link_errors or {},
        upload_errors=upload_errors or {},
    ), status


@bp.route("/agenda/<int:item_id>/expert", methods=["GET", "POST"])
def talk_page(item_id: int) -> ResponseReturnValue:
    """A talk slot's expert (invite, send again, renew or stop their link) and material."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)

    def invite(data: ExpertIn) -> ResponseReturnValue:
        operations.invite_expert(db, _config(), item, data, invited_by=facilitator)
        flash(_("The invitation is on its way to %(email)s.", email=data.email))
        return redirect(_talk_page_url(item), code=303)

    values, errors, response = submit_form(ExpertIn, invite)
    if response is not None:
        return response
    if request.method == "POST":
        return _talk_page(item, invite_values=values, invite_errors=errors, status=422)
    return _talk_page(item)


@bp.route("/agenda/<int:item_id>/expert/link", methods=["POST"])
def change_expert_link(item_id: int) -> ResponseReturnValue:
    """Send the invitation again with a new link (the old one stops), or stop the link."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)
    expert = operations.expert_of(db, item)
    if expert is None:
        raise Conflict(_("Nobody has been invited to this talk yet."))
    if request.form.get("action") == "revoke":
        operations.revoke_expert(db, expert)
        flash(_("The expert's link no longer works."))
    else:
        operations.renew_link(db, _config(), expert)
        flash(
            _(
                "A new link is on its way to %(email)s; the old one no longer works.",
                email=expert.email,
            )
        )
    db.commit()
    return redirect(_talk_page_url(item), code=303)


@bp.route("/agenda/<int:item_id>/material-link", methods=["POST"])
def material_link(item_id: int) -> ResponseReturnValue:
    """Set (or clear) the talk's material link."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)

    def save(data: MaterialLinkIn) -> ResponseReturnValue:
        operations.set_material_link(db, item, data.material_url)
        flash(
            _("The material link was saved.") if data.material_url else _("The link was removed.")
        )
        return redirect(_talk_page_url(item) + "#material", code=303)

    _values, errors, response = submit_form(MaterialLinkIn, save)
    if response is not None:
        return response
    return _talk_page(item, link_errors=errors, status=422)


@bp.route("/agenda/<int:item_id>/materials", methods=["POST"])
def upload_material(item_id: int) -> ResponseReturnValue:
    """A facilitator uploads a file of the talk's material (say, slides the expert emailed)."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)
    try:
        material = receive_upload(item, f"facilitator:{facilitator.id}")
        db.commit()
    except Invalid as exc:
        db.rollback()
        return _talk_page(item, upload_errors=dict(exc.errors), status=upload_status(exc))
    flash(_("%(name)s was added to the material.", name=material.filename))
    return redirect(_talk_page_url(item) + "#material", code=303)


@bp.route("/agenda/<int:item_id>/materials/<int:material_id>/remove", methods=["POST"])
def remove_material(item_id: int, material_id: int) -> ResponseReturnValue:
    """Remove one file of the talk's material."""
    facilitator = require_facilitator()
    db = get_db()
    item = operations.item_for_facilitator(db, facilitator, item_id)
    material = materials.material_of_item(db, item, material_id)
    name = material.filename
    materials.remove_material(db, material)
    db.commit()
    flash(_("%(name)s was removed.", name=name))
    return redirect(_talk_page_url(item) + "#material", code=303)


# --- material for the session's people ---------------------------------------------------------


@bp.route("/materials/<int:material_id>")
def material(material_id: int) -> ResponseReturnValue:
    """A talk's file, for the members of the session's group and its facilitators."""
    actor = current_actor()
    if actor is None:
        from companion.notes.views import who_are_you

        return who_are_you()
    return serve_material(materials.material_for_actor(get_db(), actor, material_id))


# --- the agenda in the side panel ---------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/agenda/part")
def agenda_part(session_id: int) -> ResponseReturnValue:
    """The session's agenda as a page part for the side panel (bearer token or cookie)."""
    actor = current_actor()
    if actor is None:
        from companion.notes.views import who_are_you

        return who_are_you()
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    lines = public.lines_for_actor(db, _config(), actor, session)
    db.commit()  # the join link is made on first need
    return render_template(
        "experts/_agenda_part.html",
        session=session,
        programme=session.group.programme,
        lines=lines,
        now=utcnow(),
    )


@bp.route("/panel/sessions/<int:session_id>/agenda")
def panel_agenda(session_id: int) -> ResponseReturnValue:
    """The agenda tab of the side panel (Zoom, Teams): the page holds no data; its script
    reads a bearer token from the address fragment (or uses the join-link cookie) and fetches
    the agenda part, again every minute so the current slot stays marked."""
    g.allow_framing = True
    g.csp_extra = {"frame-ancestors": PANEL_FRAME_ANCESTORS}
    return render_template(
        "experts/panel.html",
        session_id=session_id,
        part_url=url_for("experts.agenda_part", session_id=session_id),
    )


# --- template helpers ---------------------------------------------------------------------------


@bp.app_template_global("public_agenda")
def public_agenda(session: Session) -> list[public.AgendaLine]:
    """The session's agenda for a page opened with a cookie (waiting page, my programme)."""
    return public.agenda_lines(get_db(), session, public.page_url)


@bp.app_template_global("talk_status")
def talk_status(item: AgendaItem) -> dict[str, Any]:
    """For the session page: the slot's expert (if any) and how many files its material has."""
    if item.kind != AgendaKind.EXPERT_TALK:
        return {"expert": None, "files": 0}
    db = get_db()
    expert: Expert | None = operations.expert_of(db, item)
    return {"expert": expert, "files": len(materials.materials_of(db, [item]))}

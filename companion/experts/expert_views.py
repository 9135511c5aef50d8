"""The expert's own pages, opened with their personal link (`/x/<token>`; no account).

They see their session's time in the programme's zone, their slot and the agenda around it,
a join button that forwards to the meeting in its join window, their material (upload files,
give a link, remove) and their reminder setting. The token in the address is what proves who
they are, so these forms carry no CSRF token: a forged form would have to know it.
"""

from __future__ import annotations

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _

from companion.config import Config
from companion.core.db import get_db, utcnow, writes
from companion.core.errors import Invalid
from companion.core.i18n import common_timezones
from companion.core.security import csrf_exempt
from companion.core.validation import form_data, parse
from companion.experts import mail, materials, operations, public, sniff
from companion.experts.blueprint import bp
from companion.experts.files import receive_upload, serve_material, upload_status
from companion.experts.links import ExpertLinkInvalid, resolve_expert_token
from companion.experts.mail import expert_calendar, talk_context
from companion.experts.models import Expert, Material
from companion.experts.schemas import AnswerIn, MaterialLinkIn, RemindersIn, TalkIn, TimeZoneIn
from companion.meetings import operations as rooms
from companion.meetings.platform import Person
from companion.sessions import lifecycle
from companion.sessions.operations import state_of


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _expert(token: str) -> Expert:
    """The expert of the link; their language for the page."""
    expert = resolve_expert_token(get_db(), token)
    g.preferred_language = expert.language
    return expert


@bp.errorhandler(ExpertLinkInvalid)
def _invalid(exc: ExpertLinkInvalid) -> ResponseReturnValue:
    """A tampered, unknown or revoked expert link (raised by `_expert` in any view here)."""
    return render_template("experts/link_invalid.html", reason=exc.reason), (
        410 if exc.reason == "revoked" else 404
    )


def _page_url(token: str, anchor: str = "") -> str:
    return url_for("experts.expert_page", token=token) + anchor


def _page(
    expert: Expert,
    token: str,
    *,
    link_errors: dict[str, str] | None = None,
    link_value: str | None = None,
    upload_errors: dict[str, str] | None = None,
    talk_values: dict[str, str] | None = None,
    talk_errors: dict[str, str] | None = None,
    zone_errors: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    db = get_db()
    config = _config()
    item = expert.agenda_item
    session = item.session
    own = materials.materials_of(db, [item])
    opens, closes = operations.join_window(config, session)
    state = state_of(session)
    return render_template(
        "experts/expert.html",
        token=token,
        files=own,
        file_kind=public.file_kind,
        lines=public.agenda_lines(
            db,
            session,
            lambda m: url_for("experts.expert_material", token=token, material_id=m.id),
            own,
        ),
        cancelled=state is lifecycle.SessionState.CANCELLED,
        over=lifecycle.has_happened(state) or utcnow() > closes,
        can_join=operations.can_join_now(config, session),
        opens_at=opens,
        accept=sniff.ACCEPT,
        kinds=", ".join(k.name for k in sniff.KINDS),
        max_mb=config.materials_max_mb,
        link_value=item.material_url if link_value is None else link_value,
        link_errors=link_errors or {},
        upload_errors=upload_errors or {},
        talk_values=talk_values
        or {"title": item.title, "abstract": item.description, "bio": expert.bio},
        talk_errors=talk_errors or {},
        zone_errors=zone_errors or {},
        zones=[(name, name.replace("_", " ")) for name in common_timezones()],
        **talk_context(config, expert),
    ), status


@bp.route("/x/<token>")
@writes
def expert_page(token: str) -> ResponseReturnValue:
    """The expert's page: their session, slot, join button, material and reminders."""
    expert = _expert(token)
    operations.mark_seen(get_db(), expert)
    get_db().commit()
    return _page(expert, token)


@bp.route("/x/<token>/join")
def expert_join(token: str) -> ResponseReturnValue:
    """Forward to the meeting room in the session's join window; otherwise back to the page,
    which says when it opens."""
    expert = _expert(token)
    session = expert.agenda_item.session
    if not operations.can_join_now(_config(), session):
        flash(_("The meeting room is not open now. See below when it opens."), "error")
        return redirect(_page_url(token), code=303)
    # The expert joins as a guest under their own name (no participant: no attendance).
    target = rooms.personal_join_url(get_db(), session, Person(None, expert.name, expert.email))
    if target is None:
        flash(_("The meeting room is not ready yet. Please try again in a moment."), "error")
        return redirect(_page_url(token), code=303)
    return redirect(target, code=303)


@bp.route("/x/<token>/materials", methods=["POST"])
@csrf_exempt
def expert_upload(token: str) -> ResponseReturnValue:
    """The expert uploads a file of their material."""
    expert = _expert(token)
    db = get_db()
    try:
        material = receive_upload(expert.agenda_item, "expert")
        db.commit()
    except Invalid as exc:
        db.rollback()
        return _page(expert, token, upload_errors=dict(exc.errors), status=upload_status(exc))
    flash(_("%(name)s was added to your material.", name=material.filename))
    return redirect(_page_url(token, "#material"), code=303)


def _own_material(expert: Expert, material_id: int) -> Material:
    return materials.material_of_item(get_db(), expert.agenda_item, material_id)


@bp.route("/x/<token>/materials/<int:material_id>")
def expert_material(token: str, material_id: int) -> ResponseReturnValue:
    """One of the expert's own files (never another slot's)."""
    expert = _expert(token)
    return serve_material(_own_material(expert, material_id))


@bp.route("/x/<token>/materials/<int:material_id>/remove", methods=["POST"])
@csrf_exempt
def expert_remove_material(token: str, material_id: int) -> ResponseReturnValue:
    """The expert removes one of their files."""
    expert = _expert(token)
    db = get_db()
    material = _own_material(expert, material_id)
    name = material.filename
    materials.remove_material(db, material)
    db.commit()
    flash(_("%(name)s was removed.", name=name))
    return redirect(_page_url(token, "#material"), code=303)


@bp.route("/x/<token>/link", methods=["POST"])
@csrf_exempt
def expert_link(token: str) -> ResponseReturnValue:
    """The expert gives (or clears) a link to their material."""
    expert = _expert(token)
    db = get_db()
    values = form_data(request.form)
    try:
        data = parse(MaterialLinkIn, values)
        operations.set_material_link(db, expert.agenda_item, data.material_url)
        db.commit()
    except Invalid as exc:
        db.rollback()
        return _page(
            expert,
            token,
            link_errors=dict(exc.errors),
            link_value=str(values.get("material_url", "")),
            status=422,
        )
    flash(_("Your material link was saved.") if data.material_url else _("The link was removed."))
    return redirect(_page_url(token, "#material"), code=303)


@bp.route("/x/<token>/reminders", methods=["POST"])
@csrf_exempt
def expert_reminders(token: str) -> ResponseReturnValue:
    """The expert turns the session's reminders on or off."""
    expert = _expert(token)
    db = get_db()
    data = parse(RemindersIn, form_data(request.form))
    operations.set_reminders(db, expert, data.reminders)
    db.commit()
    flash(_("Reminders are on.") if data.reminders else _("Reminders are off."))
    return redirect(_page_url(token, "#reminders"), code=303)


@bp.route("/x/<token>/answer", methods=["POST"])
@csrf_exempt
def expert_answer(token: str) -> ResponseReturnValue:
    """The expert confirms that they come, or declines."""
    expert = _expert(token)
    db = get_db()
    data = parse(AnswerIn, form_data(request.form))
    operations.answer_invitation(db, expert, data.answer)
    mail.queue_answer_notice(db, _config(), expert)
    db.commit()
    if data.answer == "confirm":
        flash(_("Thank you! The organisers see that you are coming."))
    else:
        flash(_("Thank you for letting us know. The organisers see that you cannot come."))
    return redirect(_page_url(token), code=303)


@bp.route("/x/<token>/talk", methods=["POST"])
@csrf_exempt
def expert_talk(token: str) -> ResponseReturnValue:
    """The expert gives their talk's title and abstract and a few lines about themselves."""
    expert = _expert(token)
    db = get_db()
    values = form_data(request.form)
    try:
        operations.describe_talk(db, expert, parse(TalkIn, values))
        db.commit()
    except Invalid as exc:
        db.rollback()
        given = {k: str(values.get(k, "")) for k in ("title", "abstract", "bio")}
        return _page(expert, token, talk_values=given, talk_errors=dict(exc.errors), status=422)
    flash(_("Your talk's details were saved. Participants see them in the agenda."))
    return redirect(_page_url(token, "#talk"), code=303)


@bp.route("/x/<token>/timezone", methods=["POST"])
@csrf_exempt
def expert_timezone(token: str) -> ResponseReturnValue:
    """The expert chooses the zone their page and emails show times in."""
    expert = _expert(token)
    db = get_db()
    try:
        data = parse(TimeZoneIn, form_data(request.form))
    except Invalid as exc:
        return _page(expert, token, zone_errors=dict(exc.errors), status=422)
    operations.set_timezone(db, expert, data.timezone)
    db.commit()
    flash(_("Times are now shown in %(zone)s.", zone=data.timezone.replace("_", " ")))
    return redirect(_page_url(token), code=303)


@bp.route("/x/<token>/calendar.ics")
def expert_calendar_file(token: str) -> ResponseReturnValue:
    """The session as a calendar file with the expert's slot and page link."""
    expert = _expert(token)
    with force_locale(expert.language):
        attachment = expert_calendar(_config(), expert)
    return Response(
        attachment.content,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="kollega.ics"'},
    )

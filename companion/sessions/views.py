"""Pages for sessions, the schedule, agenda and invitations; the join link itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from companion.accounts.identity import enter_as_participant, require_facilitator
from companion.config import Config
from companion.core.db import get_db, utcnow, writes
from companion.core.errors import NotFound
from companion.core.i18n import zone
from companion.core.security import safe_next
from companion.core.validation import form, query, submit_form
from companion.meetings import operations as rooms
from companion.meetings.platform import Person, Room, platform_label, platform_page
from companion.programmes import operations as programme_ops

# The session's life (end, reopen, presence) is served from life_views, the agenda item's edit
# page from agenda_views, both on the same blueprint.
from companion.sessions import (
    agenda,
    agenda_views,
    attendance,
    invitations,
    join_links,
    life_views,
)
from companion.sessions import operations as ops
from companion.sessions import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.sessions.blueprint import bp
from companion.sessions.lifecycle import Action
from companion.sessions.models import AgendaItem, AgendaKind, Session
from companion.sessions.schemas import (
    AgendaItemIn,
    InvitationsIn,
    JoinLinkActionIn,
    NewSessionQuery,
    ScheduleIn,
    SessionIn,
)


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _local_parts(session: Session) -> dict[str, Any]:
    local = session.starts_at.astimezone(zone(session.group.programme.timezone))
    return {
        "title": session.title,
        "date": local.date().isoformat(),
        "start_time": local.strftime("%H:%M"),
        "duration_minutes": session.duration_minutes,
    }


# --- schedule and sessions ----------------------------------------------------------------


@bp.route("/programmes/<int:programme_id>/sessions", methods=["GET", "POST"])
def schedule(programme_id: int) -> ResponseReturnValue:
    """All sessions of the programme by group, and the form that generates a series."""
    facilitator = require_facilitator()
    db = get_db()
    programme = programme_ops.get_programme(db, facilitator, programme_id)

    def generate(data: ScheduleIn) -> ResponseReturnValue:
        created = ops.create_schedule(db, programme, data, host=facilitator)
        flash(ngettext("%(num)s session scheduled.", "%(num)s sessions scheduled.", len(created)))
        return redirect(url_for("sessions.schedule", programme_id=programme.id), code=303)

    first_date = programme.starts_on or (utcnow() + timedelta(days=7)).date()
    defaults = {
        "group_id": programme.groups[0].id if programme.groups else "",
        "first_date": first_date.isoformat(),
        "start_time": "09:00",
        "count": 6,
        "every_weeks": 3,
        "duration_minutes": 120,
        "with_agenda": True,
    }
    values, errors, response = submit_form(ScheduleIn, generate, defaults=defaults)
    if response is not None:
        return response
    return (
        render_template(
            "sessions/schedule.html",
            programme=programme,
            values=values,
            errors=errors,
            platform_label=platform_label(programme.platform),
            group_options=[(g.id, g.name) for g in programme.groups],
        ),
        422 if errors else 200,
    )


@bp.route("/programmes/<int:programme_id>/sessions/new", methods=["GET", "POST"])
def new_session(programme_id: int) -> ResponseReturnValue:
    """Add one session outside the series."""
    facilitator = require_facilitator()
    db = get_db()
    programme = programme_ops.get_programme(db, facilitator, programme_id)

    def create(data: SessionIn) -> ResponseReturnValue:
        session = ops.create_session(db, programme, data, host=facilitator)
        flash(_("Session added."))
        return redirect(url_for("sessions.show", session_id=session.id), code=303)

    chosen_group = query(NewSessionQuery).group_id
    defaults = {
        "group_id": chosen_group or (programme.groups[0].id if programme.groups else ""),
        "start_time": "09:00",
        "duration_minutes": 120,
    }
    values, errors, response = submit_form(SessionIn, create, defaults=defaults)
    if response is not None:
        return response
    return render_template(
        "sessions/session_form.html",
        programme=programme,
        session=None,
        values=values,
        errors=errors,
        group_options=[(g.id, g.name) for g in programme.groups],
    ), (422 if errors else 200)


def _session_page(
    session: Session,
    *,
    agenda_values: dict[str, Any] | None = None,
    agenda_errors: dict[str, str] | None = None,
) -> str:
    """The session page: its state and what can be done now, room, presence, agenda, links."""
    db = get_db()
    rows = life_views.presence_rows(db, session)
    links = {
        row.participant.id: join_links.join_url(
            _config(), join_links.join_link_for(db, row.participant)
        )
        for row in rows
    }
    db.commit()  # join links are made on first view
    return render_template(
        "sessions/show.html",
        session=session,
        programme=session.group.programme,
        state=ops.state_of(session),
        can={action.value: ops.can(session, action) for action in Action},
        presence=rows,
        counts=life_views.presence_counts(rows),
        links=links,
        summary_at=ops.summary_goes_out_at(session),
        agenda_kinds=list(AgendaKind),
        agenda_slots=agenda.slots(session),
        agenda_minutes=agenda.agenda_minutes(session.agenda),
        agenda_values=agenda_values or {},
        agenda_errors=agenda_errors or {},
        platform_label=platform_label(session.platform),
        platform_page=platform_page(session.platform),
    )


@bp.route("/sessions/<int:session_id>")
@writes
def show(session_id: int) -> str:
    """A session: its state, room, presence list, agenda, and each participant's join link."""
    facilitator = require_facilitator()
    return _session_page(ops.get_session(get_db(), facilitator, session_id))


@bp.route("/sessions/<int:session_id>/room", methods=["POST"])
def retry_room(session_id: int) -> ResponseReturnValue:
    """Try again to create the session's room on its platform."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    row = rooms.ensure_session_room(db, session, facilitator.id)
    db.commit()
    if row.status == "active":
        flash(_("The meeting room is ready."))
    else:
        flash(
            _("The room could not be created: %(error)s", error=row.data.get("error", "")), "error"
        )
    return redirect(url_for("sessions.show", session_id=session.id), code=303)


# --- agenda -------------------------------------------------------------------------------


def _agenda_item(item_id: int) -> AgendaItem:
    return agenda_views.agenda_item_for_page(item_id)


@bp.route("/sessions/<int:session_id>/agenda", methods=["POST"])
def add_agenda(session_id: int) -> ResponseReturnValue:
    """Add a slot (e.g. an expert talk) to the agenda."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)

    def add(data: AgendaItemIn) -> ResponseReturnValue:
        agenda.add_agenda_item(db, session, data)
        flash(_("Added to the agenda."))
        return redirect(url_for("sessions.show", session_id=session.id) + "#agenda", code=303)

    values, errors, response = submit_form(AgendaItemIn, add)
    if response is not None:
        return response
    flash(_("Please correct the marked fields."), "error")
    return _session_page(session, agenda_values=values, agenda_errors=errors), 422


@bp.route("/agenda/<int:item_id>/remove", methods=["POST"])
def remove_agenda(item_id: int) -> ResponseReturnValue:
    """Take a slot off the agenda."""
    item = _agenda_item(item_id)
    session_id = item.session_id
    agenda.remove_agenda_item(get_db(), item)
    get_db().commit()
    return redirect(url_for("sessions.show", session_id=session_id) + "#agenda", code=303)


@bp.route("/agenda/<int:item_id>/move/<direction>", methods=["POST"])
def move_agenda(item_id: int, direction: str) -> ResponseReturnValue:
    """Move a slot up or down."""
    if direction not in ("up", "down"):
        raise NotFound()
    item = _agenda_item(item_id)
    moved: Literal["up", "down"] = "up" if direction == "up" else "down"
    agenda.move_agenda_item(get_db(), item, moved)
    get_db().commit()
    return redirect(url_for("sessions.show", session_id=item.session_id) + "#agenda", code=303)


# --- invitations and links ------------------------------------------------------------------


@bp.route("/programmes/<int:programme_id>/invitations", methods=["POST"])
def send_invitations(programme_id: int) -> ResponseReturnValue:
    """Email every participant (or one) their personal join link and the schedule."""
    facilitator = require_facilitator()
    db = get_db()
    programme = programme_ops.get_programme(db, facilitator, programme_id)
    sent = form(InvitationsIn)
    only = sent.participant_id
    people = [p for p in programme.participants if only is None or p.id == only]
    queued = sum(invitations.queue_invitation(db, _config(), p) for p in people)
    db.commit()
    if queued:
        flash(
            ngettext(
                "%(num)s invitation is on its way. See the outbox.",
                "%(num)s invitations are on their way. See the outbox.",
                queued,
            )
        )
    else:
        flash(_("Everyone already has an invitation with their current link."))
    back = url_for("programmes.participants", programme_id=programme.id)
    return redirect(safe_next(sent.back, back), code=303)


@bp.route("/participants/<int:participant_id>/join-link", methods=["POST"])
def change_join_link(participant_id: int) -> ResponseReturnValue:
    """Renew (new address, old one stops working) or revoke a participant's join link."""
    facilitator = require_facilitator()
    db = get_db()
    participant = programme_ops.get_participant(db, facilitator, participant_id)
    if form(JoinLinkActionIn).action == "revoke":
        join_links.revoke_join_link(db, participant)
        flash(_("The join link no longer works."))
    else:
        join_links.renew_join_link(db, participant)
        flash(_("A new join link was made; the old one no longer works."))
    db.commit()
    return redirect(url_for("programmes.edit_participant", participant_id=participant.id), code=303)


# --- the join link itself (public) ------------------------------------------------------------


def _invalid_link_page(reason: str) -> tuple[str, int]:
    return render_template("sessions/join_invalid.html", reason=reason), (
        410 if reason == "revoked" else 404
    )


@bp.route("/j/<token>")
@writes
def join(token: str) -> ResponseReturnValue:
    """Record attendance and forward to the room, or show when the next session opens."""
    db = get_db()
    config = _config()
    now = utcnow()
    window = {
        "opens_before": timedelta(minutes=config.join_opens_minutes),
        "closes_after": timedelta(minutes=config.join_closes_minutes),
    }
    quick = join_links.quick_join(db, token, now, **window)
    if quick is not None:  # most opens: one query, no objects, the same rule
        enter_as_participant(quick.participant_id, quick.nonce)
        room = Room(quick.room_external_id, quick.room_join_url, quick.room_data)
        person = Person(quick.participant_id, quick.name, quick.email)
        address = rooms.join_url_from(db, quick.session.platform, room, person)
        attendance.record_join(db, quick.session.id, quick.participant_id)
        db.commit()
        return redirect(address, code=303)
    try:
        link = join_links.resolve_join_token(db, token)
    except join_links.JoinLinkInvalid as exc:
        return _invalid_link_page(exc.reason)
    participant = link.participant
    enter_as_participant(participant.id, link.nonce)
    decision = join_links.decide_join(participant, now, **window)
    programme = participant.programme
    if decision.kind == "join" and decision.session is not None:
        session = decision.session
        person = Person(participant.id, participant.name, participant.email)
        target = rooms.personal_join_url(db, session, person)
        if target is None:
            db.rollback()
            return render_template(
                "sessions/room_not_ready.html", session=session, programme=programme
            ), 503
        attendance.record_join(db, session.id, participant.id)
        db.commit()
        return redirect(target, code=303)
    db.commit()
    if decision.kind == "wait" and decision.session is not None:
        return render_template(
            "sessions/waiting.html",
            participant=participant,
            programme=programme,
            session=decision.session,
            opens_at=decision.opens_at,
            token=token,
        )
    return render_template(
        "sessions/programme_over.html",
        participant=participant,
        programme=programme,
        never_scheduled=decision.kind == "none",
    )


@bp.route("/j/<token>/sessions.ics")
def join_calendar(token: str) -> ResponseReturnValue:
    """The participant's coming sessions as a calendar file."""
    db = get_db()
    try:
        link = join_links.resolve_join_token(db, token)
    except join_links.JoinLinkInvalid as exc:
        return _invalid_link_page(exc.reason)
    body = invitations.calendar_for(_config(), link.participant, link)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="kollega.ics"'},
    )

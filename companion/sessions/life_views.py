"""Pages for a session's life: moving, cancelling and restoring it (each confirmed after
showing the email the members get), ending it (confirmed; it sends nothing), reopening it,
and the presence list where the facilitator sees and corrects who was there.

These share the `sessions` blueprint (views.py imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.identity import require_facilitator
from companion.config import Config
from companion.core.db import Db, get_db
from companion.core.errors import Invalid
from companion.core.i18n import zone
from companion.core.validation import form_data, parse
from companion.programmes.models import Participant
from companion.sessions import attendance, notices
from companion.sessions import operations as ops
from companion.sessions.blueprint import bp
from companion.sessions.lifecycle import Action
from companion.sessions.models import PresenceReport, Session, SessionStatus
from companion.sessions.presence import Presence
from companion.sessions.schemas import PresenceMarkIn, SessionMove

#: Where a presence correction returns to (never a free-form address).
RETURN_TO = {
    "session": "sessions.show",
    "summary": "digest.digest",
}


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


@dataclass(frozen=True)
class PresenceRow:
    """One member on the presence list: the fact, and what each source said."""

    participant: Participant
    fact: Presence
    #: The join link's report: when first opened and how often.
    link: PresenceReport | None
    #: The platform's report (which platform, minutes in the meeting).
    platform: PresenceReport | None


def presence_rows(db: Db, session: Session) -> list[PresenceRow]:
    """The session's members by name with their presence (for the session and review pages)."""
    facts = attendance.presence_of(db, session)
    reports: dict[tuple[int, str], PresenceReport] = {
        (r.participant_id, r.source): r for r in attendance.reports_of(db, session)
    }
    members = sorted(
        (m.participant for m in session.group.memberships), key=lambda p: p.name.casefold()
    )
    return [
        PresenceRow(
            participant=p,
            fact=facts[p.id],
            link=reports.get((p.id, "link")),
            platform=reports.get((p.id, "platform")),
        )
        for p in members
    ]


def presence_counts(rows: list[PresenceRow]) -> dict[str, int]:
    """How many are present, absent and (before the start) expected."""
    return {
        "present": sum(1 for r in rows if r.fact.present),
        "absent": sum(1 for r in rows if r.fact.present is False),
        "expected": sum(1 for r in rows if r.fact.present is None),
    }


@bp.route("/sessions/<int:session_id>/end", methods=["GET", "POST"])
def end(session_id: int) -> ResponseReturnValue:
    """Ask, then mark the session as held. Nothing is emailed: the summary is reviewed next."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    if request.method == "POST":
        ops.end_session(db, session, by="facilitator")
        db.commit()
        flash(_("The session has ended. Review the summary email and send it when it is ready."))
        return redirect(url_for("digest.digest", session_id=session.id), code=303)
    # Refuse here already (a session months ahead), not only when the form is sent.
    if not ops.can(session, Action.END):
        ops.end_session(db, session, by="facilitator")  # raises the Conflict that says why
    rows = presence_rows(db, session)
    return render_template(
        "sessions/end_confirm.html",
        session=session,
        programme=session.group.programme,
        counts=presence_counts(rows),
        delay_minutes=ops.summary_delay_minutes(),
    )


@bp.route("/sessions/<int:session_id>/reopen", methods=["POST"])
def reopen(session_id: int) -> ResponseReturnValue:
    """Undo the ending until the summary has gone out."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.reopen_session(db, ops.get_session(db, facilitator, session_id))
    db.commit()
    flash(_("The session is open again. End it once more when it is over."))
    return redirect(url_for("sessions.show", session_id=session.id), code=303)


@bp.route("/sessions/<int:session_id>/presence", methods=["POST"])
def mark_presence(session_id: int) -> ResponseReturnValue:
    """Correct one person's presence (present, absent, or back to what the sources say)."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    data = parse(PresenceMarkIn, {k: v for k, v in form_data(request.form).items() if k != "to"})
    ops.mark_presence(db, session, data.participant_id, data.mark, by=facilitator.id)
    db.commit()
    flash(_("Presence saved."))
    target = RETURN_TO.get(str(form_data(request.form).get("to", "")), "sessions.show")
    return redirect(url_for(target, session_id=session.id) + "#presence", code=303)


# --- changes that reach people -------------------------------------------------------------------


def _local_parts(session: Session) -> dict[str, Any]:
    local = session.starts_at.astimezone(zone(session.group.programme.timezone))
    return {
        "title": session.title,
        "date": local.date().isoformat(),
        "start_time": local.strftime("%H:%M"),
        "duration_minutes": session.duration_minutes,
    }


def _preview(db: Db, session: Session, change: notices.Change, **kwargs: Any) -> dict[str, Any]:
    """Who gets the change email and what the first of them reads (the page's preview)."""
    people = notices.recipients(session)
    config = _config()
    own = notices.platform_sends_its_own(config, db, session)
    sample = (
        notices.render_notice(db, config, session, people[0], change, **kwargs)
        if people and not own
        else None
    )
    return {"recipients": people, "sample": sample, "platform_sends": own}


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
def edit_session(session_id: int) -> ResponseReturnValue:
    """Move one session (the others stay): the new time, then a confirmation that shows the
    email with the updated calendar entry the members get."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    ops.require(session, Action.MOVE)
    programme = session.group.programme
    values: dict[str, Any] = _local_parts(session)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = form_data(request.form)
        confirmed = values.pop("confirm", "") == "yes"
        try:
            data = parse(SessionMove, values)
            if confirmed:
                ops.move_session(db, session, data)
                db.commit()
                flash(_("The session was moved; its members are being told."))
                return redirect(url_for("sessions.show", session_id=session.id), code=303)
            previous = session.starts_at
            with db.no_autoflush:
                # The preview shows the new time: applied to the object, never written.
                ops.move_session(db, session, data, notify=False, dry_run=True)
                preview = _preview(db, session, "moved", previous_starts_at=previous)
                new = (session.starts_at, session.ends_at)
            db.rollback()
            return render_template(
                "sessions/change_confirm.html",
                session=session,
                programme=programme,
                change="moved",
                values=values,
                previous_starts_at=previous,
                new_starts_at=new[0],
                new_ends_at=new[1],
                **preview,
            )
        except Invalid as exc:
            db.rollback()
            errors = dict(exc.errors) or {"form": exc.detail or _("Please check the input.")}
    return render_template(
        "sessions/session_form.html",
        programme=programme,
        session=session,
        values=values,
        errors=errors,
    ), (422 if errors else 200)


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
def cancel(session_id: int) -> ResponseReturnValue:
    """Ask (showing the cancellation email), then call off the session."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    if request.method == "POST":
        ops.cancel_session(db, session)
        db.commit()
        flash(_("The session was cancelled; its members are being told."))
        return redirect(url_for("sessions.show", session_id=session.id), code=303)
    ops.require(session, Action.CANCEL)
    with db.no_autoflush:
        session.status = SessionStatus.CANCELLED  # for the preview only, never written
        preview = _preview(db, session, "cancelled")
    db.rollback()
    return render_template(
        "sessions/change_confirm.html",
        session=session,
        programme=session.group.programme,
        change="cancelled",
        **preview,
    )


@bp.route("/sessions/<int:session_id>/restore", methods=["GET", "POST"])
def restore(session_id: int) -> ResponseReturnValue:
    """Ask (showing the email), then put a cancelled session back on the schedule."""
    facilitator = require_facilitator()
    db = get_db()
    session = ops.get_session(db, facilitator, session_id)
    if request.method == "POST":
        ops.restore_session(db, session)
        db.commit()
        flash(_("The session is back on the schedule; its members are being told."))
        return redirect(url_for("sessions.show", session_id=session.id), code=303)
    ops.require(session, Action.RESTORE)
    with db.no_autoflush:
        session.status = SessionStatus.SCHEDULED  # for the preview only, never written
        preview = _preview(db, session, "restored")
    db.rollback()
    return render_template(
        "sessions/change_confirm.html",
        session=session,
        programme=session.group.programme,
        change="restored",
        **preview,
    )

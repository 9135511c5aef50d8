"""The participant's own pages (/me), personal links from emails, and the digest preview."""

from __future__ import annotations

import re
from typing import Literal

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from pydantic import BaseModel, Field

from companion.accounts.identity import current_actor, enter_as_participant, require_facilitator
from companion.accounts.roles import Capability
from companion.config import Config
from companion.contacts.operations import contacts_of, preferences_of
from companion.core.db import get_db, utcnow, writes
from companion.core.errors import NotFound
from companion.core.schema_types import OptionalDbId
from companion.core.validation import query
from companion.digest import operations as ops
from companion.digest import reminders  # noqa: F401 - registers the reminder job
from companion.digest.gather import session_notes
from companion.digest.links import TARGETS, resolve_personal_token
from companion.notes.action_items import actions_of
from companion.notes.payloads import action_out
from companion.notes.views import who_are_you
from companion.programmes.models import Participant
from companion.sessions import join_links
from companion.sessions import operations as session_ops
from companion.sessions.life_views import presence_counts, presence_rows
from companion.sessions.lifecycle import Action
from companion.sessions.models import Session

bp = Blueprint("digest", __name__, template_folder="templates")

_NOTES_TARGET = re.compile(r"^notes-([0-9]{1,10})$")
#: A talk's material file (companion.experts), from a reminder, a summary or the side panel.
_MATERIAL_TARGET = re.compile(r"^material-([0-9]{1,10})$")
_FEEDBACK_TARGET = re.compile(r"^feedback-([0-9]{1,10})$")


class PersonalLinkQuery(BaseModel):
    """Where a personal link from an email leads (`TARGETS`, or `notes-<session id>`)."""

    next: str = Field(default="me", max_length=40)
    #: The rating chosen in the summary's "How was it?" links (`feedback-<session id>`).
    rating: Literal["", "1", "2", "3", "4", "5"] = ""


class PreviewQuery(BaseModel):
    """Whose digest the facilitator previews, and which kind (by default as it would go)."""

    participant: OptionalDbId = None
    variant: Literal["", "missed", "summary"] = ""


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


# --- the participant's pages ------------------------------------------------------------------


@bp.route("/me")
def me() -> ResponseReturnValue:
    """My programme: my sessions and their notes, my action items, my contacts."""
    actor = current_actor()
    if actor is None:
        return who_are_you()
    if actor.participant is None:
        return redirect(url_for("programmes.index"))
    participant = actor.participant
    db = get_db()
    now = utcnow()
    sessions = sorted(
        (s for g in participant.groups for s in g.sessions if not s.is_cancelled),
        key=lambda s: s.starts_at,
    )
    # Coming: scheduled and not yet over; held: everything else that was not cancelled.
    upcoming = session_ops.coming_sessions(sessions, now)
    held = [s for s in sessions if s not in upcoming]
    link = join_links.join_link_for(db, participant)
    actions = [action_out(a) for a in actions_of(db, participant) if not a.done]
    contacts = contacts_of(db, participant)
    db.commit()  # the join link is made on first need
    return render_template(
        "digest/me.html",
        participant=participant,
        programme=participant.programme,
        next_session=upcoming[0] if upcoming else None,
        upcoming=upcoming[1:],
        held=list(reversed(held)),
        join_url=join_links.join_url(_config(), link),
        calendar_url=url_for("sessions.join_calendar", token=join_links.join_token(link)),
        actions=actions,
        contacts=contacts,
        reminders=preferences_of(db, participant).reminders,
    )


@bp.route("/me/t/<token>")
def personal_link(token: str) -> ResponseReturnValue:
    """A link from an email: remember the participant on this browser and go to the page."""
    asked = query(PersonalLinkQuery)
    target = asked.next
    db = get_db()
    link = resolve_personal_token(db, token)
    if link is None:
        return render_template("sessions/join_invalid.html", reason="revoked"), 410
    participant: Participant = link.participant
    enter_as_participant(participant.id, link.nonce)
    match = _NOTES_TARGET.match(target)
    if match:
        return redirect(url_for("notes.session_notes", session_id=int(match.group(1))), code=303)
    match = _MATERIAL_TARGET.match(target)
    if match:
        return redirect(url_for("experts.material", material_id=int(match.group(1))), code=303)
    match = _FEEDBACK_TARGET.match(target)
    if match:
        # The summary's "How was it?" links: the rating page with that rating chosen.
        return redirect(
            url_for(
                "outcomes.session_feedback",
                session_id=int(match.group(1)),
                rating=asked.rating or None,
                source="email",
            ),
            code=303,
        )
    endpoints = {
        "me": "digest.me",
        "contacts": "contacts.my_contacts",
        "preferences": "contacts.my_preferences",
        "reminders": "contacts.reminders",
        "actions": "notes.my_actions",
        "data": "privacy.my_data",
    }
    return redirect(url_for(endpoints[target] if target in TARGETS else "digest.me"), code=303)


# --- facilitators: status and preview ---------------------------------------------------------


def _preview_target(session: Session) -> tuple[Participant | None, bool | None]:
    members = sorted(
        (m.participant for m in session.group.memberships), key=lambda p: p.name.lower()
    )
    asked = query(PreviewQuery)
    participant = next(
        (p for p in members if p.id == asked.participant), members[0] if members else None
    )
    variant = asked.variant
    missed = True if variant == "missed" else False if variant == "summary" else None
    return participant, missed


@bp.route("/sessions/<int:session_id>/digest")
@writes
def digest(session_id: int) -> ResponseReturnValue:
    """The summary email: for review once the session has ended (who counts as present, the
    plenary notes, a preview per person), then its delivery."""
    facilitator = require_facilitator()
    db = get_db()
    session = session_ops.get_session(
        db, facilitator, session_id, capability=Capability.CONTACT_DETAILS
    )
    participant, missed = _preview_target(session)
    preview = None
    if participant is not None:
        content, email = ops.preview_digest(db, _config(), session, participant, missed=missed)
        preview = {"content": content, "email": email}
    status = ops.digest_status(db, session)
    rows = presence_rows(db, session)
    plenary = next((s for s in session_notes(db, session) if s.breakout_group_id is None), None)
    db.commit()  # join links are made on first need
    return render_template(
        "digest/status.html",
        session=session,
        programme=session.group.programme,
        state=session_ops.state_of(session),
        can={action.value: session_ops.can(session, action) for action in Action},
        summary_at=session_ops.summary_goes_out_at(session),
        presence=rows,
        counts=presence_counts(rows),
        plenary=plenary,
        status=status,
        participant=participant,
        variant=query(PreviewQuery).variant,
        members=[row.participant for row in rows],
        preview=preview,
    )


@bp.route("/sessions/<int:session_id>/digest/preview.html")
def preview_html(session_id: int) -> Response:
    """The HTML part of a preview, shown in a sandboxed frame."""
    facilitator = require_facilitator()
    db = get_db()
    session = session_ops.get_session(
        db, facilitator, session_id, capability=Capability.CONTACT_DETAILS
    )
    participant, missed = _preview_target(session)
    if participant is None:
        raise NotFound(_("The group has no members yet."))
    _content, email = ops.preview_digest(db, _config(), session, participant, missed=missed)
    db.commit()
    response = Response(email.html, mimetype="text/html")
    # Participant-written notes are in it (sanitised, but still): no scripts, no outside loads.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; sandbox"
    )
    return response


@bp.route("/sessions/<int:session_id>/digest/send", methods=["GET", "POST"])
@writes
def send_now(session_id: int) -> ResponseReturnValue:
    """Show exactly what goes out to whom, then send the reviewed summary (once)."""
    facilitator = require_facilitator()
    db = get_db()
    session = session_ops.get_session(
        db, facilitator, session_id, capability=Capability.CONTACT_DETAILS
    )
    if request.method == "POST":
        ops.release_summary(db, session)
        db.commit()
        flash(_("The summary emails are being prepared. See the outbox."))
        return redirect(url_for("digest.digest", session_id=session.id), code=303)
    if not session_ops.can(session, Action.SEND_SUMMARY):
        ops.release_summary(db, session)  # raises the Conflict that says why
    rows = presence_rows(db, session)
    upcoming = session_ops.next_session_after(session)
    db.commit()
    return render_template(
        "digest/send_confirm.html",
        session=session,
        programme=session.group.programme,
        present=[r.participant for r in rows if r.fact.present],
        absent=[r.participant for r in rows if not r.fact.present],
        next_session=upcoming,
    )


@bp.route("/sessions/<int:session_id>/digest/resend", methods=["POST"])
def resend_failed(session_id: int) -> ResponseReturnValue:
    """Send the summary again to those it could not be delivered to (addresses corrected)."""
    facilitator = require_facilitator()
    db = get_db()
    session = session_ops.get_session(
        db, facilitator, session_id, capability=Capability.CONTACT_DETAILS
    )
    count = ops.resend_failed_digests(db, _config(), session)
    db.commit()
    if count:
        flash(
            ngettext(
                "The summary is being sent again to %(num)s person.",
                "The summary is being sent again to %(num)s people.",
                count,
            )
        )
    else:
        flash(_("No summary email is waiting to be sent again."))
    return redirect(url_for("digest.digest", session_id=session.id), code=303)


@bp.app_template_global("digest_failures")
def digest_failures(session_id: int) -> int:
    """How many of a session's digests failed (for the session page's tool links)."""
    return ops.failed_digests(get_db(), session_id)

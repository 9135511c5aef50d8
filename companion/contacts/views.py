"""Pages and JSON API for follow-up contacts, contact counts and participants' preferences."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import BaseModel

from companion.accounts.identity import current_actor, require_actor, require_facilitator
from companion.config import Config
from companion.contacts import operations as ops
from companion.contacts import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.contacts.models import ContactKind, ContactStatus
from companion.contacts.schemas import (
    ContactCountsOut,
    ContactIn,
    ContactNoteIn,
    ContactOut,
    ContactsOut,
    PersonOut,
    PreferencesIn,
    PreferencesOut,
)
from companion.core.api import api_view
from companion.core.db import get_db
from companion.core.errors import Conflict, Invalid, NotAllowed, NotFound
from companion.core.schema_types import Checkbox, OptionalDbId
from companion.core.validation import form, form_data, parse, query
from companion.needs.operations import contact_suggestions
from companion.notes.views import who_are_you
from companion.programmes.models import Participant
from companion.programmes.operations import get_programme
from companion.sessions.operations import get_session

bp = Blueprint("contacts", __name__, template_folder="templates")
api = Blueprint("contacts_api", __name__, url_prefix="/api/v1")


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _participant() -> Participant:
    """The participant behind the request; facilitators have no contacts of their own."""
    actor = require_actor()
    if actor.participant is None:
        raise NotAllowed(_("Follow-up contacts are for participants."))
    return actor.participant


# --- participant pages ------------------------------------------------------------------------


def _render_contacts(
    participant: Participant,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    db = get_db()
    candidates = ops.contact_candidates(db, participant)
    return render_template(
        "contacts/my_contacts.html",
        participant=participant,
        contacts=ops.contacts_of(db, participant),
        candidates=candidates,
        candidate_options=[
            (p.id, f"{p.name} · {p.company}" if p.company else p.name) for p in candidates
        ],
        kinds=[(kind.value, str(label)) for kind, label in ops.KIND_LABELS.items()],
        shares_anything=ops.shares_anything(ops.preferences_of(db, participant)),
        values=values or {"kind": ContactKind.LUNCH.value},
        errors=errors or {},
        suggested_kinds=contact_suggestions(participant, candidates),
    ), status


@bp.route("/me/contacts", methods=["GET", "POST"])
def my_contacts() -> ResponseReturnValue:
    """My follow-up contacts, requests waiting for me, and the form to mark someone."""
    actor = current_actor()
    if actor is None:
        return who_are_you()
    if actor.participant is None:
        return redirect(url_for("programmes.index"))
    participant = actor.participant
    if request.method == "GET":
        # From a "you might talk with" hint: that person, with the kind their fit suggests.
        chosen = request.args.get("person_id", "")
        kinds = contact_suggestions(participant, ops.contact_candidates(get_db(), participant))
        if chosen.isdigit() and int(chosen) in kinds:
            return _render_contacts(
                participant, values={"person_id": chosen, "kind": kinds[int(chosen)]}
            )
        return _render_contacts(participant)
    db = get_db()
    values = form_data(request.form)
    try:
        contact = ops.record_contact(db, participant, parse(ContactIn, values))
        ops.notify_request(db, _config(), contact)
        db.commit()
    except Invalid as exc:
        db.rollback()
        return _render_contacts(
            participant,
            values=values,
            errors=dict(exc.errors) or {"form": exc.detail or ""},
            status=422,
        )
    except Conflict as exc:
        db.rollback()
        return _render_contacts(
            participant, values=values, errors={"person_id": exc.detail or ""}, status=409
        )
    if contact.status == ContactStatus.ACCEPTED:
        flash(_("You both want to keep in touch: you can now see each other's shared details."))
    else:
        flash(_("Saved. %(name)s is asked whether they agree.", name=contact.recipient.name))
    return redirect(url_for("contacts.my_contacts"), code=303)


def _contact_action(contact_id: int, action: str) -> ResponseReturnValue:
    participant = _participant()
    db = get_db()
    note = str(form_data(request.form).get("note", ""))
    data = parse(ContactNoteIn, {"note": note})
    if action == "accept":
        ops.respond(db, participant, contact_id, accept=True, note=data.note)
        flash(_("Accepted. You can now see each other's shared details."))
    elif action == "decline":
        ops.respond(db, participant, contact_id, accept=False)
        flash(_("Declined. The other person sees only that you did not accept."))
    elif action == "withdraw":
        ops.withdraw(db, participant, contact_id)
        flash(_("The contact was removed."))
    else:
        ops.set_note(db, participant, contact_id, data.note)
        flash(_("Your note was saved."))
    db.commit()
    return redirect(url_for("contacts.my_contacts"), code=303)


@bp.route("/contacts/<int:contact_id>/accept", methods=["POST"])
def accept(contact_id: int) -> ResponseReturnValue:
    """Agree to keep in touch: both now see what the other shares."""
    return _contact_action(contact_id, "accept")


@bp.route("/contacts/<int:contact_id>/decline", methods=["POST"])
def decline(contact_id: int) -> ResponseReturnValue:
    """Say no; nothing is shared."""
    return _contact_action(contact_id, "decline")


@bp.route("/contacts/<int:contact_id>/withdraw", methods=["POST"])
def withdraw(contact_id: int) -> ResponseReturnValue:
    """Remove the contact for both sides."""
    return _contact_action(contact_id, "withdraw")


@bp.route("/contacts/<int:contact_id>/note", methods=["POST"])
def note(contact_id: int) -> ResponseReturnValue:
    """Change one's own private note."""
    return _contact_action(contact_id, "note")


def _preferences_values(participant: Participant) -> dict[str, Any]:
    preferences = ops.preferences_of(get_db(), participant)
    return ops.preferences_out(participant, preferences).model_dump()


@bp.route("/me/preferences", methods=["GET", "POST"])
def my_preferences() -> ResponseReturnValue:
    """What I share with mutual contacts, reminders, and the language of emails."""
    actor = current_actor()
    if actor is None:
        return who_are_you()
    if actor.participant is None:
        return redirect(url_for("programmes.index"))
    participant = actor.participant
    errors: dict[str, str] = {}
    values = _preferences_values(participant)
    if request.method == "POST":
        db = get_db()
        values = form_data(request.form)
        try:
            ops.update_preferences(db, participant, parse(PreferencesIn, values))
            db.commit()
        except Invalid as exc:
            db.rollback()
            errors = dict(exc.errors)
        else:
            flash(_("Your preferences were saved."))
            return redirect(url_for("contacts.my_preferences"), code=303)
    return render_template(
        "contacts/preferences.html", participant=participant, values=values, errors=errors
    ), (422 if errors else 200)


@bp.route("/me/reminders", methods=["GET", "POST"])
def reminders() -> ResponseReturnValue:
    """Turn reminder emails off (or back on) with one button, from the link in a reminder."""
    actor = current_actor()
    if actor is None:
        return who_are_you()
    if actor.participant is None:
        return redirect(url_for("programmes.index"))
    participant = actor.participant
    db = get_db()
    if request.method == "POST":
        enabled = form(RemindersIn).reminders
        ops.set_reminders(db, participant, enabled)
        db.commit()
        flash(_("Reminders are on.") if enabled else _("Reminders are off."))
        return redirect(url_for("contacts.reminders"), code=303)
    return render_template(
        "contacts/reminders.html",
        participant=participant,
        enabled=ops.preferences_of(db, participant).reminders,
    )


# --- facilitator page -------------------------------------------------------------------------


@bp.route("/programmes/<int:programme_id>/contacts")
def programme_contacts(programme_id: int) -> ResponseReturnValue:
    """Follow-up contacts by kind (counts only: never who, never their notes)."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    session = None
    session_id = query(CountsQuery).session
    if session_id is not None:
        session = get_session(db, facilitator, session_id)
        if session.group.programme_id != programme.id:
            raise NotFound(_("No such session."))
    return render_template(
        "contacts/programme_contacts.html",
        programme=programme,
        session=session,
        counts=ops.contact_counts(db, programme),
        session_counts=ops.contact_counts(db, programme, session) if session else None,
    )


# --- JSON API ---------------------------------------------------------------------------------


class CountsQuery(BaseModel):
    """Optionally only contacts made in one session."""

    session: OptionalDbId = None


class RemindersIn(BaseModel):
    """The reminders switch (an unticked box sends nothing: off)."""

    reminders: Checkbox = False


def _contact_out(participant: Participant, contact_id: int) -> ContactOut:
    db = get_db()
    contact = ops.contact_for(db, participant, contact_id)
    other = contact.recipient_id if contact.requester_id == participant.id else contact.requester_id
    return ops.contact_out(contact, participant, ops.preferences_for(db, [other]))


@api.get("/me/contacts")
@api_view(summary="My follow-up contacts", response=ContactsOut, tags=("contacts",))
def api_my_contacts() -> ContactsOut:
    """Requests waiting for me, my requests, and mutual contacts with their shared details."""
    return ops.contacts_of(get_db(), _participant())


@api.get("/me/contacts/candidates")
@api_view(summary="People I can mark", response=list[PersonOut], tags=("contacts",))
def api_candidates() -> list[PersonOut]:
    """Everyone I share a group with."""
    return [
        PersonOut(id=p.id, name=p.name, company=p.company, industry=p.industry)
        for p in ops.contact_candidates(get_db(), _participant())
    ]


@api.post("/contacts")
@api_view(
    summary="Mark a follow-up contact",
    body=ContactIn,
    response=ContactOut,
    status=201,
    tags=("contacts",),
)
def api_record_contact(body: ContactIn) -> ContactOut:
    """The other person is asked; if they already asked for the same, it is mutual at once."""
    participant = _participant()
    db = get_db()
    contact = ops.record_contact(db, participant, body)
    ops.notify_request(db, _config(), contact)
    db.commit()
    return _contact_out(participant, contact.id)


@api.post("/contacts/<int:contact_id>/accept")
@api_view(summary="Accept a contact", body=ContactNoteIn, response=ContactOut, tags=("contacts",))
def api_accept(contact_id: int, body: ContactNoteIn) -> ContactOut:
    """Agree to keep in touch; both see what the other chose to share."""
    participant = _participant()
    db = get_db()
    ops.respond(db, participant, contact_id, accept=True, note=body.note)
    db.commit()
    return _contact_out(participant, contact_id)


@api.post("/contacts/<int:contact_id>/decline")
@api_view(summary="Decline a contact", response=ContactOut, tags=("contacts",))
def api_decline(contact_id: int) -> ContactOut:
    """Say no; nothing is shared."""
    participant = _participant()
    db = get_db()
    ops.respond(db, participant, contact_id, accept=False)
    db.commit()
    return _contact_out(participant, contact_id)


@api.put("/contacts/<int:contact_id>/note")
@api_view(summary="My private note", body=ContactNoteIn, response=ContactOut, tags=("contacts",))
def api_note(contact_id: int, body: ContactNoteIn) -> ContactOut:
    """Only I ever see my note."""
    participant = _participant()
    db = get_db()
    ops.set_note(db, participant, contact_id, body.note)
    db.commit()
    return _contact_out(participant, contact_id)


@api.delete("/contacts/<int:contact_id>")
@api_view(summary="Withdraw a contact", tags=("contacts",))
def api_withdraw(contact_id: int) -> None:
    """Remove the contact for both sides."""
    participant = _participant()
    db = get_db()
    ops.withdraw(db, participant, contact_id)
    db.commit()


@api.get("/me/preferences")
@api_view(summary="My preferences", response=PreferencesOut, tags=("contacts",))
def api_preferences() -> PreferencesOut:
    """What I share with mutual contacts, reminders, and my language."""
    participant = _participant()
    return ops.preferences_out(participant, ops.preferences_of(get_db(), participant))


@api.put("/me/preferences")
@api_view(
    summary="Change my preferences", body=PreferencesIn, response=PreferencesOut, tags=("contacts",)
)
def api_update_preferences(body: PreferencesIn) -> PreferencesOut:
    """Replace my preferences (unticked sharing means not shared)."""
    participant = _participant()
    db = get_db()
    preferences = ops.update_preferences(db, participant, body)
    db.commit()
    return ops.preferences_out(participant, preferences)


@api.get("/programmes/<int:programme_id>/contacts/summary")
@api_view(
    summary="Contact counts",
    query=CountsQuery,
    response=ContactCountsOut,
    tags=("contacts",),
    auth="facilitator",
)
def api_counts(programme_id: int, query: CountsQuery) -> ContactCountsOut:
    """Counts by kind for facilitators; never names or private notes."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    session = None
    if query.session is not None:
        session = get_session(db, facilitator, query.session)
        if session.group.programme_id != programme.id:
            raise Invalid(errors={"session": _("Choose a session of this programme.")})
    return ops.contact_counts(db, programme, session)

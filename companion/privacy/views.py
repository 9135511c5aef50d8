"""Privacy pages: a participant's own data (see, download, choose, erase) and the audit log.

A participant reaches `/me/data` from their join link or an email's personal link (both sign
them in on this browser); they see only their own data. The organisation's admin reads the
audit log at `/audit`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask import session as cookie
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.identity import current_actor, require_facilitator
from companion.accounts.models import Facilitator
from companion.core.db import get_db
from companion.core.errors import NotAllowed
from companion.core.i18n import local_datetime
from companion.core.slots import add_to_slot
from companion.core.validation import form, query
from companion.privacy import audit, export, operations
from companion.privacy import personal_data as _personal_data  # noqa: F401  (registers its share)
from companion.privacy import retention as _retention  # noqa: F401  (registers its daily check)
from companion.privacy.schemas import AuditQuery, EraseIn, SummaryEmailIn
from companion.programmes.models import Participant

bp = Blueprint("privacy", __name__, template_folder="templates")


@bp.record_once
def _add_nav_link(state: Any) -> None:
    """The organisation admin's menu links to the audit log."""

    def is_admin() -> bool:
        facilitator = g.get("facilitator")
        return bool(facilitator is not None and facilitator.is_admin)

    add_to_slot(state.app, "nav", "privacy/nav_link.html", is_admin)


#: The word a participant types to confirm their erasure, in their language.
ERASE_WORD = "ERASE"


def _consent_names() -> dict[str, str]:
    return {
        "programme": _("Taking part in the programme"),
        "contact_sharing": _("Sharing my contact details with my contacts"),
        "emails": _("Emails"),
    }


def _shown(value: Any, timezone: str) -> str:
    """A record's value as the readable page shows it."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return local_datetime(value, timezone, "d.M.yyyy HH:mm")
    if isinstance(value, date):
        return f"{value.day}.{value.month}.{value.year}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _participant() -> Participant | None:
    actor = current_actor()
    return actor.participant if actor is not None else None


def _who_are_you() -> ResponseReturnValue:
    return render_template("privacy/who_are_you.html"), 401


@bp.route("/me/data")
def my_data() -> ResponseReturnValue:
    """Everything held about me, readable, with my choices and the way out."""
    participant = _participant()
    if participant is None:
        return _who_are_you()
    db = get_db()
    gathered = export.export_participant(db, participant)
    return render_template(
        "privacy/my_data.html",
        participant=participant,
        programme=participant.programme,
        export=gathered,
        consents=operations.consents_of(db, participant),
        withdrawable=operations.withdrawable(),
        summary_email=operations.wants_summary_email(db, participant),
        consent_names=_consent_names(),
        shown=lambda value: _shown(value, participant.programme.timezone),
    )


@bp.route("/me/data.json")
def my_data_json() -> ResponseReturnValue:
    """Everything held about me as a JSON download."""
    participant = _participant()
    if participant is None:
        return _who_are_you()
    db = get_db()
    gathered = export.export_participant(db, participant)
    audit.record_audit(
        db,
        "participant.download",
        organisation_id=participant.programme.organisation_id,
        participant_id=participant.id,
        programme_id=participant.programme_id,
    )
    db.commit()
    return Response(
        export.export_json(gathered),
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/me/data/summary-email", methods=["POST"])
def summary_email() -> ResponseReturnValue:
    """Turn the summary email after each session off or back on."""
    participant = _participant()
    if participant is None:
        return _who_are_you()
    db = get_db()
    wanted = form(SummaryEmailIn).summary_email
    operations.set_summary_email(db, participant, wanted)
    db.commit()
    flash(
        _("You get the summary after each session.")
        if wanted
        else _("You no longer get the summary after each session.")
    )
    return redirect(url_for("privacy.my_data"), code=303)


@bp.route("/me/data/consents/<int:consent_id>/withdraw", methods=["POST"])
def withdraw_consent(consent_id: int) -> ResponseReturnValue:
    """Withdraw one consent (sharing contact details); taking part ends only by erasure."""
    participant = _participant()
    if participant is None:
        return _who_are_you()
    db = get_db()
    operations.withdraw_consent(db, participant, consent_id)
    db.commit()
    flash(_("Your consent was withdrawn."))
    return redirect(url_for("privacy.my_data"), code=303)


@bp.route("/me/data/erase", methods=["GET", "POST"])
def erase() -> ResponseReturnValue:
    """Erase myself, after typing the confirmation word."""
    participant = _participant()
    if participant is None:
        if request.method == "GET" and cookie.get("erased"):
            return render_template("privacy/erased.html")
        return _who_are_you()
    errors: dict[str, str] = {}
    typed = form(EraseIn).confirm if request.method == "POST" else ""
    if request.method == "POST":
        if typed.strip().casefold() in {_("ERASE").casefold(), ERASE_WORD.casefold()}:
            db = get_db()
            operations.erase_myself(db, participant)
            db.commit()
            cookie.clear()
            cookie["erased"] = True
            return redirect(url_for("privacy.erase"), code=303)
        errors["confirm"] = _("Type %(word)s to confirm.", word=_("ERASE"))
    return render_template(
        "privacy/erase.html",
        participant=participant,
        programme=participant.programme,
        values={"confirm": typed},
        errors=errors,
        erase_word=_("ERASE"),
    ), (422 if errors else 200)


# --- the organisation's audit log ---------------------------------------------------------------


def _admin() -> Facilitator:
    facilitator = require_facilitator()
    if not facilitator.is_admin:
        raise NotAllowed(_("Only the organisation's admin can read the audit log."))
    return facilitator


@bp.route("/audit")
def audit_log() -> ResponseReturnValue:
    """Who viewed or exported personal data and who erased whom, newest first (admins)."""
    asked = query(AuditQuery)  # a malformed filter is a 422 for anyone
    admin = _admin()
    db = get_db()
    wanted = audit.AuditFilter(
        facilitator_id=asked.facilitator, action=asked.action, since=asked.since, until=asked.until
    )
    facilitators = list(
        db.scalars(
            select(Facilitator)
            .where(Facilitator.organisation_id == admin.organisation_id)
            .order_by(Facilitator.name)
        )
    )
    return render_template(
        "privacy/audit.html",
        entries=audit.audit_entries(db, admin.organisation_id, wanted),
        names={f.id: f.name for f in facilitators},
        facilitators=facilitators,
        actions=audit.audit_actions(db, admin.organisation_id),
        action_label=audit.action_label,
        detail_items=audit.detail_items,
        wanted=wanted,
        zone=audit.AUDIT_ZONE,
        page_size=audit.PAGE_SIZE,
    )

"""Pages for a session's life: ending it (with a confirmation), reopening it, and the presence
list where the facilitator sees and corrects who was there.

These share the `sessions` blueprint (views.py imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.identity import require_facilitator
from companion.core.db import Db, get_db
from companion.core.validation import form_data, parse
from companion.programmes.models import Participant
from companion.sessions import attendance
from companion.sessions import operations as ops
from companion.sessions.blueprint import bp
from companion.sessions.lifecycle import Action
from companion.sessions.models import PresenceReport, Session
from companion.sessions.presence import Presence
from companion.sessions.schemas import PresenceMarkIn

#: Where a presence correction returns to (never a free-form address).
RETURN_TO = {
    "session": "sessions.show",
    "summary": "digest.digest",
}


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
    target = RETURN_TO.get(request.form.get("to", ""), "sessions.show")
    return redirect(url_for(target, session_id=session.id) + "#presence", code=303)

"""The participant's rating page of a session, reached from the summary email's link.

The email's five links open this page with the rating chosen; saving it is a press of the
button (a POST), never the link itself: mail scanners open every link of a message, and a
link that saved would give every session the ratings of the scanner.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.identity import current_actor
from companion.core.db import get_db
from companion.core.errors import Conflict, Invalid, NotFound
from companion.core.validation import form_data, parse, query
from companion.notes.views import who_are_you
from companion.outcomes import feedback as ops
from companion.outcomes.blueprint import bp
from companion.outcomes.schemas import FeedbackIn, FeedbackQuery
from companion.sessions.operations import session_for_actor


def _chosen(value: str | None) -> int | None:
    # ASCII digits only: str.isdigit() also passes "²", which int() refuses (issue 13).
    if value is None or value not in ("1", "2", "3", "4", "5"):
        return None
    return int(value)


@bp.route("/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
def session_feedback(session_id: int) -> ResponseReturnValue:
    """How was the session? A rating from 1 to 5 and an optional comment."""
    asked = query(FeedbackQuery)
    actor = current_actor()
    if actor is None:
        return who_are_you()
    if actor.participant is None:
        raise NotFound(_("Only participants rate sessions."))
    participant = actor.participant
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        values = form_data(request.form)
        source = str(values.pop("source", "page"))
        try:
            ops.record_feedback(db, session, participant, parse(FeedbackIn, values), source=source)
            db.commit()
        except (Invalid, Conflict) as error:
            db.rollback()
            errors = dict(getattr(error, "errors", {}) or {}) or {"form": str(error.detail)}
            status = 422 if isinstance(error, Invalid) else 409
        else:
            flash(_("Thank you for your feedback!"))
            return redirect(url_for("outcomes.session_feedback", session_id=session.id), code=303)
    given = ops.feedback_of(db, session, participant)
    chosen = _chosen(str(values.get("rating", ""))) or _chosen(asked.rating)
    return render_template(
        "outcomes/feedback.html",
        session=session,
        programme=session.group.programme,
        open=ops.can_rate(session),
        given=given,
        chosen=chosen or (given.rating if given else None),
        comment=values.get("comment", given.comment if given else ""),
        source=asked.source or "page",
        errors=errors,
    ), status

"""Teams meeting pages (a session's meeting, a programme's invitations) and Graph's
notification endpoints.

`bp` holds pages a facilitator sees; `api` what Graph calls. The notification endpoints
answer Graph's validation handshake before anything else happens (NOTES §3.2: 200,
text/plain, the decoded token, within 10 s), and otherwise store what is genuine and answer
202 at once (NOTES §3.3); the worker does the rest.
"""

from __future__ import annotations

import logging

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
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from companion.accounts.identity import require_facilitator
from companion.config import Config
from companion.core.db import get_db
from companion.core.errors import Conflict, DomainError, Invalid, Unavailable
from companion.core.security import csrf_exempt
from companion.programmes.operations import get_programme
from companion.sessions import operations as session_ops
from integrations.teams import attendance as _attendance  # noqa: F401 - registers its job
from integrations.teams import meetings as ops
from integrations.teams import subscriptions as _subscriptions  # noqa: F401 - its jobs
from integrations.teams.notifications import MAX_VALIDATION_TOKEN, store_notifications

log = logging.getLogger(__name__)

bp = Blueprint(
    "teams_meetings", __name__, template_folder="templates", url_prefix="/integrations/teams"
)
api = Blueprint("teams_graph_api", __name__, url_prefix="/integrations/teams")


class RefusedNotification(DomainError):
    """Notifications that do not carry the clientState of one of Kollega's subscriptions."""

    status = 403
    type_slug = "teams-notification-refused"
    title = _l("The notification is not from Kollega's subscription")


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


# --- Graph's notifications ---------------------------------------------------------------------


def _receive(*, lifecycle: bool) -> ResponseReturnValue:
    token = request.args.get("validationToken")
    if token is not None:
        # NOTES §3.2: echo the decoded token as text/plain at once, before any other work.
        if len(token) > MAX_VALIDATION_TOKEN:
            raise Invalid(_("The validation token is too long."))
        return Response(token, 200, mimetype="text/plain")
    body = request.get_json(silent=True)
    items = body.get("value") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise Invalid(_("The request body is not a list of notifications."))
    db = get_db()
    kept, refused = store_notifications(db, _config(), items, lifecycle=lifecycle)
    db.commit()
    if refused and not kept and refused == len(items):
        raise RefusedNotification()
    return Response(status=202)


@api.post("/notifications")
@csrf_exempt
def notifications() -> ResponseReturnValue:
    """Change notifications about the hosts' calendar events."""
    return _receive(lifecycle=False)


@api.post("/lifecycle")
@csrf_exempt
def lifecycle() -> ResponseReturnValue:
    """Lifecycle notifications about the subscriptions themselves."""
    return _receive(lifecycle=True)


# --- pages --------------------------------------------------------------------------------------


def _teams_session(session_id: int):  # type: ignore[no-untyped-def]
    facilitator = require_facilitator()
    session = session_ops.get_session(get_db(), facilitator, session_id)
    ops.require_teams_session(session)
    return facilitator, session


@bp.route("/sessions/<int:session_id>")
def meeting(session_id: int) -> ResponseReturnValue:
    """A session's Teams meeting: its state, its group meetings, attendance read so far."""
    _facilitator, session = _teams_session(session_id)
    db = get_db()
    programme = session.group.programme
    return render_template(
        "teams/meeting.html",
        session=session,
        programme=programme,
        facts=ops.meeting_facts(ops.teams_room(session)),
        groups=ops.group_meetings(db, session),
        invites=ops.invitation_setting(db, programme),
    )


@bp.route("/sessions/<int:session_id>/recreate", methods=["POST"])
def recreate(session_id: int) -> ResponseReturnValue:
    """Make the session's Teams meeting (again), organised by this facilitator."""
    facilitator, session = _teams_session(session_id)
    db = get_db()
    try:
        row = ops.recreate_meeting(db, session, facilitator)
    except Conflict as exc:
        db.rollback()
        flash(exc.detail or str(exc.title), "error")
        return redirect(url_for("teams_meetings.meeting", session_id=session.id), code=303)
    db.commit()
    if row.status == "active":
        flash(_("The Teams meeting is ready."))
    else:
        flash(_("The Teams meeting could not be made: %(error)s",
                error=row.data.get("error", "")), "error")  # fmt: skip
    return redirect(url_for("teams_meetings.meeting", session_id=session.id), code=303)


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
def read_attendance(session_id: int) -> ResponseReturnValue:
    """Read the attendance reports of the session's meetings now."""
    _facilitator, session = _teams_session(session_id)
    db = get_db()
    try:
        result = ops.read_attendance(db, _config(), session)
    except (Conflict, Unavailable) as exc:
        db.rollback()
        flash(exc.detail or str(exc.title), "error")
        return redirect(url_for("teams_meetings.meeting", session_id=session.id), code=303)
    db.commit()
    if not result.reported:
        flash(_("Teams has no attendance report yet: it appears once the meeting has ended."))
    else:
        flash(
            ngettext(
                "Attendance from Teams: %(num)s participant recognised.",
                "Attendance from Teams: %(num)s participants recognised.",
                result.matched,
            )
        )
    return redirect(url_for("teams_meetings.meeting", session_id=session.id), code=303)


@bp.route("/programmes/<int:programme_id>/invitations", methods=["POST"])
def invitations(programme_id: int) -> ResponseReturnValue:
    """Choose whether Outlook invites the programme's participants to its Teams sessions."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    invite = request.form.get("invite") == "1"
    ops.set_invitations(db, programme, invite)
    db.commit()
    if invite:
        flash(_("Outlook invites the participants to the Teams meetings."))
    else:
        flash(
            _("Participants are no longer invited in Outlook; they join with their Kollega link.")
        )
    back = request.form.get("session_id", type=int)
    if back:
        return redirect(url_for("teams_meetings.meeting", session_id=back), code=303)
    return redirect(url_for("programmes.show", programme_id=programme.id), code=303)

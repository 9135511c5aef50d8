"""A moved, cancelled or restored session reaches its invited experts too: an email in their
language and zone with the updated calendar entry (the session's UID, its raised SEQUENCE;
`METHOD:CANCEL` for a cancellation), once per change.

Registered with companion.sessions.notices on import, so sessions need not know experts.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from companion.config import Config
from companion.core.db import Db
from companion.core.i18n import local_datetime
from companion.core.mail import queue_mail
from companion.experts.mail import expert_calendar, talk_context
from companion.experts.models import Expert
from companion.experts.operations import experts_of
from companion.sessions import notices
from companion.sessions.models import Session


def _subject(change: notices.Change, title: str, when: str) -> str:
    if change == "cancelled":
        return _(
            "Cancelled: %(session)s on %(when)s, with your expert talk", session=title, when=when
        )
    if change == "moved":
        return _("New time for your expert talk: %(session)s on %(when)s", session=title, when=when)
    return _("Back on: your expert talk, %(session)s on %(when)s", session=title, when=when)


def queue_expert_change_notices(
    db: Db,
    config: Config,
    session: Session,
    change: notices.Change,
    previous_starts_at: datetime | None = None,
) -> int:
    """Email each of the session's experts (link working, not declined) about the change."""
    experts: list[Expert] = [e for e in experts_of(db, session) if e.status != "declined"]
    queued = 0
    for expert in experts:
        context = talk_context(config, expert)
        with force_locale(expert.language):
            zone = context["timezone"]
            when = local_datetime(session.starts_at, zone, "EEEE d.M.yyyy HH:mm")
            subject = _subject(change, session.title, when)
            values = {**context, "change": change, "previous_starts_at": previous_starts_at}
            text = render_template("experts/email/change.txt", **values)
            html = render_template("experts/email/change.html", subject=subject, **values)
            calendar = expert_calendar(
                config, expert, method="CANCEL" if change == "cancelled" else "PUBLISH"
            )
        message = queue_mail(
            db,
            to_address=expert.email,
            to_name=expert.name,
            subject=subject,
            text_body=text,
            html_body=html,
            kind="schedule",
            programme_id=session.group.programme_id,
            attachments=[calendar],
            dedupe_key=f"schedule-{session.id}-{session.calendar_sequence}-x{expert.id}",
        )
        queued += message is not None
    return queued


if queue_expert_change_notices not in notices.change_listeners:
    notices.change_listeners.append(queue_expert_change_notices)

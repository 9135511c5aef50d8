"""The invitation email: a participant's personal join link and their calendar of sessions."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.mail import Attachment, queue_mail
from companion.programmes.models import Participant
from companion.sessions.ics import build_calendar
from companion.sessions.join_links import join_link_for, join_url
from companion.sessions.models import JoinLink
from companion.sessions.notices import calendar_entry


def calendar_for(config: Config, participant: Participant, link: JoinLink) -> bytes:
    """An .ics with the participant's sessions that have not ended, each with their link."""
    url = join_url(config, link)
    # Each with its UID and current SEQUENCE, as the change notices carry them.
    entries = [
        calendar_entry(config, s, url)
        for g in participant.groups
        for s in g.sessions
        if s.ends_at >= utcnow()
    ]
    return build_calendar(sorted(entries, key=lambda e: e.starts_at))


def queue_invitation(db: Db, config: Config, participant: Participant) -> bool:
    """Email the participant their join link and schedule (once per link; False if queued)."""
    link = join_link_for(db, participant)
    programme = participant.programme
    language = participant.effective_language
    sessions = sorted(
        (
            s
            for g in participant.groups
            for s in g.sessions
            if not s.is_cancelled and s.ends_at >= utcnow()
        ),
        key=lambda s: s.starts_at,
    )
    url = join_url(config, link)
    with force_locale(language):
        context = {
            "participant": participant,
            "programme": programme,
            "sessions": sessions,
            "join_url": url,
        }
        subject = _("Your link to %(programme)s", programme=programme.name)
        text_body = render_template("sessions/email/invitation.txt", **context)
        html_body = render_template("sessions/email/invitation.html", **context)
    message = queue_mail(
        db,
        to_address=participant.email,
        to_name=participant.name,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        kind="invitation",
        programme_id=programme.id,
        attachments=[
            Attachment(
                "kollega.ics",
                "text/calendar; method=PUBLISH",
                calendar_for(config, participant, link).decode(),
            )
        ],
        dedupe_key=f"invitation-{participant.id}-{link.nonce}",
    )
    return message is not None

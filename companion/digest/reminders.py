"""Reminders before each session (24 h and 1 h before by default), once per person and start;
the session's invited experts get theirs too (companion.experts.mail).

A moved session gets its reminders again (the key carries the start); cancelled and held
sessions get none; a participant can turn reminders off on their preferences page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from companion.config import Config
from companion.contacts.operations import preferences_for
from companion.core.db import Db, utcnow
from companion.core.i18n import local_datetime
from companion.core.jobs import periodic
from companion.core.mail import OutboxMessage, queue_mail
from companion.digest.gather import session_facts
from companion.digest.links import personal_url
from companion.digest.operations import RenderedEmail
from companion.experts.mail import queue_expert_reminders
from companion.experts.public import emailed_agenda
from companion.programmes.models import Participant
from companion.sessions.join_links import join_link_for, join_url
from companion.sessions.models import Session, SessionStatus


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def reminder_key(hours: int, session: Session, participant_id: int) -> str:
    """Dedupe key of one reminder; a moved session gets its reminders again (new start)."""
    stamp = session.starts_at.strftime("%Y%m%d%H%M")
    return f"reminder-{hours}h-{session.id}-{participant_id}-{stamp}"


def due_reminder_hours(session: Session, hours: tuple[int, ...], now: datetime) -> int | None:
    """Which reminder is due now: the nearest lead time already reached, or None."""
    if session.starts_at <= now:
        return None
    reached = [h for h in hours if session.starts_at - timedelta(hours=h) <= now]
    return min(reached) if reached else None


def render_reminder(
    db: Db, config: Config, session: Session, participant: Participant, hours: int
) -> RenderedEmail:
    """The reminder email in the participant's language, with join link and agenda."""
    link = join_link_for(db, participant)
    facts = session_facts(session)
    with force_locale(participant.effective_language):
        context = {
            "participant": participant,
            "session": facts,
            # Each slot's time, speaker and material (files open through the personal link).
            "agenda": emailed_agenda(db, config, session, link),
            "join_url": join_url(config, link),
            "preferences_url": personal_url(config, link, "preferences"),
            "reminders_url": personal_url(config, link, "reminders"),
            "hours": hours,
        }
        subject = _(
            "Reminder: %(session)s starts %(when)s",
            session=facts.title,
            when=local_datetime(session.starts_at, facts.timezone, "EEE d.M. HH:mm"),
        )
        text = render_template("digest/email/reminder.txt", **context)
        html = render_template("digest/email/reminder.html", subject=subject, **context)
    return RenderedEmail(subject, text, html)


def send_due_reminders(db: Db, now: datetime | None = None) -> int:
    """Queue the reminders that are due (24 h and 1 h before by default), once each."""
    config = _config()
    hours = config.reminder_hours
    if not hours:
        return 0
    now = now or utcnow()
    sessions = db.scalars(
        select(Session).where(
            Session.status == SessionStatus.SCHEDULED,
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(hours=max(hours)),
        )
    )
    queued = 0
    for session in sessions:
        due = due_reminder_hours(session, hours, now)
        if due is None:
            continue
        members = [m.participant for m in session.group.memberships]
        keys = {reminder_key(due, session, p.id): p for p in members}
        existing = set(
            db.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys)))
        )
        preferences = preferences_for(db, [p.id for p in members])
        for key, participant in keys.items():
            if key in existing:
                continue
            stored = preferences.get(participant.id)
            if stored is not None and not stored.reminders:
                continue
            email = render_reminder(db, config, session, participant, due)
            message = queue_mail(
                db,
                to_address=participant.email,
                to_name=participant.name,
                subject=email.subject,
                text_body=email.text,
                html_body=email.html,
                kind="reminder",
                programme_id=session.group.programme_id,
                dedupe_key=key,
            )
            queued += message is not None
        queued += queue_expert_reminders(db, config, session, due)
    return queued


@periodic(60)
def _send_due_reminders(db: Db) -> None:
    send_due_reminders(db)

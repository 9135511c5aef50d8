"""The expert's emails: the invitation with their personal link, and the session's reminders.

Both are written in the expert's language and carry their link, which is personal: it opens
their slot's page, where they find the join button, the upload and their reminder setting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.config import Config
from companion.core.db import Db
from companion.core.i18n import local_datetime
from companion.core.mail import Attachment, OutboxMessage, queue_mail
from companion.experts.links import expert_url
from companion.experts.models import Expert
from companion.sessions.agenda import slot_of
from companion.sessions.ics import build_calendar
from companion.sessions.models import Session
from companion.sessions.notices import calendar_entry


@dataclass(frozen=True)
class RenderedMail:
    """An email ready for the outbox."""

    subject: str
    text: str
    html: str
    #: The session's calendar entry, for the invitation.
    calendar: Attachment | None = None


def talk_context(config: Config, expert: Expert) -> dict[str, Any]:
    """What the expert's emails and page say about their session and slot."""
    item = expert.agenda_item
    session = item.session
    programme = session.group.programme
    return {
        "expert": expert,
        "item": item,
        "session": session,
        "programme": programme,
        "organisation_name": programme.organisation.name,
        # Their own zone when they chose one; the programme's zone is named beside it.
        "timezone": expert.zone(programme.timezone),
        "programme_timezone": programme.timezone,
        "slot": slot_of(item),
        "slot_count": len(session.agenda),
        "page_url": expert_url(config, expert),
        "opens_minutes": config.join_opens_minutes,
        "reminder_hours": config.reminder_hours,
    }


def expert_calendar(config: Config, expert: Expert, *, method: str = "PUBLISH") -> Attachment:
    """The session as a calendar entry (the session's UID and SEQUENCE, as participants'
    calendars hold it) with the expert's slot and page link; call in their locale.
    `method` CANCEL removes it from their calendar (a cancelled session)."""
    context = talk_context(config, expert)
    slot, zone = context["slot"], context["timezone"]
    entry = calendar_entry(config, context["session"], context["page_url"], attendee=expert.email)
    description = _(
        "Your expert talk: %(title)s, about %(start)s–%(end)s (%(zone)s).\n"
        "Your page (join, material, reminders): %(url)s",
        title=expert.agenda_item.title or _("Expert talk"),
        start=local_datetime(slot.starts_at, zone, "HH:mm"),
        end=local_datetime(slot.ends_at, zone, "HH:mm"),
        zone=zone.replace("_", " "),
        url=context["page_url"],
    )
    ics = build_calendar([replace(entry, description=description)], method=method)
    return Attachment("kollega.ics", f"text/calendar; method={method}", ics.decode())


def _render(name: str, subject: str, context: dict[str, Any]) -> RenderedMail:
    text = render_template(f"experts/email/{name}.txt", **context)
    html = render_template(f"experts/email/{name}.html", subject=subject, **context)
    return RenderedMail(subject, text, html)


def render_invitation(
    config: Config, expert: Expert, invited_by: Facilitator | None = None
) -> RenderedMail:
    """The invitation in the expert's language."""
    context = talk_context(config, expert)
    with force_locale(expert.language):
        when = local_datetime(context["session"].starts_at, context["timezone"], "EEE d.M.yyyy")
        subject = _(
            "Invitation to give an expert talk: %(programme)s, %(when)s",
            programme=context["programme"].name,
            when=when,
        )
        rendered = _render("invitation", subject, {**context, "invited_by": invited_by})
        return replace(rendered, calendar=expert_calendar(config, expert))


def queue_invitation(
    db: Db, config: Config, expert: Expert, *, invited_by: Facilitator | None
) -> OutboxMessage | None:
    """Queue the invitation (once per invitation time, so a double click sends one)."""
    email = render_invitation(config, expert, invited_by)
    stamp = expert.invited_at.strftime("%Y%m%d%H%M%S") if expert.invited_at else ""
    return queue_mail(
        db,
        to_address=expert.email,
        to_name=expert.name,
        subject=email.subject,
        text_body=email.text,
        html_body=email.html,
        kind="expert_invitation",
        programme_id=expert.agenda_item.session.group.programme_id,
        attachments=[email.calendar] if email.calendar else [],
        dedupe_key=f"expert-invitation-{expert.id}-{stamp}",
    )


def render_expert_reminder(config: Config, expert: Expert, hours: int) -> RenderedMail:
    """The reminder of the session, in the expert's language, with their link."""
    context = talk_context(config, expert)
    with force_locale(expert.language):
        subject = _(
            "Reminder: your expert talk %(when)s",
            when=local_datetime(context["slot"].starts_at, context["timezone"], "EEE d.M. HH:mm"),
        )
        return _render("reminder", subject, {**context, "hours": hours})


def expert_reminder_key(hours: int, session: Session, expert: Expert) -> str:
    """Dedupe key of one expert's reminder; a moved session gets its reminders again."""
    stamp = session.starts_at.strftime("%Y%m%d%H%M")
    return f"reminder-{hours}h-{session.id}-x{expert.id}-{stamp}"


def queue_expert_reminders(
    db: Db, config: Config, session: Session, hours: int, now: datetime | None = None
) -> int:
    """Queue the due reminder to each of the session's experts who wants it; how many."""
    ids = [item.id for item in session.agenda]
    experts = list(
        db.scalars(
            select(Expert)
            .where(
                Expert.agenda_item_id.in_(ids),
                Expert.revoked_at.is_(None),
                Expert.reminders.is_(True),
                Expert.status != "declined",
            )
            .order_by(Expert.id)
        )
    )
    keys = {expert_reminder_key(hours, session, e): e for e in experts}
    if not keys:
        return 0
    existing = set(
        db.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys)))
    )
    queued = 0
    for key, expert in keys.items():
        if key in existing:
            continue
        email = render_expert_reminder(config, expert, hours)
        message = queue_mail(
            db,
            to_address=expert.email,
            to_name=expert.name,
            subject=email.subject,
            text_body=email.text,
            html_body=email.html,
            kind="reminder",
            programme_id=session.group.programme_id,
            dedupe_key=key,
        )
        queued += message is not None
    return queued


def queue_answer_notice(db: Db, config: Config, expert: Expert) -> int:
    """Tell the programme's facilitators (not observers) that the expert confirmed or declined;
    once per answer. Returns how many emails were queued."""
    item = expert.agenda_item
    session = item.session
    programme = session.group.programme
    stamp = expert.responded_at.strftime("%Y%m%d%H%M%S") if expert.responded_at else ""
    queued = 0
    for role in programme.roles:
        if role.role == "observer":
            continue
        facilitator = role.facilitator
        with force_locale(facilitator.language or programme.language):
            when = local_datetime(session.starts_at, programme.timezone, "EEE d.M.yyyy HH:mm")
            values = {"name": expert.name, "session": session.title, "when": when}
            subject = (
                _("%(name)s confirmed the expert talk: %(session)s, %(when)s", **values)
                if expert.status == "confirmed"
                else _("%(name)s cannot give the expert talk: %(session)s, %(when)s", **values)
            )
            context = {
                "expert": expert,
                "item": item,
                "session": session,
                "programme": programme,
                "facilitator": facilitator,
                "talk_url": config.external_url(f"/agenda/{item.id}/expert"),
            }
            text = render_template("experts/email/answer.txt", **context)
            html = render_template("experts/email/answer.html", subject=subject, **context)
        message = queue_mail(
            db,
            to_address=facilitator.email,
            to_name=facilitator.name,
            subject=subject,
            text_body=text,
            html_body=html,
            kind="expert_answer",
            programme_id=programme.id,
            dedupe_key=f"expert-answer-{expert.id}-{facilitator.id}-{expert.status}-{stamp}",
        )
        queued += message is not None
    return queued

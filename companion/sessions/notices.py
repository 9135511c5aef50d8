"""Schedule changes reach people: a moved, cancelled or restored session is emailed to its
group's members with an updated calendar entry.

The entry keeps the session's UID and carries its raised SEQUENCE, so calendars replace the
one they hold instead of adding another; a cancellation is `METHOD:CANCEL` with
`STATUS:CANCELLED` (RFC 5546), which removes it. Each person gets it in their own language,
once per change (the dedupe key names the sequence). Where the platform already sent its own
invitation update (a Teams meeting whose participants are attendees of the Outlook event),
nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Literal

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from companion.config import Config
from companion.core.db import Db
from companion.core.i18n import local_datetime
from companion.core.mail import Attachment, queue_mail
from companion.meetings.platform import get_platform, sends_own_invitations
from companion.programmes.models import Participant
from companion.sessions.ics import CalendarEntry, build_calendar
from companion.sessions.join_links import join_link_for, join_url
from companion.sessions.models import Session

Change = Literal["moved", "cancelled", "restored"]

#: Who else hears of a change besides the group's members (the session's invited experts,
#: registered by companion.experts): called with the session, the change and the previous
#: start; each queues its own emails. Sessions do not know the packages built on them.
ChangeListener = Callable[[Db, Config, Session, Change, datetime | None], int]
change_listeners: list[ChangeListener] = []


@dataclass(frozen=True)
class Notice:
    """One person's email about a change."""

    subject: str
    text: str
    html: str
    calendar: Attachment


def calendar_uid(config: Config, session_id: int) -> str:
    """The session's calendar UID: the same in every invitation, summary and change notice."""
    return f"kollega-session-{session_id}@{config.base_url.split('://', 1)[-1]}"


def calendar_entry(
    config: Config, session: Session, url: str, *, attendee: str = ""
) -> CalendarEntry:
    """The session as a calendar entry with the person's link and its current SEQUENCE."""
    programme = session.group.programme
    return CalendarEntry(
        uid=calendar_uid(config, session.id),
        title=f"{programme.name}: {session.title}",
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=programme.timezone,
        url=url,
        description=_("Join with your personal link: %(url)s", url=url),
        cancelled=session.is_cancelled,
        sequence=session.calendar_sequence,
        organizer=parseaddr(config.mail_from)[1],
        attendee=attendee,
    )


def render_notice(
    db: Db,
    config: Config,
    session: Session,
    participant: Participant,
    change: Change,
    *,
    previous_starts_at: datetime | None = None,
) -> Notice:
    """The email about `change` for one participant, in their language (also the preview)."""
    url = join_url(config, join_link_for(db, participant))
    programme = session.group.programme
    cancelled = change == "cancelled"
    with force_locale(participant.effective_language):
        when = local_datetime(session.starts_at, programme.timezone, "EEEE d.M.yyyy HH:mm")
        subjects = {
            "moved": _("New time: %(session)s is on %(when)s", session=session.title, when=when),
            "cancelled": _("Cancelled: %(session)s on %(when)s", session=session.title, when=when),
            "restored": _("Back on: %(session)s is on %(when)s", session=session.title, when=when),
        }
        context = {
            "participant": participant,
            "first_name": participant.name.split()[0] if participant.name.strip() else "",
            "programme": programme,
            "session": session,
            "change": change,
            "previous_starts_at": previous_starts_at,
            "join_url": url,
        }
        text = render_template("sessions/email/change.txt", **context)
        html = render_template("sessions/email/change.html", subject=subjects[change], **context)
        entry = calendar_entry(config, session, url, attendee=participant.email)
        method = "CANCEL" if cancelled else "PUBLISH"
        calendar = Attachment(
            "kollega.ics",
            f"text/calendar; method={method}",
            build_calendar([entry], method=method).decode(),
        )
    return Notice(subjects[change], text, html, calendar)


def platform_sends_its_own(config: Config, db: Db, session: Session) -> bool:
    """Whether the session's platform already told the participants (its own invitation)."""
    try:
        platform = get_platform(session.platform, config, db)
    except LookupError:
        return False
    return sends_own_invitations(platform, session)


def recipients(session: Session) -> list[Participant]:
    """Who hears of a change: the members of the session's group, by name."""
    return sorted(
        (m.participant for m in session.group.memberships), key=lambda p: p.name.casefold()
    )


def queue_change_notices(
    db: Db,
    config: Config,
    session: Session,
    change: Change,
    *,
    previous_starts_at: datetime | None = None,
) -> int:
    """Email every member the change with the updated calendar entry; returns how many.

    Once per person and change: the key carries the session's calendar sequence, which every
    change raises.
    """
    for listener in change_listeners:
        # The platform's own invitation update reaches its attendees, never these.
        listener(db, config, session, change, previous_starts_at)
    if platform_sends_its_own(config, db, session):
        return 0
    queued = 0
    for participant in recipients(session):
        notice = render_notice(
            db, config, session, participant, change, previous_starts_at=previous_starts_at
        )
        message = queue_mail(
            db,
            to_address=participant.email,
            to_name=participant.name,
            subject=notice.subject,
            text_body=notice.text,
            html_body=notice.html,
            kind="schedule",
            programme_id=session.group.programme_id,
            attachments=[notice.calendar],
            dedupe_key=f"schedule-{session.id}-{session.calendar_sequence}-{participant.id}",
        )
        queued += message is not None
    return queued

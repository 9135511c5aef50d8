"""Sending the summary email (the digest) through the outbox, exactly once per person.

When: ending a session sends nothing. The facilitator reviews the summary and releases it
(`release_summary`), or it goes out by itself `summary_delay_minutes` after the end
(`send_due_summaries`, run by the worker); a session nobody ended is ended by the worker its
grace after the scheduled end (`end_overdue_sessions`). All three ask the session's lifecycle.

Exactly once: releasing the summary (by a facilitator, twice, or by the worker) enqueues one
`digest.send` job under the dedupe key `digest-<session>`; the job queues one
outbox message per participant under `digest-<session>-<participant>`. It commits them a
chunk at a time (the first chunk small), so the worker's mail loop delivers the first digests
while the rest are still being rendered. A run that dies midway keeps the chunks it committed
and leaves nothing of the one it was writing; its re-run renders and queues only the people
who have no message yet, and the unique dedupe key stops a concurrent run from queueing
anyone twice. Delivery is the outbox's: each message is sent once and keeps its bytes and
Message-ID if a crash forces a retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import current_app
from flask_babel import force_locale, get_translations
from flask_babel import gettext as _
from jinja2 import Template, pass_context
from markupsafe import Markup
from sqlalchemy import select

from companion.config import Config
from companion.contacts.operations import kind_label
from companion.core.db import Db, utcnow
from companion.core.i18n import local_datetime
from companion.core.jobs import Job, enqueue_job, job_handler, periodic
from companion.core.mail import (
    Attachment,
    NewMail,
    OutboxMessage,
    queue_mails,
    requeue_failed,
)
from companion.digest.calendar import invitation
from companion.digest.content import (
    DigestContent,
    DigestInput,
    NextSession,
    SpaceNotes,
    build_digest,
)
from companion.digest.gather import digest_inputs
from companion.privacy.operations import SUMMARY_EMAIL, opted_out
from companion.programmes.models import Membership, Participant
from companion.sessions import lifecycle
from companion.sessions.ics import CalendarEntry
from companion.sessions.models import Session, SessionStatus
from companion.sessions.operations import (
    clock_of,
    end_session,
    mark_summary_sent,
    state_of,
)

log = logging.getLogger(__name__)

#: The job that queues a session's digests.
DIGEST_JOB = "digest.send"
#: Sessions that ended longer ago than this are not ended, nor their summaries sent,
#: automatically: when the feature is switched on (or the worker was down), old sessions must
#: not send a flood of stale emails; their facilitators send them from the review page.
AUTO_END_LOOKBACK = timedelta(days=2)
#: Digests per committed chunk when the job queues them. The first chunk is small so that
#: delivery can start after a few renders; later ones are larger, for fewer commits.
FIRST_DIGEST_CHUNK = 10
DIGEST_CHUNK = 100


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def digest_key(session_id: int, participant_id: int) -> str:
    """The outbox dedupe key of one person's digest of one session."""
    return f"digest-{session_id}-{participant_id}"


@dataclass(frozen=True)
class RenderedEmail:
    """An email ready for the outbox."""

    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


# --- rendering --------------------------------------------------------------------------------


def _calendar_uid(config: Config, session_id: int) -> str:
    # The same UID as the invitation's calendar, so clients update that entry, not add one.
    return f"kollega-session-{session_id}@{config.base_url.split('://', 1)[-1]}"


def next_session_calendar(config: Config, content: DigestContent) -> Attachment | None:
    """An .ics invitation to the next session with the recipient's join link."""
    upcoming: NextSession | None = content.next_session
    if upcoming is None:
        return None
    entry = CalendarEntry(
        uid=_calendar_uid(config, upcoming.id),
        title=f"{content.session.programme_name}: {upcoming.title}",
        starts_at=upcoming.starts_at,
        ends_at=upcoming.ends_at,
        timezone=upcoming.timezone,
        url=upcoming.join_url,
        description=_("Join with your personal link: %(url)s", url=upcoming.join_url),
        sequence=upcoming.sequence,
    )
    return Attachment("kollega.ics", "text/calendar; method=PUBLISH", invitation(entry).decode())


def _template_gettext(translations: Any) -> dict[str, Any]:
    """`gettext`/`ngettext` for templates, bound to one catalogue, as Jinja's newstyle does.

    Flask-Babel looks the catalogue up again on every call, which is a third of the time of
    rendering a digest; a digest run renders thousands, so each render gets these instead
    (passed in the context, they take the place of the global ones for that render only).
    """

    def formatted(context: Any, text: str, variables: dict[str, Any]) -> str:
        if context.eval_ctx.autoescape:
            # As Jinja's newstyle gettext does: the catalogue's text is trusted markup, and
            # `%` on Markup escapes the values.
            return Markup(text) % variables  # noqa: S704
        return text % variables

    @pass_context
    def gettext(context: Any, string: str, **variables: Any) -> str:
        return formatted(context, translations.gettext(string), variables)

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return formatted(context, translations.ngettext(singular, plural, num), variables)

    # `_` too: Jinja's own `_` is an alias that looks `gettext` up and calls it, a second call
    # for each of the thirty-odd texts of a digest.
    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


def space_name(space: SpaceNotes) -> str:
    """How the email names a notes space, in the current language."""
    if space.label:
        return space.label
    if space.breakout_group_id is None:
        return str(_("Whole group"))
    if space.number:
        return str(_("Small group %(n)s", n=space.number))
    return str(_("Small group"))


class RenderCache:
    """What a digest run renders once per language instead of once per recipient.

    Every recipient gets the plenary, their own group and the shared groups, whose blocks
    (name, summary, items) read the same for everyone in one language: rendered per
    recipient, they were a third of the time of a digest. The session's dates and the names
    of contact kinds are made once per language too (Babel parses a date pattern on every
    call; a kind's name is a lazy string translated on every use).
    """

    def __init__(self) -> None:
        # Keyed by id(): one run's recipients share the very same SpaceNotes objects (kept
        # referenced here, so an id cannot be reused while the cache lives).
        self._spaces: dict[tuple[str, str, int], tuple[SpaceNotes, str]] = {}
        self._dates: dict[tuple[str, datetime, str, str], str] = {}
        self._kinds: dict[tuple[str, str], str] = {}

    def space(self, kind: str, language: str, space: SpaceNotes, helpers: dict[str, Any]) -> str:
        """The space as `kind` ("html" or "txt") in `language` (the current locale)."""
        key = (kind, language, id(space))
        found = self._spaces.get(key)
        if found is None:
            block = _template(f"digest/email/_space.{kind}").render(space=space, **helpers)
            found = self._spaces[key] = (space, block)
        return found[1]

    def kind(self, language: str, kind: str) -> str:
        """A contact kind's name in `language` (the current locale)."""
        found = self._kinds.get((language, kind))
        if found is None:
            found = self._kinds[(language, kind)] = kind_label(kind)
        return found

    def date(self, language: str, value: datetime, timezone: str, pattern: str) -> str:
        """`value` in `timezone` as `pattern` in `language` (the current locale)."""
        key = (language, value, timezone, pattern)
        found = self._dates.get(key)
        if found is None:
            found = self._dates[key] = local_datetime(value, timezone, pattern)
        return found


def _template(name: str) -> Template:
    # The app's Jinja environment directly: the emails use nothing of a request, and Flask's
    # context processors and signals cost a tenth of a small render.
    return current_app.jinja_env.get_template(name)


def _styles() -> dict[str, str]:
    """The emails' inline styles (digest/email/_styles.html), read once, not per render."""
    module = _template("digest/email/_styles.html").module
    return {name: getattr(module, name) for name in ("muted", "h2", "box", "button")}


def render_digest(
    config: Config, content: DigestContent, cache: RenderCache | None = None
) -> RenderedEmail:
    """The digest email in the recipient's language: subject, text, HTML and the .ics.

    A digest run passes one `cache` for all its renders (see RenderCache).
    """
    cache = cache if cache is not None else RenderCache()
    language = content.recipient.language
    with force_locale(language):
        if content.variant == "missed":
            subject = _("What you missed: %(session)s", session=content.session.title)
        else:
            subject = _("Notes from %(session)s", session=content.session.title)
        helpers = {
            **_template_gettext(get_translations()),
            **_styles(),
            "space_name": space_name,
            "kind_name": partial(cache.kind, language),
        }

        def space_html(space: SpaceNotes) -> Markup:
            # Rendered by the autoescaping _space.html, so it is safe markup already.
            return Markup(cache.space("html", language, space, helpers))  # noqa: S704

        def space_text(space: SpaceNotes) -> str:
            return cache.space("txt", language, space, helpers)

        def when(value: datetime, timezone: str, pattern: str) -> str:
            return cache.date(language, value, timezone, pattern)

        text = _template("digest/email/digest.txt").render(
            d=content, space_text=space_text, when=when, **helpers
        )
        html = _template("digest/email/digest.html").render(
            d=content, subject=subject, space_html=space_html, when=when, **helpers
        )
        calendar = next_session_calendar(config, content)
    return RenderedEmail(subject, text, html, (calendar,) if calendar else ())


# --- sending ----------------------------------------------------------------------------------


def send_digest(
    db: Db,
    config: Config,
    session: Session,
    *,
    commit_chunk: Callable[[], None] | None = None,
) -> int:
    """Queue every participant's digest of the session (skipping those queued); returns how many.

    Without `commit_chunk` all of it is queued in the caller's transaction. The job passes its
    session's commit: what was read (and join links made) is committed first, then each chunk
    of digests as soon as it is rendered (`FIRST_DIGEST_CHUNK`, then `DIGEST_CHUNK`), so the
    mail loop sends the first ones while the rest render; and on SQLite no write lock is held
    while rendering.
    """
    prefix = f"digest-{session.id}-"
    queued = set(
        db.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like(f"{prefix}%"))
        )
    )
    # One query for all members (not one lazy load per membership).
    members = list(
        db.scalars(
            select(Participant)
            .join(Membership, Membership.participant_id == Participant.id)
            .where(Membership.group_id == session.group_id)
            .order_by(Membership.id)
        )
    )
    # Those who turned the summary email off on their privacy page get none.
    refused = opted_out(db, (p.id for p in members), SUMMARY_EMAIL)
    people = [
        p for p in members if digest_key(session.id, p.id) not in queued and p.id not in refused
    ]
    inputs = digest_inputs(db, config, session, people)
    session_id, programme_id = session.id, session.group.programme_id
    if commit_chunk is not None:
        commit_chunk()
    cache = RenderCache()
    count = 0
    start, size = 0, FIRST_DIGEST_CHUNK
    while start < len(inputs):
        chunk = inputs[start : start + size]
        mails = [_digest_mail(config, data, session_id, programme_id, cache) for data in chunk]
        count += queue_mails(db, mails)
        if commit_chunk is not None:
            commit_chunk()
        start, size = start + size, DIGEST_CHUNK
    log.info("Queued %s digests of session %s", count, session_id)
    return count


def _digest_mail(
    config: Config, data: DigestInput, session_id: int, programme_id: int, cache: RenderCache
) -> NewMail:
    """One person's rendered digest, ready for the outbox."""
    email = render_digest(config, build_digest(data), cache)
    return NewMail(
        to_address=data.recipient.email,
        to_name=data.recipient.name,
        subject=email.subject,
        text_body=email.text,
        html_body=email.html,
        kind="digest",
        programme_id=programme_id,
        attachments=email.attachments,
        dedupe_key=digest_key(session_id, data.recipient.participant_id),
    )


def preview_digest(
    db: Db, config: Config, session: Session, participant: Participant, *, missed: bool | None
) -> tuple[DigestContent, RenderedEmail]:
    """One participant's digest as it would be sent now (for the facilitator's preview)."""
    (data,) = digest_inputs(
        db,
        config,
        session,
        [participant],
        attended_override=(None if missed is None else not missed),
    )
    content = build_digest(data)
    return content, render_digest(config, content)


def resend_failed_digests(db: Db, config: Config, session: Session) -> int:
    """Send the digests that failed for good again, rendered anew to each participant's current
    address (after the facilitator corrected it); returns how many were queued again.

    People no longer in the group are left out; nobody who got the digest gets it twice.
    """
    failed = {
        key
        for key in db.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.like(f"digest-{session.id}-%"),
                OutboxMessage.status == "failed",
            )
        )
        if key is not None
    }
    people = [
        m.participant
        for m in session.group.memberships
        if digest_key(session.id, m.participant_id) in failed
    ]
    if not people:
        return 0
    cache = RenderCache()
    programme_id = session.group.programme_id
    resent = 0
    for data in digest_inputs(db, config, session, people):
        mail = _digest_mail(config, data, session.id, programme_id, cache)
        resent += requeue_failed(db, mail)
    log.info("Queued %s failed digests of session %s again", resent, session.id)
    return resent


def queue_digest(db: Db, session: Session) -> Job | None:
    """Enqueue the session's digest run once (a second call, or a raced one, queues nothing)."""
    return enqueue_job(
        db, DIGEST_JOB, {"session_id": session.id}, dedupe_key=f"digest-{session.id}"
    )


def release_summary(db: Db, session: Session, *, now: datetime | None = None) -> Job | None:
    """Send the reviewed summary: the session's state becomes "summary sent" and the digest
    run is queued, in the caller's transaction. Conflict unless the session has ended and
    its summary has not gone out."""
    mark_summary_sent(db, session, now=now)
    return queue_digest(db, session)


@job_handler(DIGEST_JOB)
def _send_digest_job(db: Db, payload: dict[str, Any]) -> None:
    session = db.get(Session, payload["session_id"])
    if session is None or session.status != SessionStatus.SUMMARY_SENT:
        return  # deleted, or reopened: nothing to tell
    # Chunks are committed as they are rendered (see send_digest): a re-run after a failure
    # or a crash queues only those still missing.
    send_digest(db, _config(), session, commit_chunk=db.commit)


def end_overdue_sessions(db: Db, now: datetime | None = None) -> int:
    """End the sessions nobody ended, their grace after the scheduled end (nothing is sent:
    their summaries wait for review like any other)."""
    config = _config()
    now = now or utcnow()
    grace = timedelta(minutes=config.digest_grace_minutes)
    candidates = db.scalars(
        select(Session).where(
            Session.status == SessionStatus.SCHEDULED,
            Session.starts_at <= now,
            Session.starts_at >= now - AUTO_END_LOOKBACK - timedelta(hours=8),
        )
    )
    ended = 0
    for session in candidates:
        clock = clock_of(session, now)
        state = lifecycle.state_of(session.status, clock)
        if lifecycle.overdue_for_ending(state, clock, grace) and (
            session.ends_at >= now - AUTO_END_LOOKBACK
        ):
            ended += end_session(db, session, by="worker", at=session.ends_at, now=now)
    return ended


def send_due_summaries(db: Db, now: datetime | None = None) -> int:
    """Release the summaries nobody released within `summary_delay_minutes` of the end."""
    config = _config()
    now = now or utcnow()
    delay = timedelta(minutes=config.summary_delay_minutes)
    candidates = db.scalars(
        select(Session).where(
            Session.status == SessionStatus.ENDED,
            Session.ended_at.is_not(None),
            Session.ended_at >= now - AUTO_END_LOOKBACK - delay,
        )
    )
    released = 0
    for session in candidates:
        if lifecycle.summary_due(state_of(session, now), session.ended_at, now, delay):
            release_summary(db, session, now=now)
            released += 1
    return released


def digest_status(db: Db, session: Session) -> dict[str, Any]:
    """How the session's digest is doing: its job and each participant's message."""
    job = db.scalar(select(Job).where(Job.dedupe_key == f"digest-{session.id}"))
    messages = {
        m.dedupe_key: m
        for m in db.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"digest-{session.id}-%"))
        )
    }
    rows = []
    for membership in sorted(session.group.memberships, key=lambda m: m.participant.name.lower()):
        message = messages.get(digest_key(session.id, membership.participant_id))
        rows.append({"participant": membership.participant, "message": message})
    counts: dict[str, int] = {}
    for message in messages.values():
        counts[message.status] = counts.get(message.status, 0) + 1
    return {"job": job, "rows": rows, "counts": counts}


def failed_digests(db: Db, session_id: int) -> int:
    """How many of the session's digests could not be delivered."""
    return len(
        list(
            db.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.dedupe_key.like(f"digest-{session_id}-%"),
                    OutboxMessage.status == "failed",
                )
            )
        )
    )


@periodic(60)
def _end_overdue_sessions(db: Db) -> None:
    end_overdue_sessions(db)


@periodic(60)
def _send_due_summaries(db: Db) -> None:
    send_due_summaries(db)

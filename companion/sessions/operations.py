"""Sessions, the schedule, the agenda, join links and attendance: writes and access rules."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from companion.accounts.identity import Actor
from companion.accounts.models import Facilitator
from companion.accounts.operations import can_manage_programme
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotAllowed, NotFound
from companion.core.mail import Attachment, queue_mail
from companion.core.security import TokenError, sign, unsign
from companion.meetings import operations as rooms
from companion.programmes.models import Group, Participant, Programme
from companion.sessions.ics import CalendarEntry, build_calendar
from companion.sessions.models import (
    AgendaItem,
    AgendaKind,
    Attendance,
    JoinLink,
    Session,
    SessionStatus,
)
from companion.sessions.schedule import local_to_utc, series
from companion.sessions.schemas import AgendaItemIn, ScheduleIn, SessionIn, SessionMove

#: The agenda new sessions get, in order: (kind, English title, minutes).
DEFAULT_AGENDA: tuple[tuple[AgendaKind, object, int], ...] = (
    (AgendaKind.WELCOME, _l("Welcome and check-in"), 15),
    (AgendaKind.TOPIC_BOARD, _l("Choosing topics"), 15),
    (AgendaKind.BREAKOUTS, _l("Discussion in small groups"), 45),
    (AgendaKind.EXPERT_TALK, _l("Expert talk"), 20),
    (AgendaKind.CLOSING, _l("Closing and next steps"), 15),
)


# --- access -----------------------------------------------------------------------------


def get_session(db: Db, facilitator: Facilitator, session_id: int) -> Session:
    """The session if the facilitator may manage its programme."""
    session = db.get(Session, session_id)
    if session is None:
        raise NotFound(_("No such session."))
    programme = session.group.programme
    if programme.organisation_id != facilitator.organisation_id:
        raise NotFound(_("No such session."))
    if not can_manage_programme(facilitator, programme):
        raise NotAllowed(_("You are not a facilitator of this programme."))
    return session


def is_member(participant: Participant, session: Session) -> bool:
    """Whether the participant belongs to the session's group."""
    return any(m.group_id == session.group_id for m in participant.memberships)


def session_for_actor(db: Db, actor: Actor, session_id: int) -> Session:
    """The session if the actor facilitates its programme or is a member of its group."""
    if actor.facilitator is not None:
        return get_session(db, actor.facilitator, session_id)
    session = db.get(Session, session_id)
    participant = actor.participant
    if session is None or participant is None or not is_member(participant, session):
        raise NotFound(_("No such session."))
    return session


# --- sessions and the schedule ----------------------------------------------------------


def _group_of(programme: Programme, group_id: int) -> Group:
    for group in programme.groups:
        if group.id == group_id:
            return group
    raise Invalid(errors={"group_id": _("Choose a group of this programme.")})


def _add_default_agenda(session: Session, language: str) -> None:
    with force_locale(language):
        for position, (kind, title, minutes) in enumerate(DEFAULT_AGENDA):
            session.agenda.append(
                AgendaItem(position=position, kind=kind, title=str(title), duration_minutes=minutes)
            )


def create_session(
    db: Db,
    programme: Programme,
    data: SessionIn,
    *,
    host: Facilitator | None = None,
    with_agenda: bool = True,
) -> Session:
    """A session at a local time in the programme's zone, with its room on the platform."""
    group = _group_of(programme, data.group_id)
    starts_at = local_to_utc(data.date, data.start_time, _zone(programme))
    session = Session(
        group=group,
        title=data.title,
        starts_at=starts_at,
        duration_minutes=data.duration_minutes,
        platform=programme.platform,
    )
    if with_agenda:
        _add_default_agenda(session, programme.language)
    db.add(session)
    db.flush()
    rooms.ensure_session_room(db, session, host.id if host else None)
    return session


def create_schedule(
    db: Db, programme: Programme, data: ScheduleIn, *, host: Facilitator | None = None
) -> list[Session]:
    """`count` sessions every `every_weeks` weeks at the same local time, each with a room."""
    group = _group_of(programme, data.group_id)
    starts = series(
        data.first_date,
        data.start_time,
        programme.timezone,
        count=data.count,
        every_weeks=data.every_weeks,
    )
    existing = len([s for s in group.sessions if not s.is_cancelled])
    created = []
    for index, starts_at in enumerate(starts, start=existing + 1):
        if data.title:
            title = f"{data.title} {index}"
        else:
            with force_locale(programme.language):
                title = _("Session %(n)s", n=index)
        session = Session(
            group=group,
            title=title,
            starts_at=starts_at,
            duration_minutes=data.duration_minutes,
            platform=programme.platform,
        )
        if data.with_agenda:
            _add_default_agenda(session, programme.language)
        db.add(session)
        created.append(session)
    db.flush()
    for session in created:
        rooms.ensure_session_room(db, session, host.id if host else None)
    return created


def move_session(db: Db, session: Session, data: SessionMove) -> Session:
    """Give one session a new local time (the others stay); its room follows."""
    if session.is_cancelled:
        raise Conflict(_("A cancelled session cannot be moved."))
    programme = session.group.programme
    session.starts_at = local_to_utc(data.date, data.start_time, _zone(programme))
    if data.title:
        session.title = data.title
    if data.duration_minutes:
        session.duration_minutes = data.duration_minutes
    db.flush()
    rooms.reschedule_room(db, session)
    return session


def cancel_session(db: Db, session: Session) -> Session:
    """Call off one session; its room is removed from the platform."""
    if session.is_cancelled:
        return session
    session.status = SessionStatus.CANCELLED
    db.flush()
    rooms.remove_room(db, session)
    return session


def restore_session(db: Db, session: Session) -> Session:
    """Undo a cancellation; the session gets a room again."""
    if not session.is_cancelled:
        return session
    session.status = SessionStatus.SCHEDULED
    host: int | None = None
    for row in session.rooms:
        if row.status == "deleted" and row.purpose == "plenary":
            # The new room is hosted as the old one was (a platform account may be needed).
            kept = row.data.get("host_facilitator_id")
            host = kept if isinstance(kept, int) else host
            db.delete(row)
    db.flush()
    db.refresh(session)
    rooms.ensure_session_room(db, session, host)
    return session


def _zone(programme: Programme) -> ZoneInfo:
    return ZoneInfo(programme.timezone)


def end_session(db: Db, session: Session, *, at: datetime | None = None) -> bool:
    """Mark the session as held; True the first time (ending twice changes nothing).

    Receivers registered with `on_session_ended` (the digest, for one) run inside the same
    transaction, so what they queue commits together with the ending or not at all.
    """
    if session.status == SessionStatus.ENDED:
        return False
    if session.is_cancelled:
        raise Conflict(_("A cancelled session cannot be ended."))
    session.status = SessionStatus.ENDED
    session.ended_at = at or utcnow()
    db.flush()
    for receiver in _SESSION_ENDED:
        receiver(db, session)
    return True


SessionEndedReceiver = Callable[[Db, Session], None]
_SESSION_ENDED: list[SessionEndedReceiver] = []


def on_session_ended(receiver: SessionEndedReceiver) -> SessionEndedReceiver:
    """Register a function called (inside the ending transaction) when a session ends."""
    if receiver not in _SESSION_ENDED:
        _SESSION_ENDED.append(receiver)
    return receiver


def upcoming_sessions(programme: Programme, now: datetime | None = None) -> list[Session]:
    """Sessions of all groups of the programme that have not ended, soonest first."""
    now = now or utcnow()
    sessions = [s for g in programme.groups for s in g.sessions if s.ends_at >= now]
    return sorted(sessions, key=lambda s: s.starts_at)


# --- agenda -----------------------------------------------------------------------------


def add_agenda_item(db: Db, session: Session, data: AgendaItemIn) -> AgendaItem:
    """Append a slot to the agenda; an expert talk needs its speaker."""
    if data.kind == AgendaKind.EXPERT_TALK and not data.speaker_name:
        raise Invalid(errors={"speaker_name": _("Name the speaker of the expert talk.")})
    position = max((item.position for item in session.agenda), default=-1) + 1
    item = AgendaItem(session=session, position=position, **data.model_dump())
    db.add(item)
    db.flush()
    return item


def update_agenda_item(db: Db, item: AgendaItem, data: AgendaItemIn) -> AgendaItem:
    """Change an agenda slot."""
    if data.kind == AgendaKind.EXPERT_TALK and not data.speaker_name:
        raise Invalid(errors={"speaker_name": _("Name the speaker of the expert talk.")})
    for key, value in data.model_dump().items():
        setattr(item, key, value)
    db.flush()
    return item


def remove_agenda_item(db: Db, item: AgendaItem) -> None:
    """Take a slot off the agenda."""
    session = item.session
    session.agenda.remove(item)
    db.delete(item)
    for position, other in enumerate(session.agenda):
        other.position = position
    db.flush()


def move_agenda_item(db: Db, item: AgendaItem, direction: Literal["up", "down"]) -> None:
    """Swap the slot with its neighbour."""
    items = item.session.agenda
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index].position, items[other].position = items[other].position, items[index].position
        items.sort(key=lambda i: i.position)
    db.flush()


# --- join links ---------------------------------------------------------------------------


def join_link_for(db: Db, participant: Participant) -> JoinLink:
    """The participant's join link, made on first use."""
    link = db.scalar(select(JoinLink).where(JoinLink.participant_id == participant.id))
    if link is None:
        link = JoinLink(participant_id=participant.id, nonce=secrets.token_urlsafe(16))
        db.add(link)
        db.flush()
    return link


def join_token(link: JoinLink) -> str:
    """The signed token in the link's address (`/j/<token>`)."""
    return sign([link.id, link.nonce], "join")


def renew_join_link(db: Db, participant: Participant) -> JoinLink:
    """Invalidate the old address (and the sessions opened with it) and make a new one."""
    link = join_link_for(db, participant)
    link.nonce = secrets.token_urlsafe(16)
    link.revoked_at = None
    link.created_at = utcnow()
    db.flush()
    return link


def revoke_join_link(db: Db, participant: Participant) -> JoinLink:
    """Stop the link from working until it is renewed."""
    link = join_link_for(db, participant)
    link.revoked_at = utcnow()
    db.flush()
    return link


class JoinLinkInvalid(Exception):
    """The join token is tampered with, unknown, or revoked; `reason` says which."""

    def __init__(self, reason: Literal["invalid", "revoked"]) -> None:
        super().__init__(reason)
        self.reason = reason


def resolve_join_token(db: Db, token: str) -> JoinLink:
    """The live join link of a token, or JoinLinkInvalid."""
    try:
        data = unsign(token, "join")
    except TokenError:
        raise JoinLinkInvalid("invalid") from None
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], int)):
        raise JoinLinkInvalid("invalid")
    link = db.get(JoinLink, data[0])
    if link is None or not secrets.compare_digest(str(link.nonce), str(data[1])):
        raise JoinLinkInvalid("revoked" if link is not None else "invalid")
    if link.revoked_at is not None:
        raise JoinLinkInvalid("revoked")
    return link


@dataclass(frozen=True)
class JoinDecision:
    """What opening a join link leads to at a given moment."""

    kind: Literal["join", "wait", "ended", "none"]
    session: Session | None = None
    #: When the room opens (for "wait").
    opens_at: datetime | None = None


def decide_join(
    participant: Participant,
    now: datetime,
    *,
    opens_before: timedelta,
    closes_after: timedelta,
) -> JoinDecision:
    """Which of the participant's sessions is on now, or the next one, or that all are over."""
    sessions = sorted(
        (s for g in participant.groups for s in g.sessions if not s.is_cancelled),
        key=lambda s: s.starts_at,
    )
    for session in sessions:
        if session.starts_at - opens_before <= now <= session.ends_at + closes_after:
            return JoinDecision("join", session)
    upcoming = [s for s in sessions if s.starts_at - opens_before > now]
    if upcoming:
        return JoinDecision("wait", upcoming[0], upcoming[0].starts_at - opens_before)
    if sessions:
        return JoinDecision("ended", sessions[-1])
    return JoinDecision("none")


def record_attendance(
    db: Db,
    session: Session,
    participant: Participant,
    *,
    at: datetime | None = None,
    source: str = "link",
) -> None:
    """Count a join: first and last time and how often, as one row even under concurrent opens."""
    at = at or utcnow()
    values = {
        "session_id": session.id,
        "participant_id": participant.id,
        "first_joined_at": at,
        "last_joined_at": at,
        "join_count": 1,
        "source": source,
        "notes": "",
    }
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Attendance).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[Attendance.session_id, Attendance.participant_id],
        set_={
            "last_joined_at": statement.excluded.last_joined_at,
            "join_count": Attendance.join_count + 1,
        },
    )
    db.execute(statement)


def merge_platform_attendance(
    db: Db,
    session: Session,
    participant: Participant,
    *,
    joined_at: datetime,
    left_at: datetime | None,
    minutes: int | None,
) -> Attendance:
    """Fold what a platform reported (e.g. Zoom's past participants) into the attendance row.

    The earliest join and latest leave win; minutes add up over the platform's records, so
    call it once per platform record set, not per link open.
    """
    row = db.scalar(
        select(Attendance).where(
            Attendance.session_id == session.id, Attendance.participant_id == participant.id
        )
    )
    if row is None:
        row = Attendance(
            session_id=session.id,
            participant_id=participant.id,
            first_joined_at=joined_at,
            last_joined_at=left_at or joined_at,
            join_count=0,
            source="platform",
        )
        db.add(row)
    else:
        row.first_joined_at = min(row.first_joined_at, joined_at)
        row.last_joined_at = max(row.last_joined_at, left_at or joined_at)
        if row.source == "link":
            row.source = "link+platform"
    if minutes is not None:
        row.minutes_present = minutes
    db.flush()
    return row


def attendance_of(db: Db, session: Session) -> list[Attendance]:
    """The session's attendance rows."""
    return list(db.scalars(select(Attendance).where(Attendance.session_id == session.id)))


# --- invitations --------------------------------------------------------------------------


def join_url(config: Config, link: JoinLink) -> str:
    """The absolute personal join address."""
    return config.external_url(f"/j/{join_token(link)}")


def calendar_for(config: Config, participant: Participant, link: JoinLink) -> bytes:
    """An .ics with the participant's sessions that have not ended, each with their link."""
    url = join_url(config, link)
    programme = participant.programme
    entries = [
        CalendarEntry(
            uid=f"kollega-session-{s.id}@{config.base_url.split('://', 1)[-1]}",
            title=f"{programme.name}: {s.title}",
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            timezone=programme.timezone,
            url=url,
            description=_("Join with your personal link: %(url)s", url=url),
            cancelled=s.is_cancelled,
        )
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

"""Sessions and the schedule: access, creating, moving, cancelling, ending, the summary's release.

Every change of a session's life goes through `lifecycle.transition` (see lifecycle.py), so
the pages, the API, the worker and the platforms agree on what may happen when. The agenda,
join links, invitations and attendance have modules of their own beside this one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from companion.accounts.access import require_programme
from companion.accounts.identity import Actor
from companion.accounts.models import Facilitator
from companion.accounts.roles import Capability
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotFound
from companion.meetings import operations as rooms
from companion.programmes.models import Group, Participant, Programme
from companion.sessions import agenda, attendance, lifecycle, notices
from companion.sessions.lifecycle import Action, Clock, Refusal, SessionState, TransitionRefused
from companion.sessions.models import AgendaItem, AgendaKind, Session, SessionStatus
from companion.sessions.schedule import local_to_utc, series
from companion.sessions.schemas import ScheduleIn, SessionIn, SessionMove

#: The agenda new sessions get, in order: (kind, English title, minutes).
DEFAULT_AGENDA: tuple[tuple[AgendaKind, object, int], ...] = (
    (AgendaKind.WELCOME, _l("Welcome and check-in"), 15),
    (AgendaKind.TOPIC_BOARD, _l("Choosing topics"), 15),
    (AgendaKind.BREAKOUTS, _l("Discussion in small groups"), 45),
    (AgendaKind.EXPERT_TALK, _l("Expert talk"), 20),
    (AgendaKind.CLOSING, _l("Closing and next steps"), 15),
)


# --- access -----------------------------------------------------------------------------


def get_session(
    db: Db, facilitator: Facilitator, session_id: int, *, capability: Capability | None = None
) -> Session:
    """The session if the facilitator's role in its programme allows the request (and
    `capability`, if given; see `companion.accounts.access`)."""
    session = db.get(Session, session_id)
    if session is None:
        raise NotFound(_("No such session."))
    require_programme(
        facilitator,
        session.group.programme,
        capability=capability,
        missing=lambda: _("No such session."),
    )
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


def outside_dates(programme: Programme, starts: list[datetime]) -> str | None:
    """A warning if any of the starts falls outside the programme's dates (None if all fit)."""
    zone = _zone(programme)
    days = [start.astimezone(zone).date() for start in starts]
    early = programme.starts_on is not None and any(d < programme.starts_on for d in days)
    late = programme.ends_on is not None and any(d > programme.ends_on for d in days)
    if not (early or late):
        return None
    return _(
        "This is outside the programme's dates (%(start)s–%(end)s). Tick the box to confirm.",
        start=_day(programme.starts_on),
        end=_day(programme.ends_on),
    )


def _day(value: date | None) -> str:
    # As the pages show dates (d.M.yyyy).
    return f"{value.day}.{value.month}.{value.year}" if value else "…"


def _confirm_dates(programme: Programme, starts: list[datetime], confirmed: bool) -> None:
    """Invalid (on the confirmation box) for dates outside the programme unless confirmed."""
    warning = outside_dates(programme, starts)
    if warning and not confirmed:
        raise Invalid(warning, errors={"outside_dates_ok": warning})


def _group_of(programme: Programme, group_id: int) -> Group:
    for group in programme.groups:
        if group.id == group_id:
            return group
    raise Invalid(errors={"group_id": _("Choose a group of this programme.")})


def _add_default_agenda(db: Db, session: Session, programme: Programme) -> None:
    # A programme copied from an earlier round has the agenda its sessions had. (No autoflush:
    # the session is not in the database session yet.)
    with db.no_autoflush:
        template = agenda.template_of(db, programme)
    if template:
        for position, slot in enumerate(template):
            session.agenda.append(
                AgendaItem(
                    position=position,
                    kind=slot.kind,
                    title=slot.title,
                    duration_minutes=slot.duration_minutes,
                    description=slot.description,
                )
            )
        return
    with force_locale(programme.language):
        for position, (kind, title, minutes) in enumerate(DEFAULT_AGENDA):
            session.agenda.append(
                AgendaItem(position=position, kind=kind, title=str(title), duration_minutes=minutes)
            )
    agenda.fit_to_length(session)  # a session shorter than the default agenda


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
    _confirm_dates(programme, [starts_at], data.outside_dates_ok)
    session = Session(
        group=group,
        title=data.title,
        starts_at=starts_at,
        duration_minutes=data.duration_minutes,
        platform=programme.platform,
    )
    if with_agenda:
        _add_default_agenda(db, session, programme)
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
    _confirm_dates(programme, starts, data.outside_dates_ok)
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
            _add_default_agenda(db, session, programme)
        db.add(session)
        created.append(session)
    db.flush()
    for session in created:
        rooms.ensure_session_room(db, session, host.id if host else None)
    return created


def _zone(programme: Programme) -> ZoneInfo:
    return ZoneInfo(programme.timezone)


# --- the session's life ----------------------------------------------------------------------


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def clock_of(session: Session, now: datetime | None = None) -> Clock:
    """The moments that decide the session's state now (its join window from the config)."""
    return Clock(
        now=now or utcnow(),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        opens_before=timedelta(minutes=_config().join_opens_minutes),
    )


def state_of(session: Session, now: datetime | None = None) -> SessionState:
    """Where the session is in its life now: what every page, email and job asks."""
    return lifecycle.state_of(session.status, clock_of(session, now))


def can(session: Session, action: Action, now: datetime | None = None) -> bool:
    """Whether `action` is possible for the session now (pages offer only what is)."""
    clock = clock_of(session, now)
    return lifecycle.can(lifecycle.state_of(session.status, clock), action, clock)


def _refusal_text(reason: Refusal, action: Action) -> str:
    texts = {
        Refusal.NOT_STARTED: _("The session has not started yet, so it cannot be ended."),
        Refusal.ALREADY_ENDED: _("The session has already ended."),
        Refusal.NOT_ENDED: _("End the session first."),
        Refusal.SUMMARY_SENT: _("The summary of this session has already been sent."),
        Refusal.CANCELLED: _("The session is cancelled."),
        Refusal.NOT_CANCELLED: _("The session is not cancelled."),
        Refusal.PASSED: _(
            "The time of this session has passed, so it cannot be put back; "
            "schedule a new session instead."
        ),
        Refusal.HELD: _("The session has already taken place."),
    }
    if action is Action.MOVE and reason is Refusal.HELD:
        return _("A session that has started or been held cannot be moved.")
    if action is Action.CANCEL and reason is Refusal.HELD:
        return _("A session that has been held cannot be cancelled.")
    return texts[reason]


def _transition(session: Session, action: Action, now: datetime | None = None) -> SessionStatus:
    """The session's next stored status, or Conflict saying why the action is not possible."""
    clock = clock_of(session, now)
    try:
        return lifecycle.transition(lifecycle.state_of(session.status, clock), action, clock)
    except TransitionRefused as refused:
        raise Conflict(_refusal_text(refused.reason, action), reason=refused.reason.value) from None


def _lock(db: Db, session: Session) -> None:
    """Read the session's status afresh under a row lock (PostgreSQL), so two presses at the
    same moment see each other: the second finds the session already ended or sent."""
    db.refresh(session, with_for_update=True)


def require(session: Session, action: Action) -> None:
    """Conflict, saying why, unless `action` is possible for the session now."""
    _transition(session, action)


def move_session(
    db: Db, session: Session, data: SessionMove, *, notify: bool = True, dry_run: bool = False
) -> Session:
    """Give one session a new local time (the others stay); its room follows, and (`notify`)
    the members get the new time with an updated calendar entry. `dry_run` only checks and
    sets the new time on the object (for a preview; the caller rolls back)."""
    _transition(session, Action.MOVE)
    programme = session.group.programme
    previous = (session.starts_at, session.duration_minutes, session.title)
    new_start = local_to_utc(data.date, data.start_time, _zone(programme))
    _confirm_dates(programme, [new_start], data.outside_dates_ok)
    agenda.require_fits_length(session, data.duration_minutes)
    session.starts_at = new_start
    if data.title:
        session.title = data.title
    if data.duration_minutes:
        session.duration_minutes = data.duration_minutes
    if dry_run or (session.starts_at, session.duration_minutes, session.title) == previous:
        return session  # a preview, or nothing changed: nobody needs a new calendar entry
    session.calendar_sequence += 1
    db.flush()
    rooms.reschedule_room(db, session)
    if notify:
        notices.queue_change_notices(
            db, _config(), session, "moved", previous_starts_at=previous[0]
        )
    return session


def cancel_session(db: Db, session: Session, *, notify: bool = True) -> Session:
    """Call off one session; its room is removed from the platform and (`notify`) the members
    get a cancellation that removes it from their calendars."""
    if session.is_cancelled:
        return session
    session.status = _transition(session, Action.CANCEL)
    session.calendar_sequence += 1
    db.flush()
    rooms.remove_room(db, session)
    if notify:
        notices.queue_change_notices(db, _config(), session, "cancelled")
    return session


def restore_session(db: Db, session: Session, *, notify: bool = True) -> Session:
    """Undo a cancellation while the session has not happened; it gets a room again and
    (`notify`) the members get it back in their calendars."""
    if not session.is_cancelled:
        return session
    session.status = _transition(session, Action.RESTORE)
    session.calendar_sequence += 1
    for row in session.rooms:
        if row.status == "deleted" and row.purpose == "plenary":
            db.delete(row)
    db.flush()
    db.refresh(session)
    rooms.ensure_session_room(db, session)
    if notify:
        notices.queue_change_notices(db, _config(), session, "restored")
    return session


def end_session(
    db: Db,
    session: Session,
    *,
    by: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Mark the session as held; True the first time (ending an ended session changes nothing).

    Possible once the join window opened; nothing is emailed: the summary waits for review
    (or goes out by itself `summary_delay_minutes` later). `by` says who ended it: a
    facilitator, the worker, or a platform's name. Receivers registered with
    `on_session_ended` run inside the same transaction.
    """
    _lock(db, session)
    state = state_of(session, now)
    if state in (SessionState.ENDED, SessionState.SUMMARY_SENT):
        return False
    session.status = _transition(session, Action.END, now)
    session.ended_at = at or now or utcnow()
    session.ended_by = by
    db.flush()
    for receiver in _SESSION_ENDED:
        receiver(db, session)
    return True


def reopen_session(db: Db, session: Session) -> Session:
    """Undo an ending (a mistake, or people still talking) until the summary has gone out."""
    session.status = _transition(session, Action.REOPEN)
    session.ended_at = None
    session.ended_by = ""
    db.flush()
    return session


def mark_summary_sent(db: Db, session: Session, *, now: datetime | None = None) -> Session:
    """Record that the summary goes out now (the digest queues the emails in the same
    transaction); Conflict unless the session has ended and its summary has not gone."""
    _lock(db, session)
    session.status = _transition(session, Action.SEND_SUMMARY, now)
    session.summary_sent_at = now or utcnow()
    db.flush()
    return session


def require_presence_correctable(session: Session) -> None:
    """Conflict if presence cannot be corrected now (a cancelled session)."""
    _transition(session, Action.CORRECT_PRESENCE)


def mark_presence(
    db: Db,
    session: Session,
    participant_id: int,
    mark: str,
    *,
    by: int | None = None,
) -> None:
    """The facilitator's correction: "present" or "absent" (final over every other source),
    or "clear" to let the sources speak again. Receivers of `on_presence_marked` (the
    breakouts' drafts) follow in the same transaction."""
    _transition(session, Action.CORRECT_PRESENCE)
    if not any(m.participant_id == participant_id for m in session.group.memberships):
        raise NotFound(_("This person is not in the session's group."))
    present = {"present": True, "absent": False, "clear": None}[mark]
    attendance.mark_presence(db, session, participant_id, present, by=by)
    for receiver in _PRESENCE_MARKED:
        receiver(db, session)


PresenceReceiver = Callable[[Db, Session], None]
_PRESENCE_MARKED: list[PresenceReceiver] = []


def on_presence_marked(receiver: PresenceReceiver) -> PresenceReceiver:
    """Register a function called after the facilitator corrected presence on the session
    page (the breakouts take people marked absent out of their draft rounds)."""
    if receiver not in _PRESENCE_MARKED:
        _PRESENCE_MARKED.append(receiver)
    return receiver


def summary_delay_minutes() -> int:
    """Minutes after the end when an unsent summary goes out by itself (configured)."""
    return _config().summary_delay_minutes


def summary_goes_out_at(session: Session) -> datetime | None:
    """When an ended session's summary goes out by itself if nobody sends it."""
    if session.status != SessionStatus.ENDED or session.ended_at is None:
        return None
    return session.ended_at + timedelta(minutes=_config().summary_delay_minutes)


SessionEndedReceiver = Callable[[Db, Session], None]
_SESSION_ENDED: list[SessionEndedReceiver] = []


def on_session_ended(receiver: SessionEndedReceiver) -> SessionEndedReceiver:
    """Register a function called (inside the ending transaction) when a session ends."""
    if receiver not in _SESSION_ENDED:
        _SESSION_ENDED.append(receiver)
    return receiver


def coming_sessions(sessions: list[Session], now: datetime | None = None) -> list[Session]:
    """The sessions still ahead or on now (not cancelled, not ended), soonest first."""
    now = now or utcnow()
    return sorted(
        (s for s in sessions if lifecycle.is_coming(state_of(s, now))),
        key=lambda s: s.starts_at,
    )


def upcoming_sessions(programme: Programme, now: datetime | None = None) -> list[Session]:
    """Sessions of all groups of the programme still ahead or on now, soonest first."""
    return coming_sessions([s for g in programme.groups for s in g.sessions], now)


def next_session_after(session: Session, now: datetime | None = None) -> Session | None:
    """The group's next session after this one that is coming (scheduled, not cancelled)."""
    later = [
        s
        for s in coming_sessions(list(session.group.sessions), now)
        if s.id != session.id and s.starts_at > session.starts_at
    ]
    return later[0] if later else None

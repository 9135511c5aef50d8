"""Personal join links: one per participant, signed and revocable, and where opening one leads.

The URL carries a signed token naming the link row and its nonce; renewing the nonce or
revoking the link invalidates every copy (and the browser sessions opened with it).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.security import TokenError, sign, unsign
from companion.meetings.models import MeetingRoom
from companion.programmes.models import Group, Membership, Participant
from companion.sessions.lifecycle import StoredStatus
from companion.sessions.models import JoinLink, Session, SessionStatus


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


@cache
def _join_load() -> tuple[_AbstractLoad, ...]:
    """What opening a link reads, loaded in three queries instead of one per relation: the
    link with its person and programme, their groups, and the groups' sessions with their
    rooms (`decide_join` and the room's address need all of it; 500 opens in 10 s is the
    load). Built on first use: building it configures the mappers, which needs every model."""
    return (
        joinedload(JoinLink.participant).joinedload(Participant.programme),
        joinedload(JoinLink.participant)
        .selectinload(Participant.memberships)
        .joinedload(Membership.group)
        .selectinload(Group.sessions)
        .joinedload(Session.rooms),
    )


def _link_ref(token: str) -> tuple[int, str]:
    """The link id and nonce a token names, or JoinLinkInvalid if we did not sign it."""
    try:
        data = unsign(token, "join")
    except TokenError:
        raise JoinLinkInvalid("invalid") from None
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], int)):
        raise JoinLinkInvalid("invalid")
    return data[0], str(data[1])


def resolve_join_token(db: Db, token: str) -> JoinLink:
    """The live join link of a token, or JoinLinkInvalid."""
    link_id, nonce = _link_ref(token)
    link = db.get(JoinLink, link_id, options=_join_load())
    if link is None or not secrets.compare_digest(str(link.nonce), nonce):
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


class Timed(Protocol):
    """What choosing a session reads of it (a `Session`, or `SessionTimes` on the quick path)."""

    @property
    def id(self) -> int: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def is_cancelled(self) -> bool: ...


T = TypeVar("T", bound=Timed)
Kind = Literal["join", "wait", "ended", "none"]


def choose_session(
    candidates: Iterable[T], now: datetime, *, opens_before: timedelta, closes_after: timedelta
) -> tuple[Kind, T | None, datetime | None]:
    """The rule of `decide_join`, over any sessions: (kind, session, when its room opens)."""
    # The id breaks ties, so every reader of the same rows picks the same session.
    sessions = sorted(
        (s for s in candidates if not s.is_cancelled), key=lambda s: (s.starts_at, s.id)
    )
    for session in sessions:
        if session.status != StoredStatus.SCHEDULED:
            continue
        if session.starts_at - opens_before <= now <= session.ends_at + closes_after:
            return "join", session, None
    upcoming = [
        s
        for s in sessions
        if s.status == StoredStatus.SCHEDULED and s.starts_at - opens_before > now
    ]
    if upcoming:
        return "wait", upcoming[0], upcoming[0].starts_at - opens_before
    if sessions:
        return "ended", sessions[-1], None
    return "none", None, None


def decide_join(
    participant: Participant,
    now: datetime,
    *,
    opens_before: timedelta,
    closes_after: timedelta,
) -> JoinDecision:
    """Which of the participant's sessions is on now, or the next one, or that all are over.

    Cancelled sessions are never joined or waited for; a session someone ended (or whose
    summary went out) no longer forwards to its room.
    """
    kind, session, opens_at = choose_session(
        (s for g in participant.groups for s in g.sessions),
        now,
        opens_before=opens_before,
        closes_after=closes_after,
    )
    return JoinDecision(kind, session, opens_at)


def join_url(config: Config, link: JoinLink) -> str:
    """The absolute personal join address."""
    return config.external_url(f"/j/{join_token(link)}")


# --- the quick path: most opens forward to a room -----------------------------------------------


@dataclass(frozen=True)
class SessionTimes:
    """The columns of a session that choosing one reads."""

    id: int
    starts_at: datetime
    duration_minutes: int
    status: str
    platform: str

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED


@dataclass(frozen=True)
class QuickJoin:
    """A link that forwards now: who opened it, to which session, and the room's row."""

    participant_id: int
    name: str
    email: str
    nonce: str
    session: SessionTimes
    room_external_id: str
    room_join_url: str
    room_data: dict[str, Any]


@cache
def _quick_query() -> Select[Any]:
    """One query, plain rows: the link, its person, their groups' sessions and each session's
    active plenary rooms (lowest id first, as `Session.room` picks)."""
    link = JoinLink.__table__
    person = Participant.__table__
    member = Membership.__table__
    session = Session.__table__
    room = MeetingRoom.__table__
    joined = (
        link.join(person, person.c.id == link.c.participant_id)
        .outerjoin(member, member.c.participant_id == person.c.id)
        .outerjoin(session, session.c.group_id == member.c.group_id)
        .outerjoin(
            room,
            and_(
                room.c.session_id == session.c.id,
                room.c.purpose == "plenary",
                room.c.status == "active",
            ),
        )
    )
    return (
        select(
            link.c.nonce,
            link.c.revoked_at,
            person.c.id.label("person_id"),
            person.c.name,
            person.c.email,
            session.c.id.label("session_id"),
            session.c.starts_at,
            session.c.duration_minutes,
            session.c.status,
            session.c.platform,
            room.c.id.label("room_id"),
            room.c.external_id,
            room.c.join_url,
            room.c.data,
        )
        .select_from(joined)
        .where(link.c.id == bindparam("link_id"))
        .order_by(room.c.id)
    )


def quick_join(
    db: Db, token: str, now: datetime, *, opens_before: timedelta, closes_after: timedelta
) -> QuickJoin | None:
    """The common case of opening a link, read in one query without ORM objects: a valid
    link whose person has a session on now with a ready room. Anything else (None) takes
    the full path (`resolve_join_token`, `decide_join`), which decides by the same rule."""
    try:
        link_id, nonce = _link_ref(token)
    except JoinLinkInvalid:
        return None
    rows = db.execute(_quick_query(), {"link_id": link_id}).all()
    if not rows or rows[0].revoked_at is not None:
        return None
    if not secrets.compare_digest(str(rows[0].nonce), nonce):
        return None
    sessions: dict[int, SessionTimes] = {}
    room_of: dict[int, Any] = {}
    for row in rows:
        if row.session_id is None:
            continue
        sessions.setdefault(
            row.session_id,
            SessionTimes(
                row.session_id, row.starts_at, row.duration_minutes, row.status, row.platform
            ),
        )
        if row.room_id is not None:
            room_of.setdefault(row.session_id, row)
    kind, chosen, _ = choose_session(
        sessions.values(), now, opens_before=opens_before, closes_after=closes_after
    )
    room = room_of.get(chosen.id) if kind == "join" and chosen is not None else None
    if chosen is None or room is None or not room.join_url:
        return None
    first = rows[0]
    return QuickJoin(
        participant_id=first.person_id,
        name=first.name,
        email=first.email,
        nonce=first.nonce,
        session=chosen,
        room_external_id=room.external_id,
        room_join_url=room.join_url,
        room_data=dict(room.data or {}),
    )

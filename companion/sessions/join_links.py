"""Personal join links: one per participant, signed and revocable, and where opening one leads.

The URL carries a signed token naming the link row and its nonce; renewing the nonce or
revoking the link invalidates every copy (and the browser sessions opened with it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.security import TokenError, sign, unsign
from companion.programmes.models import Group, Membership, Participant
from companion.sessions.lifecycle import StoredStatus
from companion.sessions.models import JoinLink, Session


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


def resolve_join_token(db: Db, token: str) -> JoinLink:
    """The live join link of a token, or JoinLinkInvalid."""
    try:
        data = unsign(token, "join")
    except TokenError:
        raise JoinLinkInvalid("invalid") from None
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], int)):
        raise JoinLinkInvalid("invalid")
    link = db.get(JoinLink, data[0], options=_join_load())
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
    """Which of the participant's sessions is on now, or the next one, or that all are over.

    Cancelled sessions are never joined or waited for; a session someone ended (or whose
    summary went out) no longer forwards to its room.
    """
    sessions = sorted(
        (s for g in participant.groups for s in g.sessions if not s.is_cancelled),
        key=lambda s: s.starts_at,
    )
    for session in sessions:
        if session.status != StoredStatus.SCHEDULED:
            continue
        if session.starts_at - opens_before <= now <= session.ends_at + closes_after:
            return JoinDecision("join", session)
    upcoming = [
        s
        for s in sessions
        if s.status == StoredStatus.SCHEDULED and s.starts_at - opens_before > now
    ]
    if upcoming:
        return JoinDecision("wait", upcoming[0], upcoming[0].starts_at - opens_before)
    if sessions:
        return JoinDecision("ended", sessions[-1])
    return JoinDecision("none")


def join_url(config: Config, link: JoinLink) -> str:
    """The absolute personal join address."""
    return config.external_url(f"/j/{join_token(link)}")

"""Live tokens: who may open a connection and which channels it may name.

A client fetches a token over HTTP (`GET /api/v1/live/token`, the `api` blueprint) and sends
it as its first WebSocket message. The token names the actor by a reference from the identity
provider (`companion.core.identity`), so a connection is checked again, now and then, against
the account or join link it stands for (`lost_access`).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any

from flask import Blueprint, Flask, current_app
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from companion.core.api import api_view
from companion.core.db import Base, Db, get_db, utcnow
from companion.core.errors import NotFound
from companion.core.events import CHANNEL_PATTERN, authorize_channel
from companion.core.identity import Actor, actor_from_reference, actor_reference, require_actor
from companion.core.jobs import periodic
from companion.core.security import sign_timed

#: A live token is only for opening a connection; the client fetches a fresh one to reconnect.
LIVE_TOKEN_SECONDS = 120
#: Channels one token may name.
MAX_CHANNELS = 20


def lost_access(db: Db, subscriptions: list[tuple[Any, list[str]]]) -> dict[int, list[str] | None]:
    """What each `(actor reference, channels)` entry may no longer watch, by index.

    None: the actor itself is no longer valid (revoked join link, deactivated account, signed
    out everywhere). A list: the channels it may no longer watch. Entries that keep all their
    access are left out. Each distinct reference and (reference, channel) is checked once,
    however many connections share it.
    """
    actors: dict[str, Actor | None] = {}
    allowed: dict[tuple[str, str], bool] = {}
    lost: dict[int, list[str] | None] = {}
    for index, (reference, channels) in enumerate(subscriptions):
        key = json.dumps(reference, sort_keys=True, default=str)
        if key not in actors:
            actors[key] = actor_from_reference(db, reference)
        actor = actors[key]
        if actor is None:
            lost[index] = None
            continue
        for channel in channels:
            if (key, channel) not in allowed:
                allowed[key, channel] = authorize_channel(db, actor, channel)
        gone = [c for c in channels if not allowed[key, c]]
        if gone:
            lost[index] = gone
    return lost


def issue_live_token(db: Db, actor: Actor, channels: list[str]) -> str:
    """A short-lived, single-use token naming the actor and the channels it may subscribe to
    (`j`, a random id, is what makes it single-use: see `claim_live_token`)."""
    data = {"a": actor_reference(db, actor), "c": channels, "j": secrets.token_urlsafe(16)}
    return sign_timed(data, "live")


class UsedLiveToken(Base):
    """A live token that has opened a connection; it opens no other (kept until it expires).

    In the database so that every live process knows, however many run.
    """

    __tablename__ = "used_live_token"

    #: The token's random id (`j`).
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: After this the token is refused as expired anyway, and the row can go.
    expires_at: Mapped[datetime] = mapped_column(index=True)


def claim_live_token(db: Db, jti: object) -> bool:
    """Mark the token used and commit; False if it was used before (or names no id)."""
    if not isinstance(jti, str) or not 0 < len(jti) <= 64:
        return False
    try:
        db.add(UsedLiveToken(jti=jti, expires_at=utcnow() + timedelta(seconds=LIVE_TOKEN_SECONDS)))
        db.commit()
    except IntegrityError:
        db.rollback()
        return False
    return True


@periodic(600)
def purge_used_live_tokens(db: Db) -> None:
    """Forget used tokens once they would be refused as expired anyway."""
    db.execute(delete(UsedLiveToken).where(UsedLiveToken.expires_at < utcnow()))


def live_public_url(app: Flask) -> str:
    """The WebSocket address browsers use (a test or `serve` may have bound another port)."""
    url: str | None = app.extensions.get("companion.live_public_url")
    return url or app.extensions["companion.config"].public_live_url


def live_origin(app: Flask) -> str:
    """The origin of the live server, for the pages' Content-Security-Policy connect-src."""
    url = live_public_url(app)
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


# --- the HTTP side ----------------------------------------------------------------------------

api = Blueprint("live_api", __name__, url_prefix="/api/v1")


class LiveTokenOut(BaseModel):
    """A token for the first message on the WebSocket, and where to open it."""

    token: str
    url: str
    channels: list[str]
    expires_in: int


ChannelName = Annotated[str, StringConstraints(max_length=120, pattern=CHANNEL_PATTERN)]


class LiveTokenQuery(BaseModel):
    """The channels the connection will subscribe to (`?channel=board:12`, repeatable)."""

    channel: list[ChannelName] = Field(min_length=1, max_length=MAX_CHANNELS)


@api.get("/live/token")
@api_view(summary="Get a live token", query=LiveTokenQuery, response=LiveTokenOut, tags=("live",))
def live_token(query: LiveTokenQuery) -> LiveTokenOut:
    """A token for the WebSocket naming the channels (`?channel=board:12`, repeatable)."""
    actor = require_actor()
    channels = list(dict.fromkeys(query.channel))
    db = get_db()
    for channel in channels:
        if not authorize_channel(db, actor, channel):
            raise NotFound()
    return LiveTokenOut(
        token=issue_live_token(db, actor, channels),
        url=live_public_url(current_app._get_current_object()),  # type: ignore[attr-defined]
        channels=channels,
        expires_in=LIVE_TOKEN_SECONDS,
    )

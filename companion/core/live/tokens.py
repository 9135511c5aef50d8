"""Live tokens: who may open a connection and which channels it may name.

A client fetches a token over HTTP (`GET /api/v1/live/token`, the `api` blueprint) and sends
it as its first WebSocket message. The token names the actor by a reference from the identity
provider (`companion.core.identity`), so a connection is checked again, now and then, against
the account or join link it stands for (`lost_access`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, current_app, request
from pydantic import BaseModel

from companion.core.api import api_view
from companion.core.db import Db, get_db
from companion.core.errors import Invalid, NotFound
from companion.core.events import authorize_channel
from companion.core.identity import Actor, actor_from_reference, actor_reference, require_actor
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
    """A short-lived token naming the actor and the channels it may subscribe to."""
    return sign_timed({"a": actor_reference(db, actor), "c": channels}, "live")


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


@api.get("/live/token")
@api_view(summary="Get a live token", response=LiveTokenOut, tags=("live",))
def live_token() -> LiveTokenOut:
    """A token for the WebSocket naming the channels (`?channel=board:12`, repeatable)."""
    actor = require_actor()
    channels = list(dict.fromkeys(request.args.getlist("channel")))
    if not channels or len(channels) > MAX_CHANNELS:
        raise Invalid(errors={"channel": f"1-{MAX_CHANNELS}"})
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

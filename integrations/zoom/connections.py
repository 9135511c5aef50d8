"""Facilitators' Zoom connections: store, sign in with, disconnect and forget a Zoom user.

Like every operations module here: no `flask.request`; the caller commits (the exception is the
token refresh, see `tokens.py`) and checks access.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from companion.accounts.models import Facilitator
from companion.config import Config
from companion.core.crypto import (
    SecretUnreadable,
    decrypt_secret,
    encrypt_secret,
)
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotFound
from companion.meetings.models import MeetingRoom
from integrations.zoom.client import ZoomApi
from integrations.zoom.configuration import PLATFORM, server_to_server
from integrations.zoom.errors import ZoomError
from integrations.zoom.models import (
    ConnectionKind,
    ConnectionStatus,
    ZoomConnection,
    ZoomDailyUsage,
    ZoomIdentity,
    ZoomWebhookEvent,
)
from integrations.zoom.oauth import OAuthFailure, TokenSet, ZoomOAuth
from integrations.zoom.tokens import AccountTokens, BearerTokens
from integrations.zoom.usage import Quota, quota

log = logging.getLogger(__name__)


def connection_of(db: Db, facilitator: Facilitator) -> ZoomConnection | None:
    """The facilitator's Zoom connection, if they made one."""
    return db.scalar(
        select(ZoomConnection)
        .where(ZoomConnection.facilitator_id == facilitator.id)
        .execution_options(populate_existing=True)
    )


def zoom_user(config: Config, access_token: str) -> dict[str, Any]:
    """`GET /users/me` with a token just issued: id, email and account of the Zoom user."""
    answer = ZoomApi(config, BearerTokens(config, access_token)).get("/users/me")
    if not isinstance(answer, dict) or not answer.get("id"):
        raise ZoomError(_("Zoom did not say which account was connected. Please try again."))
    return answer


def _store_tokens(row: ZoomConnection, config: Config, tokens: TokenSet) -> None:
    row.access_token = encrypt_secret(config, tokens.access_token)
    row.refresh_token = encrypt_secret(config, tokens.refresh_token)
    row.expires_at = tokens.expires_at
    row.scopes = tokens.scopes
    row.status = ConnectionStatus.CONNECTED
    row.last_error = ""
    row.refreshed_at = utcnow()


def save_connection(
    db: Db, config: Config, facilitator: Facilitator, tokens: TokenSet, user: Mapping[str, Any]
) -> ZoomConnection:
    """Store the facilitator's new Zoom connection (or renew it after "reconnect needed")."""
    zoom_user_id = str(user["id"])
    taken = db.scalar(
        select(ZoomConnection).where(
            ZoomConnection.kind == ConnectionKind.USER,
            ZoomConnection.zoom_user_id == zoom_user_id,
            ZoomConnection.facilitator_id != facilitator.id,
        )
    )
    if taken is not None:
        raise Conflict(
            _(
                "This Zoom account is already connected to another Kollega account. "
                "Disconnect it there first."
            )
        )
    row = connection_of(db, facilitator)
    if row is None:
        row = ZoomConnection(kind=ConnectionKind.USER, facilitator_id=facilitator.id)
        db.add(row)
    elif row.zoom_user_id and row.zoom_user_id != zoom_user_id:
        # Another Zoom user than before: the old grant is no longer wanted.
        revoke_quietly(config, _plain_token(config, row))
    row.zoom_user_id = zoom_user_id
    row.zoom_account_id = str(user.get("account_id") or "")
    row.zoom_email = str(user.get("email") or "")[:254]
    row.connected_at = utcnow()
    _store_tokens(row, config, tokens)
    db.flush()
    return row


def sign_in_with_zoom(
    db: Db, config: Config, tokens: TokenSet, user: Mapping[str, Any]
) -> Facilitator:
    """The active facilitator whose connection is this Zoom user; their tokens are renewed."""
    row = db.scalar(
        select(ZoomConnection).where(
            ZoomConnection.kind == ConnectionKind.USER,
            ZoomConnection.zoom_user_id == str(user["id"]),
        )
    )
    facilitator = row.facilitator if row is not None else None
    if row is None or facilitator is None or not facilitator.active:
        raise NotFound(
            _(
                "No Kollega account is connected to this Zoom account. Sign in with your email "
                "and password, then connect Zoom on the Connections page."
            )
        )
    row.zoom_email = str(user.get("email") or row.zoom_email)[:254]
    _store_tokens(row, config, tokens)
    facilitator.last_sign_in_at = utcnow()
    db.flush()
    return facilitator


def _plain_token(config: Config, row: ZoomConnection) -> str:
    try:
        if row.access_token and row.expires_at and row.expires_at > utcnow():
            return decrypt_secret(config, row.access_token)
        return decrypt_secret(config, row.refresh_token)
    except SecretUnreadable:
        return ""


def revoke_quietly(config: Config, token: str) -> bool:
    """Revoke a grant at Zoom; False (logged) if Zoom could not be told."""
    if not token:
        return False
    try:
        ZoomOAuth(config).revoke(token)
    except OAuthFailure as exc:
        log.warning("Zoom did not confirm a revocation: %s", exc.error)
        return False
    return True


def disconnect(db: Db, config: Config, facilitator: Facilitator) -> bool:
    """Revoke the facilitator's grant at Zoom (NOTES §1.4) and forget the connection.

    True if Zoom confirmed the revocation; the connection is forgotten either way.
    """
    row = connection_of(db, facilitator)
    if row is None:
        return True
    revoked = revoke_quietly(config, _plain_token(config, row))
    # The tokens and the Zoom identity go now; Zoom answers the revocation with
    # `app_deauthorized` (NOTES §1.4), which clears the rest (see `deauthorize`).
    db.delete(row)
    db.flush()
    return revoked


def _forget_zoom_user(db: Db, zoom_user_id: str, *, keep_event_id: int | None) -> None:
    if not zoom_user_id:
        return
    db.execute(delete(ZoomDailyUsage).where(ZoomDailyUsage.host_key == zoom_user_id))
    events = delete(ZoomWebhookEvent).where(ZoomWebhookEvent.zoom_user_id == zoom_user_id)
    if keep_event_id is not None:
        events = events.where(ZoomWebhookEvent.id != keep_event_id)
    db.execute(events)
    for room in db.scalars(select(MeetingRoom).where(MeetingRoom.platform == PLATFORM)):
        if room.data.get("host_zoom_user_id") == zoom_user_id:
            room.data = {
                k: v for k, v in room.data.items() if k not in ("host_zoom_user_id", "host_email")
            }


def deauthorize(db: Db, zoom_user_id: str, *, event_id: int | None = None) -> int:
    """Delete what Kollega holds about a Zoom user who removed the app (NOTES §1.5).

    Tokens, ids and email of their connection, their usage counts, the webhook events from
    them, the link between them and participants, and their id on rooms. Returns the number
    of connections removed.
    """
    if not zoom_user_id:
        return 0
    connections = list(
        db.scalars(select(ZoomConnection).where(ZoomConnection.zoom_user_id == zoom_user_id))
    )
    for row in connections:
        db.delete(row)
    db.execute(delete(ZoomIdentity).where(ZoomIdentity.zoom_user_id == zoom_user_id))
    _forget_zoom_user(db, zoom_user_id, keep_event_id=event_id)
    db.flush()
    return len(connections)


def host_key_for(db: Db, config: Config, facilitator: Facilitator) -> str | None:
    """The key the facilitator's Zoom meetings are counted under, if they can host."""
    if server_to_server(config):
        return AccountTokens(db, config, facilitator.email).host_key
    row = connection_of(db, facilitator)
    return row.zoom_user_id if row is not None else None


def host_quota(db: Db, config: Config, facilitator: Facilitator) -> Quota | None:
    """Today's meeting create/update count of the facilitator as a Zoom host."""
    key = host_key_for(db, config, facilitator)
    return quota(db, key) if key else None

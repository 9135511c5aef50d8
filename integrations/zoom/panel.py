"""The Zoom App side panel: which session a meeting is, who the Zoom user is in it, and the
in-client authorisation that links a Zoom user to a participant (NOTES §5).

Like every operations module here: no `flask.request`; the caller commits.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.access import may
from companion.accounts.identity import facilitator_token, participant_token
from companion.accounts.models import Facilitator
from companion.accounts.roles import Capability
from companion.config import Config
from companion.core.crypto import (
    SecretUnreadable,
    decrypt_secret,
    encrypt_secret,
)
from companion.core.db import Db
from companion.core.errors import NotAllowed, NotFound, Unavailable
from companion.meetings.platform import PlatformError
from companion.programmes.models import Participant
from companion.sessions import join_links
from companion.sessions.models import Session
from integrations.zoom.appcontext import AppContext
from integrations.zoom.attendance import members_by_email
from integrations.zoom.client import ZoomApi
from integrations.zoom.configuration import app_home_url, server_to_server
from integrations.zoom.connections import zoom_user
from integrations.zoom.models import (
    ConnectionKind,
    ZoomConnection,
    ZoomIdentity,
)
from integrations.zoom.oauth import OAuthFailure, ZoomOAuth
from integrations.zoom.session_meeting import domain_error
from integrations.zoom.tokens import AccountTokens
from integrations.zoom.webhook_events import remember_identity, session_for_meeting_uuids

#: Lifetime of the `state` of an in-client authorisation (seconds).
IN_CLIENT_STATE_SECONDS = 600


@dataclass(frozen=True)
class PanelTarget:
    """Who opens the panel of which session."""

    session: Session
    facilitator: Facilitator | None = None
    participant: Participant | None = None

    @property
    def identified(self) -> bool:
        """Whether the Zoom user is known to Kollega."""
        return self.facilitator is not None or self.participant is not None


def panel_url(db: Db, target: PanelTarget) -> str:
    """The board's side panel with a bearer token in the fragment (no third-party cookies)."""
    if target.facilitator is not None:
        token = facilitator_token(target.facilitator)
    elif target.participant is not None:
        link = join_links.join_link_for(db, target.participant)
        if link.revoked_at is not None:
            raise NotAllowed(
                _("Your personal link has been turned off. Please ask your facilitator.")
            )
        token = participant_token(target.participant, link)
    else:
        raise NotAllowed(_("Kollega does not know who you are yet."))
    return f"/panel/sessions/{target.session.id}#token={token}"


def _member(session: Session, participant_id: int) -> Participant | None:
    return next(
        (m.participant for m in session.group.memberships if m.participant_id == participant_id),
        None,
    )


def panel_target(db: Db, config: Config, context: AppContext) -> PanelTarget:
    """The session of the meeting in the context, and who the Zoom user is in it."""
    session = session_for_meeting_uuids(db, context.meeting_uuids)
    if session is None:
        raise NotFound(
            _(
                "This Zoom meeting is not a Kollega session. Open the app in the meeting that "
                "Kollega created for your session."
            )
        )
    if not context.uid:
        return PanelTarget(session)  # guest mode: no Zoom user id (NOTES §5.1)
    connection = db.scalar(
        select(ZoomConnection).where(
            ZoomConnection.kind == ConnectionKind.USER,
            ZoomConnection.zoom_user_id == context.uid,
        )
    )
    facilitator = connection.facilitator if connection is not None else None
    if (
        facilitator is not None
        and facilitator.active
        # Any role: who they are does not depend on the request's method; what they may
        # change is checked on each write.
        and may(facilitator, session.group.programme, Capability.VIEW)
    ):
        return PanelTarget(session, facilitator=facilitator)
    for identity in db.scalars(
        select(ZoomIdentity).where(ZoomIdentity.zoom_user_id == context.uid)
    ):
        participant = _member(session, identity.participant_id)
        if participant is not None:
            return PanelTarget(session, participant=participant)
    if server_to_server(config):
        participant = _participant_from_account(db, config, session, context.uid)
        if participant is not None:
            return PanelTarget(session, participant=participant)
    return PanelTarget(session)


def _participant_from_account(
    db: Db, config: Config, session: Session, zoom_user_id: str
) -> Participant | None:
    """With a Server-to-Server app, read the email of a same-account user (NOTES §1.2)."""
    try:
        user = ZoomApi(config, AccountTokens(db, config, None)).get(f"/users/{zoom_user_id}")
    except PlatformError:
        return None
    email = str(user.get("email") or "").strip().lower() if isinstance(user, dict) else ""
    participant = members_by_email(session).get(email) if email else None
    if participant is not None:
        remember_identity(db, zoom_user_id, participant)
    return participant


def start_in_client_authorization(config: Config, context: AppContext) -> dict[str, str]:
    """PKCE values for `zoomSdk.authorize` (NOTES §5.4: method plain, challenge = verifier).

    The verifier travels inside an encrypted, time-limited `state`: the panel has no cookies.
    """
    verifier = secrets.token_urlsafe(48)
    state = encrypt_secret(config, json.dumps({"v": verifier, "u": context.uid, "m": context.mid}))
    return {"codeChallenge": verifier, "state": state}


def finish_in_client_authorization(
    db: Db,
    config: Config,
    context: AppContext,
    *,
    code: str,
    state: str,
    given_redirect_uri: str,
) -> PanelTarget:
    """Exchange the in-client code, read the user's email, match it to a participant.

    The tokens are used once for `GET /users/me` and not kept: Kollega keeps only the link
    between the Zoom user and the participant.
    """
    try:
        data = json.loads(decrypt_secret(config, state, max_age_seconds=IN_CLIENT_STATE_SECONDS))
    except (SecretUnreadable, ValueError):
        raise NotAllowed(_("The Zoom authorisation has expired. Please try again.")) from None
    if not isinstance(data, dict) or data.get("u") != context.uid or data.get("m") != context.mid:
        raise NotAllowed(_("The Zoom authorisation belongs to another meeting or user."))
    target = panel_target(db, config, context)
    if target.identified:
        return target
    redirect = given_redirect_uri if given_redirect_uri.startswith(config.base_url) else ""
    try:
        tokens = ZoomOAuth(config).exchange_code(
            code, redirect or app_home_url(config), str(data.get("v") or "")
        )
    except OAuthFailure as exc:
        if exc.temporary:
            raise Unavailable(_("Zoom did not answer. Please try again.")) from None
        raise NotAllowed(_("Zoom did not accept the authorisation. Please try again.")) from None
    try:
        user = zoom_user(config, tokens.access_token)
    except PlatformError as exc:
        raise domain_error(exc) from None
    if context.uid and str(user.get("id")) != context.uid:
        raise NotAllowed(_("The Zoom authorisation belongs to another meeting or user."))
    email = str(user.get("email") or "").strip().lower()
    participant = members_by_email(target.session).get(email)
    if participant is None:
        raise NotAllowed(
            _(
                "The email of your Zoom account (%(email)s) is not on this group's list of "
                "participants. Open the board from your personal link instead, or ask your "
                "facilitator to use this address.",
                email=email or "?",
            )
        )
    remember_identity(db, str(user["id"]), participant)
    db.flush()
    return PanelTarget(target.session, participant=participant)

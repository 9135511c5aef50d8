"""Who is asking: a signed-in facilitator (cookie) or a participant (join link or bearer token).

Facilitators sign in with a cookie session that names a server-side sign-in record
(`SignInSession`) and carries their `session_version`: signing out deletes the record, and a
password change or deactivation bumps the version and deletes them all, so no copy of a
cookie outlives them. Participants have no account: opening their
join link puts their identity in the cookie session; inside Zoom or Teams, where third-party
cookies are blocked, the side panel carries the same identity as a short-lived bearer token.
Both forms name the join link's nonce, so revoking the link revokes them too.

This module is core's identity provider (`companion.core.identity`): it registers itself when
imported, so the live server can tell who is asking without importing this package.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context, request, session
from sqlalchemy import bindparam, delete, select

from companion.accounts.models import Facilitator, SignInSession
from companion.accounts.operations import SIGN_IN_RECORD_LIFETIME
from companion.core.db import Db, get_db, utcnow
from companion.core.errors import NotSignedIn
from companion.core.identity import register_identity
from companion.core.security import TokenError, sign_timed, unsign_timed
from companion.core.security import bearer_token as parse_bearer
from companion.programmes.models import Participant
from companion.sessions.models import JoinLink

#: Lifetime of a participant's bearer token (a side panel re-fetches one when it reconnects).
PARTICIPANT_TOKEN_SECONDS = 12 * 3600
#: Lifetime of a facilitator's API token.
FACILITATOR_TOKEN_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Actor:
    """The person behind a request: exactly one of the two is set."""

    facilitator: Facilitator | None = None
    participant: Participant | None = None

    @property
    def is_facilitator(self) -> bool:
        """Whether a facilitator is acting."""
        return self.facilitator is not None


def start_sign_in_session(db: Db, facilitator: Facilitator) -> str:
    """A new server-side sign-in record; returns the key its cookie carries (caller commits)."""
    key = secrets.token_urlsafe(32)
    db.add(SignInSession(key=key, facilitator_id=facilitator.id))
    db.flush()
    return key


def sign_in(db: Db, facilitator: Facilitator) -> None:
    """Start a fresh cookie session for the facilitator (a new session id against fixation)
    with its own server-side record; the caller commits."""
    language = session.get("lang")
    session.clear()
    session.permanent = True
    session["fid"] = facilitator.id
    session["fv"] = facilitator.session_version
    session["sk"] = start_sign_in_session(db, facilitator)
    if language:
        session["lang"] = language


def sign_out(db: Db) -> None:
    """Forget whoever is signed in on this browser, and end the sign-in on the server (the
    caller commits)."""
    key = session.get("sk")
    if isinstance(key, str):
        db.execute(delete(SignInSession).where(SignInSession.key == key))
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def enter_as_participant(participant_id: int, nonce: str) -> None:
    """Remember on this browser that the join link's owner (the person and the link's nonce)
    is here, for the board and notes."""
    session["pid"] = participant_id
    session["pn"] = nonce


def participant_token(participant: Participant, link: JoinLink) -> str:
    """A bearer token for the side panel, valid for PARTICIPANT_TOKEN_SECONDS."""
    return sign_timed({"p": participant.id, "n": link.nonce}, "participant")


def facilitator_token(facilitator: Facilitator) -> str:
    """A bearer token for scripts using the API as this facilitator."""
    return sign_timed({"f": facilitator.id, "v": facilitator.session_version}, "facilitator")


def bearer_token() -> str | None:
    """The token of the request's `Authorization: Bearer` header, if any (the same rule as
    the CSRF check's: `core.security.bearer_token`)."""
    return parse_bearer(request.headers.get("Authorization"))


def current_facilitator() -> Facilitator | None:
    """The signed-in facilitator (cookie or API token), or None."""
    if "facilitator" in g:
        cached: Facilitator | None = g.facilitator
        return cached
    facilitator = _facilitator_from_token() if bearer_token() else _facilitator_from_cookie()
    g.facilitator = facilitator
    if facilitator is not None and facilitator.language:
        g.preferred_language = facilitator.language
    return facilitator


#: The facilitator of a live sign-in record, in one prebuilt statement (every request).
_SIGNED_IN_FACILITATOR = (
    select(Facilitator)
    .join(SignInSession, SignInSession.facilitator_id == Facilitator.id)
    .where(
        Facilitator.id == bindparam("facilitator_id"),
        SignInSession.key == bindparam("key"),
        SignInSession.created_at > bindparam("since"),
    )
)


def _facilitator_from_cookie() -> Facilitator | None:
    facilitator_id, key = session.get("fid"), session.get("sk")
    if type(facilitator_id) is not int or not isinstance(key, str):
        return None
    facilitator = get_db().scalar(
        _SIGNED_IN_FACILITATOR,
        {"facilitator_id": facilitator_id, "key": key, "since": utcnow() - SIGN_IN_RECORD_LIFETIME},
    )
    if facilitator is None or not facilitator.active:
        return None
    if session.get("fv") != facilitator.session_version:
        return None
    g.sign_in_key = key
    return facilitator


def _facilitator_from_token() -> Facilitator | None:
    token = bearer_token()
    if token is None:
        return None
    try:
        data = unsign_timed(token, "facilitator", FACILITATOR_TOKEN_SECONDS)
    except TokenError:
        return None
    if not isinstance(data, dict):
        return None
    facilitator = get_db().get(Facilitator, data.get("f"))
    if facilitator is None or not facilitator.active:
        return None
    if data.get("v") != facilitator.session_version:
        return None
    return facilitator


def current_participant() -> Participant | None:
    """The participant whose join link (cookie) or bearer token came with the request."""
    if "participant" in g:
        cached: Participant | None = g.participant
        return cached
    participant_id: object = None
    nonce: object = None
    token = bearer_token()
    if token is not None:
        try:
            data = unsign_timed(token, "participant", PARTICIPANT_TOKEN_SECONDS)
        except TokenError:
            data = None
        if isinstance(data, dict):
            participant_id, nonce = data.get("p"), data.get("n")
    else:
        participant_id, nonce = session.get("pid"), session.get("pn")
    participant = _participant_with_live_link(participant_id, nonce)
    g.participant = participant
    if participant is not None:
        # Read only if a text is translated (it loads the programme for its default).
        g.preferred_language = lambda: participant.effective_language
    return participant


#: The participant of a live join link, in one prebuilt statement: it runs on every
#: participant request (every vote), so nothing else is loaded or compiled per call.
_LIVE_PARTICIPANT = (
    select(Participant)
    .join(JoinLink, JoinLink.participant_id == Participant.id)
    .where(
        Participant.id == bindparam("participant_id"),
        JoinLink.nonce == bindparam("nonce"),
        JoinLink.revoked_at.is_(None),
    )
)


def _participant_with_live_link(participant_id: object, nonce: object) -> Participant | None:
    if not isinstance(participant_id, int) or not isinstance(nonce, str):
        return None
    return get_db().scalar(_LIVE_PARTICIPANT, {"participant_id": participant_id, "nonce": nonce})


def current_actor() -> Actor | None:
    """The facilitator if one is signed in, otherwise the participant, otherwise None."""
    facilitator = current_facilitator()
    if facilitator is not None:
        return Actor(facilitator=facilitator)
    participant = current_participant()
    if participant is not None:
        return Actor(participant=participant)
    return None


def require_facilitator() -> Facilitator:
    """The signed-in facilitator, or NotSignedIn (a sign-in page or a 401 problem)."""
    facilitator = current_facilitator()
    if facilitator is None:
        raise NotSignedIn()
    return facilitator


def require_actor() -> Actor:
    """A facilitator or a participant, or NotSignedIn."""
    actor = current_actor()
    if actor is None:
        raise NotSignedIn()
    return actor


class AccountsIdentity:
    """Core's identity provider: facilitators by account, participants by join link."""

    def current_actor(self) -> Actor | None:
        """The facilitator if one is signed in, otherwise the participant, otherwise None."""
        return current_actor()

    def reference(self, db: Db, actor: Actor) -> dict[str, Any]:
        """The account and its session version, or the participant and their link's nonce."""
        if actor.facilitator is not None:
            reference: dict[str, Any] = {
                "f": actor.facilitator.id,
                "v": actor.facilitator.session_version,
            }
            key = g.get("sign_in_key") if has_request_context() else None
            if key:
                # Signed in with a cookie: the connection lasts as long as that sign-in.
                reference["s"] = key
            return reference
        assert actor.participant is not None
        nonce = db.scalar(
            select(JoinLink.nonce).where(JoinLink.participant_id == actor.participant.id)
        )
        return {"p": actor.participant.id, "n": nonce}

    def resolve(self, db: Db, reference: object) -> Actor | None:
        """The actor a reference names, if the account or join link is still valid."""
        if not isinstance(reference, dict):
            return None
        if "f" in reference:
            facilitator = db.get(Facilitator, reference["f"])
            if facilitator is None or not facilitator.active:
                return None
            if facilitator.session_version != reference.get("v"):
                return None
            key = reference.get("s")
            if key is not None and not db.scalar(
                select(SignInSession.id).where(
                    SignInSession.key == str(key), SignInSession.facilitator_id == facilitator.id
                )
            ):
                return None
            return Actor(facilitator=facilitator)
        participant = db.get(Participant, reference.get("p"))
        if participant is None:
            return None
        link = db.scalar(select(JoinLink).where(JoinLink.participant_id == participant.id))
        if link is None or link.revoked_at is not None or link.nonce != reference.get("n"):
            return None
        return Actor(participant=participant)


register_identity(AccountsIdentity())

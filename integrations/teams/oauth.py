"""The Microsoft identity platform's OAuth endpoints through authlib: authorise, code, refresh.

Only talking to Microsoft lives here; where tokens are kept and who may refresh them is in
`tokens.py`, and checking the id_token is in `claims.py`. Nothing in this module logs a token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from companion.config import Config
from companion.core.db import utcnow

#: OpenID Connect scopes of every authorisation: an id_token, its email and a refresh token.
SIGN_IN_SCOPES = ("openid", "profile", "email", "offline_access")
#: Delegated Microsoft Graph permissions (NOTES §1.2; short names mean Graph): who the user
#: is, their calendar (main meetings with invitations), online meetings (per-group meetings)
#: and the meetings' attendance reports.
GRAPH_SCOPES = (
    "User.Read",
    "Calendars.ReadWrite",
    "OnlineMeetings.ReadWrite",
    "OnlineMeetingArtifact.Read.All",
)
#: What connecting (and signing in with) Microsoft asks for.
REQUESTED_SCOPES = SIGN_IN_SCOPES + GRAPH_SCOPES

#: OAuth errors that mean the grant is gone and only a new authorisation helps (NOTES §1.3:
#: revoked, expired or password-changed refresh tokens answer `invalid_grant`;
#: `interaction_required` and `consent_required` need the person back in the browser).
DEAD_GRANT_ERRORS = frozenset({"invalid_grant", "interaction_required", "consent_required"})
#: Seconds to wait for Microsoft's sign-in service.
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class TokenSet:
    """A token answer of Microsoft's token endpoint."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    scopes: str
    #: The id_token (only when `openid` was requested: code redemption), unchecked here.
    id_token: str = ""

    def __repr__(self) -> str:
        # Keep tokens out of logs and tracebacks.
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scopes={self.scopes!r})"


class OAuthFailure(Exception):
    """The token endpoint refused (`error` is the OAuth error code) or could not be reached."""

    def __init__(self, error: str, description: str = "", *, temporary: bool = False) -> None:
        super().__init__(error)
        self.error = error
        #: Microsoft's error_description starts with an AADSTS code; kept for the log only.
        self.description = description
        #: A network problem, a 5xx or a 429: trying again later may work.
        self.temporary = temporary

    @property
    def grant_is_dead(self) -> bool:
        """Whether the refresh token (or code) will never work again."""
        return self.error in DEAD_GRANT_ERRORS

    @property
    def aadsts(self) -> str:
        """The AADSTS code at the start of Microsoft's description ("AADSTS70000"), if any."""
        head = self.description.split(":", 1)[0].strip()
        return head if head.startswith("AADSTS") else ""


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636: 43-128 characters of the unreserved set)."""
    return secrets.token_urlsafe(64)


def authority(config: Config) -> str:
    """The authority URL: `{login}/{tenant}` (NOTES §1.1; `organizations` by default)."""
    return f"{config.teams_login_url}/{config.teams_tenant}"


class MicrosoftOAuth:
    """Microsoft's OAuth endpoints for one configuration (client id, secret, authority)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        base = authority(config)
        self.authorize_endpoint = f"{base}/oauth2/v2.0/authorize"
        self.token_endpoint = f"{base}/oauth2/v2.0/token"

    def _session(self, redirect_uri: str | None = None) -> OAuth2Session:
        # NOTES §1.1: client_id and client_secret go in the form body.
        return OAuth2Session(
            client_id=self.config.teams_client_id,
            client_secret=self.config.teams_client_secret,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
            redirect_uri=redirect_uri,
            scope=" ".join(REQUESTED_SCOPES),
            code_challenge_method="S256",
            default_timeout=TIMEOUT_SECONDS,
        )

    def authorization_url(
        self,
        redirect_uri: str,
        *,
        state: str,
        nonce: str,
        code_verifier: str,
        login_hint: str = "",
        prompt: str = "",
    ) -> str:
        """Where to send the browser to sign in and consent (code + PKCE S256 + nonce)."""
        extra: dict[str, str] = {"response_mode": "query"}
        if login_hint:
            extra["login_hint"] = login_hint
        if prompt:
            extra["prompt"] = prompt
        with self._session(redirect_uri) as session:
            url, _state = session.create_authorization_url(
                self.authorize_endpoint,
                state=state,
                nonce=nonce,
                code_verifier=code_verifier,
                **extra,
            )
        return str(url)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        """Trade an authorisation code (single use, NOTES §1.1) for tokens and an id_token."""
        return self._call(
            lambda s: s.fetch_token(
                self.token_endpoint,
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier,
            ),
            redirect_uri,
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens for a refresh token; store the new refresh token at once (NOTES §1.3)."""
        return self._call(lambda s: s.refresh_token(self.token_endpoint, refresh_token))

    def _call(self, fetch: Any, redirect_uri: str | None = None) -> TokenSet:
        try:
            with self._session(redirect_uri) as session:
                answer = fetch(session)
        except AuthlibBaseError as exc:
            raise OAuthFailure(str(exc.error or "oauth_error"), exc.description or "") from None
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise OAuthFailure(f"http_{status}", temporary=status >= 429 or not status) from None
        except (requests.RequestException, ValueError) as exc:
            raise OAuthFailure("unreachable", type(exc).__name__, temporary=True) from None
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise OAuthFailure("unexpected_answer", temporary=True)
        return token_set(answer)


def token_set(answer: dict[str, Any]) -> TokenSet:
    """A TokenSet from a token endpoint answer (NOTES §1.1)."""
    expires_in = int(answer.get("expires_in") or 3599)
    return TokenSet(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer.get("refresh_token") or ""),
        expires_at=utcnow() + timedelta(seconds=expires_in),
        scopes=str(answer.get("scope") or ""),
        id_token=str(answer.get("id_token") or ""),
    )

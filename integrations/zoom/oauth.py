"""Zoom's OAuth endpoints through authlib: authorise (PKCE), code, refresh, S2S and revoke.

Only talking to Zoom lives here; where tokens are kept and who may refresh them is in
`tokens.py`. Nothing in this module logs a token.
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

#: OAuth errors that mean the grant is gone and only a new authorisation helps (NOTES §1.1:
#: a reused or dead refresh token answers `invalid_grant`; the status moved from 401 to 400).
DEAD_GRANT_ERRORS = frozenset({"invalid_grant", "invalid_token"})


@dataclass(frozen=True)
class TokenSet:
    """A token answer of Zoom's token endpoint."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    scopes: str
    #: Regional API base from a Server-to-Server answer (NOTES §1.2), e.g. https://api.zoom.us.
    api_url: str = ""

    def __repr__(self) -> str:
        # Keep tokens out of logs and tracebacks.
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scopes={self.scopes!r})"


class OAuthFailure(Exception):
    """Zoom's token endpoint refused (`error` is the OAuth error code) or could not be reached."""

    def __init__(self, error: str, description: str = "", *, temporary: bool = False) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        #: A network problem or a 5xx/429: trying again later may work.
        self.temporary = temporary

    @property
    def grant_is_dead(self) -> bool:
        """Whether the refresh token (or code) will never work again."""
        return self.error in DEAD_GRANT_ERRORS


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636: 43-128 characters of the unreserved set)."""
    return secrets.token_urlsafe(64)


class ZoomOAuth:
    """Zoom's OAuth endpoints for one configuration (client id, secret, OAuth base URL)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.authorize_endpoint = f"{config.zoom_oauth_url}/oauth/authorize"
        self.token_endpoint = f"{config.zoom_oauth_url}/oauth/token"
        self.revoke_endpoint = f"{config.zoom_oauth_url}/oauth/revoke"

    def _session(self, redirect_uri: str | None = None) -> OAuth2Session:
        # NOTES §1.1: the token endpoint takes HTTP Basic client credentials and a form body.
        return OAuth2Session(
            client_id=self.config.zoom_client_id,
            client_secret=self.config.zoom_client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            revocation_endpoint_auth_method="client_secret_basic",
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            default_timeout=self.config.zoom_timeout_seconds,
        )

    def authorization_url(self, redirect_uri: str, state: str, code_verifier: str) -> str:
        """Where to send the browser to authorise the app (PKCE S256, NOTES §1.1)."""
        with self._session(redirect_uri) as session:
            url, _state = session.create_authorization_url(
                self.authorize_endpoint, state=state, code_verifier=code_verifier
            )
        return str(url)

    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenSet:
        """Trade an authorisation code (single use, 5 minutes, NOTES §1.1) for tokens."""
        extra: dict[str, Any] = {"code_verifier": code_verifier} if code_verifier else {}
        return self._call(
            lambda s: s.fetch_token(
                self.token_endpoint,
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                **extra,
            ),
            redirect_uri,
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens for a refresh token; Zoom invalidates the old one at once (NOTES §1.1)."""
        return self._call(lambda s: s.refresh_token(self.token_endpoint, refresh_token))

    def account_token(self, account_id: str) -> TokenSet:
        """A Server-to-Server token for the organisation's own account (NOTES §1.2)."""
        return self._call(
            lambda s: s.fetch_token(
                self.token_endpoint, grant_type="account_credentials", account_id=account_id
            )
        )

    def revoke(self, token: str) -> None:
        """Revoke the grant the token belongs to (NOTES §1.4: it uninstalls the app)."""
        try:
            with self._session() as session:
                response = session.revoke_token(self.revoke_endpoint, token=token)
        except requests.RequestException as exc:
            raise OAuthFailure("unreachable", type(exc).__name__, temporary=True) from None
        if response.status_code >= 400:
            raise OAuthFailure(
                f"http_{response.status_code}", temporary=response.status_code >= 500
            )

    def _call(self, fetch: Any, redirect_uri: str | None = None) -> TokenSet:
        try:
            with self._session(redirect_uri) as session:
                answer = fetch(session)
        except AuthlibBaseError as exc:
            raise OAuthFailure(str(exc.error or "oauth_error"), exc.description or "") from None
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise OAuthFailure(f"http_{status}", temporary=True) from None
        except (requests.RequestException, ValueError) as exc:
            raise OAuthFailure("unreachable", type(exc).__name__, temporary=True) from None
        if not isinstance(answer, dict) or not answer.get("access_token"):
            # A 429 or another answer without an OAuth error code (NOTES §2.4: odd bodies).
            raise OAuthFailure("unexpected_answer", temporary=True)
        return token_set(answer)


def token_set(answer: dict[str, Any]) -> TokenSet:
    """A TokenSet from a token endpoint answer."""
    # NOTES §1.1: {access_token, token_type, refresh_token, expires_in (~3599), scope}.
    expires_in = int(answer.get("expires_in") or 3599)
    return TokenSet(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer.get("refresh_token") or ""),
        expires_at=utcnow() + timedelta(seconds=expires_in),
        scopes=str(answer.get("scope") or ""),
        api_url=str(answer.get("api_url") or ""),
    )

"""What the fake knows: its settings, users, OAuth apps, tokens and clock (`ZoomState`).

The other parts of :class:`FakeZoom` are mixins over this state.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer
from werkzeug.wrappers import Response

from tests.fakes.zoom.formats import jwt_like, new_user_id
from tests.fakes.zoom.records import (
    AuthCode,
    FakeUser,
    Injection,
    OAuthApp,
    PastInstance,
    RecordedRequest,
    StoredMeeting,
    Token,
)
from tests.fakes.zoom.spec import SPEC_PATH, cached_spec

JSON_TYPE = "application/json;charset=UTF-8"


class ZoomState:
    """The fake's state; `FakeZoom` adds the server, the endpoints and the test controls."""

    def __init__(
        self,
        *,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        redirect_uris: Iterable[str] = (
            "http://localhost/oauth/zoom/callback",
            "http://localhost:5000/oauth/zoom/callback",
            "http://127.0.0.1:5000/oauth/zoom/callback",
        ),
        account_id: str = "fakeAccountId0001",
        s2s_client_id: str = "fake-s2s-client-id",
        s2s_client_secret: str = "fake-s2s-client-secret",
        access_token_ttl: int = 3599,
        daily_meeting_limit: int = 100,
        spec_path: Path | str = SPEC_PATH,
        host: str = "127.0.0.1",
    ) -> None:
        self._defaults = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris),
            "account_id": account_id,
            "s2s_client_id": s2s_client_id,
            "s2s_client_secret": s2s_client_secret,
            "access_token_ttl": access_token_ttl,
            "daily_meeting_limit": daily_meeting_limit,
        }
        self.spec_path = Path(spec_path)
        self.openapi = cached_spec(self.spec_path)
        self._lock = threading.RLock()
        self._validate_lock = threading.Lock()
        self._wake = threading.Event()
        self._host = host
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._reset_state()

    def _reset_state(self) -> None:
        d = self._defaults
        self.client_id: str = d["client_id"]
        self.client_secret: str = d["client_secret"]
        self.account_id: str = d["account_id"]
        self.s2s_client_id: str = d["s2s_client_id"]
        self.s2s_client_secret: str = d["s2s_client_secret"]
        #: Seconds an access token lives; also the ``expires_in`` answered (NOTES §1.1).
        self.access_token_ttl: int = d["access_token_ttl"]
        #: Authorisation codes live 5 minutes and are single-use (NOTES §1.1).
        self.code_ttl: int = 300
        #: Create+update requests per host user per UTC day (NOTES §2.1).
        self.daily_meeting_limit: int = d["daily_meeting_limit"]
        #: Flag an authorise request without ``state`` (our CSRF rule, not Zoom's).
        self.require_state: bool = True
        #: Past-participants answers are empty for one-participant meetings (NOTES §3).
        self.hide_single_participant: bool = True
        #: Auto-generate a passcode when none is sent (NOTES §2.1 "account enforces").
        self.enforce_passcode: bool = True
        #: The next authorise request is refused (``error=access_denied``) once.
        self.deny_next_authorization: bool = False
        self.clock_offset: float = 0.0

        self.violations: list[str] = []
        self.self_violations: list[str] = []
        self.requests: list[RecordedRequest] = []
        self.token_requests: Counter[str] = Counter()
        self.token_log: list[dict[str, Any]] = []
        self.injections: list[Injection] = []

        self.users: dict[str, FakeUser] = {}
        self.apps: dict[str, OAuthApp] = {}
        self._tokens: dict[str, Token] = {}
        self._codes: dict[str, AuthCode] = {}
        self._meetings: dict[int, StoredMeeting] = {}
        self._past: dict[str, PastInstance] = {}
        self._past_by_meeting: dict[int, list[str]] = {}
        self._page_tokens: dict[str, tuple[str, int, float]] = {}
        self._daily: Counter[tuple[str, str]] = Counter()
        self._ids = itertools.count(1)

        self.default_user = self.add_user(
            id="fakeHostUserId0001AbCd", email="host@example.com", account_id=self.account_id
        )
        self._next_user_id = self.default_user.id
        self.register_app(self.client_id, self.client_secret, d["redirect_uris"])
        self.register_app(
            self.s2s_client_id, self.s2s_client_secret, [], account_id=self.account_id
        )

    # ---------------------------------------------------------------- URLs and clock

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base of the Meeting API (``base_url + "/v2"``)."""
        return f"{self.base_url}/v2"

    @property
    def oauth_url(self) -> str:
        """Base of the OAuth endpoints (``/oauth/authorize``, ``/oauth/token``, ...)."""
        return self.base_url

    @property
    def redirect_uris(self) -> list[str]:
        """The default app's OAuth allow list (mutable)."""
        return self.apps[self.client_id].redirect_uris

    def now(self) -> float:
        """The fake's clock (real time plus :attr:`clock_offset`)."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (token/code expiry, page tokens, the daily limit)."""
        with self._lock:
            self.clock_offset += seconds

    # ---------------------------------------------------------------- users and apps

    def add_user(
        self,
        *,
        id: str | None = None,
        email: str | None = None,
        account_id: str | None = None,
        **extra: Any,
    ) -> FakeUser:
        """Create a Zoom user (default: in the fake's account) and return it."""
        with self._lock:
            uid = id or new_user_id()
            user = FakeUser(
                id=uid,
                email=email or f"user{len(self.users) + 1}@example.com",
                account_id=account_id or self.account_id,
                **extra,
            )
            self.users[uid] = user
            return user

    @property
    def next_authorizing_user(self) -> FakeUser:
        """The user who clicks "Allow" on the next (and later) authorise requests."""
        return self.users[self._next_user_id]

    @next_authorizing_user.setter
    def next_authorizing_user(self, user: FakeUser) -> None:
        with self._lock:
            self.users.setdefault(user.id, user)
            self._next_user_id = user.id

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: Iterable[str] = (),
        *,
        account_id: str | None = None,
        scope: str | None = None,
    ) -> OAuthApp:
        """Register an OAuth app; with ``account_id`` it is a Server-to-Server app."""
        with self._lock:
            app = OAuthApp(client_id, client_secret, list(redirect_uris), account_id)
            if scope is not None:
                app.scope = scope
            self.apps[client_id] = app
            return app

    # ---------------------------------------------------------------- tokens

    def _issue(self, app: OAuthApp, user: FakeUser, *, s2s: bool = False) -> dict[str, Any]:
        grant_id = secrets.token_hex(8)
        now = self.now()
        access = jwt_like({"aud": app.client_id, "uid": user.id, "typ": "access"})
        self._tokens[access] = Token(
            access, "access", app.client_id, user.id, user.account_id, app.scope, grant_id,
            now + self.access_token_ttl, s2s,
        )  # fmt: skip
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_token_ttl,
            "scope": app.scope,
        }
        if s2s:
            # NOTES §1.2: S2S answers carry api_url and no refresh token.
            answer["api_url"] = self.base_url
        else:
            # NOTES §1.1: refresh tokens live "15 years"; never expire here.
            refresh = jwt_like({"aud": app.client_id, "uid": user.id, "typ": "refresh"})
            self._tokens[refresh] = Token(
                refresh, "refresh", app.client_id, user.id, user.account_id, app.scope,
                grant_id, None,
            )  # fmt: skip
            answer["refresh_token"] = refresh
        return answer

    def issue_tokens(
        self, user: FakeUser | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        """Shortcut for tests: a token answer as if ``user`` had authorised the app."""
        with self._lock:
            app = self.apps[client_id or self.client_id]
            return self._issue(app, user or self.next_authorizing_user, s2s=bool(app.account_id))

    def expire_access_tokens(self) -> None:
        """Expire every access token now (API calls then get 401 code 124)."""
        with self._lock:
            for tok in self._tokens.values():
                if tok.kind == "access":
                    tok.expires_at = self.now() - 1

    def token_is_valid(self, token: str) -> bool:
        """True if ``token`` (access or refresh) is known, not revoked and not expired."""
        with self._lock:
            tok = self._tokens.get(token)
            return bool(tok and not tok.revoked and not self._expired(tok))

    def _expired(self, tok: Token) -> bool:
        return tok.expires_at is not None and tok.expires_at <= self.now()

    # ---------------------------------------------------------------- answers

    @staticmethod
    def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status, dict(headers or {}), content_type=JSON_TYPE)

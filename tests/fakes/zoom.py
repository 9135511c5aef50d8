"""A fake Zoom: a real local HTTP server that answers like Zoom and checks every request.

The fake serves Zoom's OAuth endpoints (authorise, token, revoke) and the Meeting API
operations of ``meetings-openapi.json`` (a verbatim copy of ``shared/specs/zoom/``, see
``SOURCE.md`` there). Every ``/v2`` request is validated against that OpenAPI description
with openapi-core; OAuth requests are checked by hand against NOTES §1. Each mismatch is
appended to :attr:`FakeZoom.violations` and answered the way Zoom answers a bad request.

References of the form "NOTES §x" point to ``shared/specs/zoom/NOTES.md``.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import hashlib
import hmac
import itertools
import json
import math
import os
import re
import secrets
import struct
import threading
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.datatypes import RequestParameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from openapi_core.templating.paths.exceptions import OperationNotFound, PathError
from openapi_core.validation.request.exceptions import SecurityValidationError
from openapi_core.validation.request.validators import V30RequestValidator
from werkzeug.datastructures import Headers
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

__all__ = [
    "SPEC_PATH",
    "FakeUser",
    "FakeZoom",
    "Injection",
    "OAuthApp",
    "RecordedRequest",
]

#: The OpenAPI description the fake validates against (override with KOLLEGA_ZOOM_OPENAPI).
SPEC_PATH = Path(
    os.environ.get("KOLLEGA_ZOOM_OPENAPI", Path(__file__).with_name("meetings-openapi.json"))
)
#: Server URL of the spec (``servers[0].url``); requests are validated as if sent there.
SPEC_HOST = "https://api.zoom.us"

JSON_TYPE = "application/json;charset=UTF-8"

# NOTES §2.1: the exact 429 text of the per-user 100/day create+update limit.
DAILY_LIMIT_MESSAGE = (
    "You have exceeded the daily rate limit ({limit}) of Meeting Create/Update API requests "
    "permitted for this particular user. You may resume these requests at GMT 00:00:00."
)
# [guess] Texts of account-level 429s (QPS / daily), not in NOTES; body code 429 is a guess.
QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = (
    "You have reached the maximum daily rate limit for this API. Refer to the response header "
    "for details on when you can make another request."
)

# NOTES §2.1: password ≤ 10 chars of [A-Za-z0-9@-_*].
_PASSWORD_RE = re.compile(r"^[A-Za-z0-9@\-_*]{0,10}$")
# NOTES §2.1: `yyyy-MM-ddTHH:mm:ssZ` (UTC) or local `yyyy-MM-ddTHH:mm:ss` + `timezone`.
_START_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", re.IGNORECASE
)

_DEFAULT = object()
# Fields of a meeting in `GET /users/{userId}/meetings` (spec: meetings[] items).
_LIST_FIELDS = (
    "uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "agenda",
    "created_at", "join_url",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


@dataclass
class FakeUser:
    """A Zoom user of the fake (the person who clicks "Allow" in the authorise step)."""

    id: str
    email: str
    account_id: str
    first_name: str = "Fake"
    last_name: str = "Host"
    timezone: str = "UTC"
    type: int = 2  # 2 = licensed (Pro): past-participant APIs need a paid plan (NOTES §3)

    def as_json(self) -> dict[str, Any]:
        """The user as ``GET /users/me`` shows it."""
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": f"{self.first_name} {self.last_name}",
            "email": self.email,
            "type": self.type,
            "role_name": "Owner",
            "pmi": 5550000000 + (int(hashlib.sha256(self.id.encode()).hexdigest(), 16) % 10**6),
            "timezone": self.timezone,
            "account_id": self.account_id,
            "status": "active",
            "language": "en-US",
        }


@dataclass
class OAuthApp:
    """A registered OAuth app: user-managed (``account_id`` None) or Server-to-Server."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    account_id: str | None = None  # set => Server-to-Server OAuth app (NOTES §1.2)
    scope: str = "meeting:read meeting:write user:read"


@dataclass
class Injection:
    """A fault to inject into the next ``times`` requests matching ``method`` and ``path``."""

    method: str
    path: str
    status: int | None = None
    times: int | None = 1
    retry_after: str | int | None = None
    retry_in: float = 1.0
    rate_limit_type: str | None = None
    category: str | None = None
    delay: float = 0.0
    body: Any = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str, raw_path: str) -> bool:
        """True if this injection applies to a request (glob on the path, ``*`` method)."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return any(fnmatch.fnmatchcase(p, self.path) for p in (path, raw_path))


@dataclass
class RecordedRequest:
    """One request the fake received (Authorization and Cookie headers left out)."""

    method: str
    path: str
    raw_path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    body: bytes
    time: float
    auth_scheme: str | None = None
    client_id: str | None = None
    user_id: str | None = None
    status: int | None = None
    injected: bool = False


# --------------------------------------------------------------------------------------------
# Internal state types
# --------------------------------------------------------------------------------------------


@dataclass
class _Token:
    value: str
    kind: Literal["access", "refresh"]
    client_id: str
    user_id: str
    account_id: str
    scope: str
    grant_id: str
    expires_at: float | None
    s2s: bool = False
    revoked: bool = False


@dataclass
class _AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    challenge: str | None
    method: str
    expires_at: float
    used: bool = False


@dataclass
class _Meeting:
    data: dict[str, Any]
    host_id: str
    account_id: str


@dataclass
class _PastInstance:
    uuid: str
    meeting_id: int | None
    host_id: str
    account_id: str
    topic: str
    start_time: str
    end_time: str
    participants: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Ctx:
    """What one API request carries once authenticated."""

    token: _Token
    user: FakeUser


class _ZoomError(Exception):
    """An error answer in Zoom's shape ``{"code": .., "message": ..}``."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message, **extra}


# --------------------------------------------------------------------------------------------
# openapi-core wiring
# --------------------------------------------------------------------------------------------


class _BearerProvider(BaseProvider):
    """openapi-core ships no oauth2 provider (it only warns); require a bearer token."""

    def __call__(self, parameters: RequestParameters) -> Any:
        value = parameters.header.get("Authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SecurityProviderError("Missing bearer token in Authorization header.")
        return token


class _ZoomSecurityFactory(SecurityProviderFactory):
    PROVIDERS: ClassVar[dict[str, type[BaseProvider]]] = {
        **SecurityProviderFactory.PROVIDERS,
        "oauth2": _BearerProvider,
    }


class _ZoomRequestValidator(V30RequestValidator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["security_provider_factory"] = _ZoomSecurityFactory()
        super().__init__(*args, **kwargs)


def _zoom_date_time(value: object) -> bool:
    # NOTES §2.1: Zoom takes `…Z` (UTC) and local `yyyy-MM-ddTHH:mm:ss` (with `timezone`),
    # which plain RFC 3339 would reject; offsets are RFC 3339 and accepted too.
    return not isinstance(value, str) or bool(_START_TIME_RE.match(value))


class _SpecRequest(WerkzeugOpenAPIRequest):
    """A Werkzeug request seen as sent to the spec's server, with the undecoded path."""

    def __init__(self, request: Request, raw_path: str) -> None:
        super().__init__(request)
        self._raw_path = raw_path

    @property
    def host_url(self) -> str:
        return SPEC_HOST

    @property
    def path(self) -> str:
        return self._raw_path


def _load_spec(path: Path) -> OpenAPI:
    config = Config(
        request_validator_cls=_ZoomRequestValidator,
        extra_format_validators={"date-time": _zoom_date_time},
    )
    return OpenAPI.from_file_path(str(path), config=config)


_SPEC_CACHE: dict[Path, OpenAPI] = {}
_SPEC_CACHE_LOCK = threading.Lock()


def _spec(path: Path) -> OpenAPI:
    with _SPEC_CACHE_LOCK:
        if path not in _SPEC_CACHE:
            _SPEC_CACHE[path] = _load_spec(path)
        return _SPEC_CACHE[path]


def _field_name(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe_errors(errors: list[Exception]) -> tuple[list[str], list[dict[str, str]]]:
    """Readable details and Zoom ``errors[]`` entries for openapi-core errors."""
    details: list[str] = []
    fields: list[dict[str, str]] = []
    for err in errors:
        details.append(f"{type(err).__name__}: {err}")
        name = getattr(err, "name", None)
        cause = err.__cause__
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            for sub in schema_errors:
                field_name = _field_name(sub.absolute_path) or (name or "body")
                details.append(f"  - {field_name}: {sub.message}")
                fields.append({"field": field_name, "message": "Invalid field."})
        elif cause is not None:
            details.append(f"  - {cause}")
            fields.append({"field": name or "body", "message": "Invalid field."})
        elif name:
            fields.append({"field": name, "message": "Invalid field."})
    unique = list({(f["field"], f["message"]): f for f in fields}.values())
    return details, unique


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _iso(ts: float) -> str:
    """Zoom's timestamp format, e.g. ``2019-08-30T22:00:00Z`` (NOTES §2.1)."""
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_uuid() -> str:
    """A meeting-instance UUID as Zoom makes them: base64 of 16 bytes (may hold ``/``)."""
    return base64.b64encode(secrets.token_bytes(16)).decode()


def _new_user_id() -> str:
    return _b64url(secrets.token_bytes(16))


def _jwt_like(claims: dict[str, Any]) -> str:
    # Zoom tokens are long JWT-shaped strings (~700 chars): catches VARCHAR(255) columns.
    header = _b64url(json.dumps({"alg": "HS512", "v": "2.0", "kid": "fake"}).encode())
    body = {**claims, "nonce": secrets.token_hex(160)}
    return f"{header}.{_b64url(json.dumps(body).encode())}.{_b64url(secrets.token_bytes(64))}"


def _parse_start_time(value: str, tz_name: str) -> float:
    """Seconds since epoch for a Zoom ``start_time`` (naive values are in ``tz_name``)."""
    text = value.replace("z", "Z")
    text = text[:-1] + "+00:00" if text.endswith("Z") else text
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        try:
            when = when.replace(tzinfo=zoneinfo.ZoneInfo(tz_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _decode_meeting_key(raw_segment: str) -> tuple[str, bool]:
    """Zoom's reading of a past-meeting path segment; second item False if single-encoded.

    NOTES §3 / spec: UUIDs that begin with ``/`` or contain ``//`` must be double-encoded.
    Zoom's front end decodes ``%2F`` once and collapses ``//`` before routing, so a
    single-encoded such UUID ends up as a different (unknown) id: model that as "not found".
    """
    once = unquote(raw_segment)
    if once.startswith("/") or "//" in once:
        return once, False
    if "%" in once:  # double-encoded: decode the second layer
        return unquote(once), True
    return once, True


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Keep test output clean."""

    def log_error(self, format: str, *args: Any) -> None:
        """Keep test output clean (client timeouts drop connections on purpose)."""


_Handler = Callable[[Request, "_Ctx", dict[str, str]], Response]


class FakeZoom:
    """A fake Zoom (OAuth + Meeting API) on ``127.0.0.1`` in a background thread.

    Use as a context manager or call :meth:`start` / :meth:`stop`. Tests normally get one
    from the ``fake_zoom`` fixture (``tests.fakes.zoom_fixture``).
    """

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
        self.openapi = _spec(self.spec_path)
        self._lock = threading.RLock()
        self._validate_lock = threading.Lock()
        self._wake = threading.Event()
        self._host = host
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._reset_state()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeZoom:
        """Start serving on a free port; returns ``self``."""
        if self._server is None:
            self._server = make_server(
                self._host, 0, self._wsgi, threaded=True, request_handler=_QuietHandler
            )
            self.port = self._server.port
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fake-zoom-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server (wakes up any slow answers still sleeping)."""
        self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def __enter__(self) -> FakeZoom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget all state (users, apps, tokens, meetings, logs, injections, clock offset)."""
        self._wake.set()
        with self._lock:
            self._wake = threading.Event()
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
        self._tokens: dict[str, _Token] = {}
        self._codes: dict[str, _AuthCode] = {}
        self._meetings: dict[int, _Meeting] = {}
        self._past: dict[str, _PastInstance] = {}
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
            uid = id or _new_user_id()
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
        access = _jwt_like({"aud": app.client_id, "uid": user.id, "typ": "access"})
        self._tokens[access] = _Token(
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
            refresh = _jwt_like({"aud": app.client_id, "uid": user.id, "typ": "refresh"})
            self._tokens[refresh] = _Token(
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

    def _expired(self, tok: _Token) -> bool:
        return tok.expires_at is not None and tok.expires_at <= self.now()

    # ---------------------------------------------------------------- faults

    def inject(
        self,
        method: str,
        path: str,
        status: int | None = None,
        *,
        times: int | None = 1,
        retry_after: str | int | None = None,
        retry_in: float = 1.0,
        rate_limit_type: str | None = None,
        category: str | None = None,
        delay: float = 0.0,
        body: Any = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Injection:
        """Make the next ``times`` (None: all) requests matching ``method``/``path`` misbehave.

        ``path`` is a glob on the request path (``/v2/meetings/*``), ``method`` may be ``*``.
        ``status`` answers with that status instead of the real handler (401 and 429 get
        Zoom's bodies, 502/503 an HTML page as gateways send); with no status the request
        is handled normally (so a slow create still creates the meeting) and only ``delay``
        applies. ``retry_after``: ``"seconds"`` → ``Retry-After: <retry_in>``, ``"date"`` →
        ISO-8601 time ``retry_in`` from now (NOTES §2.5), ``"http-date"`` → RFC 7231 date,
        an int or other string → sent as is. ``rate_limit_type`` (default ``QPS``, or
        ``Daily-limit`` with a date) and ``category`` (default ``Light``) fill the
        ``X-RateLimit-*`` headers of a 429; ``""`` leaves one out. ``delay`` sleeps that long
        before answering.
        """
        inj = Injection(
            method=method,
            path=path,
            status=status,
            times=times,
            retry_after=retry_after,
            retry_in=retry_in,
            rate_limit_type=rate_limit_type,
            category=category,
            delay=delay,
            body=body,
            content_type=content_type,
            headers=dict(headers or {}),
        )
        with self._lock:
            self.injections.append(inj)
        return inj

    def clear_injections(self) -> None:
        """Remove all pending injections."""
        with self._lock:
            self.injections.clear()

    # ---------------------------------------------------------------- assertions helpers

    def count(self, method: str, path: str) -> int:
        """How many requests matched ``method`` and ``path`` (exact or glob)."""
        return len(self.requests_to(method, path))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests matching ``method`` (or ``*``) and ``path`` (or a glob)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper())
                and any(fnmatch.fnmatchcase(p, path) for p in (r.path, r.raw_path))
            ]

    def take_violations(self) -> list[str]:
        """Return and clear the recorded violations (for tests that provoke them)."""
        with self._lock:
            out, self.violations = self.violations, []
            return out

    def meeting(self, meeting_id: int | str) -> dict[str, Any]:
        """A copy of the stored meeting as ``GET /meetings/{id}`` would show it."""
        with self._lock:
            return json.loads(json.dumps(self._meetings[int(meeting_id)].data))

    def meetings(self, user: FakeUser | None = None) -> list[dict[str, Any]]:
        """Copies of all stored meetings, or only those hosted by ``user``."""
        with self._lock:
            return [
                json.loads(json.dumps(m.data))
                for m in self._meetings.values()
                if user is None or m.host_id == user.id
            ]

    def start_meeting(self, meeting_id: int | str) -> None:
        """Mark a meeting as started (``status: started``)."""
        with self._lock:
            self._meetings[int(meeting_id)].data["status"] = "started"

    def end_meeting(
        self, meeting_id: int | str, participants: Iterable[Mapping[str, Any]] = ()
    ) -> str:
        """End the current instance of a meeting, store its participants, return its UUID.

        The meeting gets a fresh UUID for its next instance, as with recurring meetings.
        """
        with self._lock:
            meeting = self._meetings[int(meeting_id)]
            uuid = meeting.data["uuid"]
            self._add_past(uuid, int(meeting_id), participants)
            meeting.data["status"] = "waiting"
            meeting.data["uuid"] = _new_uuid()
            return uuid

    def add_past_participants(
        self,
        meeting_id_or_uuid: int | str,
        participants: Iterable[Mapping[str, Any]],
        *,
        meeting_id: int | None = None,
    ) -> str:
        """Add participants to a past meeting instance and return the instance UUID.

        A numeric id means its latest instance (created if none); any other string is an
        instance UUID (give ``meeting_id`` to link it to a meeting). Missing participant
        fields get defaults. A one-participant instance answers with no participants
        (NOTES §3) unless :attr:`hide_single_participant` is False.
        """
        key = str(meeting_id_or_uuid)
        with self._lock:
            if key.isdigit():
                mid = int(key)
                uuids = self._past_by_meeting.get(mid)
                if uuids:
                    uuid = uuids[-1]
                else:
                    stored = self._meetings.get(mid)
                    uuid = stored.data["uuid"] if stored else _new_uuid()
                return self._add_past(uuid, mid, participants)
            return self._add_past(key, meeting_id, participants)

    def _add_past(
        self, uuid: str, meeting_id: int | None, participants: Iterable[Mapping[str, Any]]
    ) -> str:
        inst = self._past.get(uuid)
        if inst is None:
            stored = self._meetings.get(meeting_id) if meeting_id is not None else None
            host = self.users.get(stored.host_id) if stored else self.default_user
            assert host is not None
            now = self.now()
            inst = _PastInstance(
                uuid=uuid,
                meeting_id=meeting_id,
                host_id=host.id,
                account_id=host.account_id,
                topic=stored.data.get("topic", "Meeting") if stored else "Meeting",
                start_time=_iso(now - 3600),
                end_time=_iso(now - 60),
            )
            self._past[uuid] = inst
            if meeting_id is not None:
                self._past_by_meeting.setdefault(meeting_id, []).append(uuid)
        for given in participants:
            n = len(inst.participants) + 1
            part: dict[str, Any] = {
                "id": f"pid{n:04d}{secrets.token_hex(4)}",
                "name": f"Participant {n}",
                "user_id": str(16778240 + n),
                "registrant_id": "",
                "user_email": f"participant{n}@example.com",
                "join_time": inst.start_time,
                "leave_time": inst.end_time,
                "duration": 3540,
                "failover": False,
                "status": "in_meeting",
            }
            part.update(given)
            inst.participants.append(part)
        return uuid

    # ---------------------------------------------------------------- input builders

    def sign_webhook(
        self, body: bytes, secret: str, timestamp: int | None = None
    ) -> dict[str, str]:
        """Headers Zoom sends with a webhook body (NOTES §4; timestamp: real epoch seconds)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        message = b"v0:" + ts.encode() + b":" + body
        mac = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        return {
            "x-zm-signature": f"v0={mac}",
            "x-zm-request-timestamp": ts,
            "content-type": "application/json; charset=utf-8",
        }

    @staticmethod
    def url_validation_answer(plain_token: str, secret: str) -> dict[str, str]:
        """The answer Zoom expects to ``endpoint.url_validation`` (NOTES §4)."""
        enc = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
        return {"plainToken": plain_token, "encryptedToken": enc}

    def make_app_context(
        self,
        client_secret: str | None = None,
        *,
        uid: Any = _DEFAULT,
        mid: str | None = None,
        typ: str = "panel",
        ts_ms: int | None = None,
        exp_ms: int | None = None,
        aud: str | None = None,
        iss: str = "marketplace.zoom.us",
        attendrole: str | None = "host",
        extra: Mapping[str, Any] | None = None,
        aad: bytes = b"",
        iv: bytes | None = None,
        urlsafe: bool = False,
    ) -> str:
        """An ``x-zoom-app-context`` header value (NOTES §5.1), encrypted like Zoom does.

        Layout ``[ivLen:1][iv][aadLen:2 LE][aad][ctLen:4 LE][ct][tag:16]``, AES-256-GCM with
        key SHA-256(client_secret), base64 (``urlsafe`` for base64url). ``uid=None`` omits
        the user id (guest mode); ``ts``/``exp`` are epoch ms on the real clock, exp = ts +
        120 s by default. ``aud`` defaults to the default app's client_id.
        """
        now_ms = int(time.time() * 1000) if ts_ms is None else ts_ms
        ctx: dict[str, Any] = {
            "typ": typ,
            "uid": self.default_user.id if uid is _DEFAULT else uid,
            "mid": mid if mid is not None else _new_uuid(),
            "ts": now_ms,
            "exp": now_ms + 120_000 if exp_ms is None else exp_ms,
            "iss": iss,
            "aud": aud if aud is not None else self.client_id,
            "attendrole": attendrole,
        }
        ctx.update(extra or {})
        ctx = {k: v for k, v in ctx.items() if v is not None}
        key = hashlib.sha256((client_secret or self.client_secret).encode()).digest()
        nonce = iv if iv is not None else secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, json.dumps(ctx).encode(), aad)
        ct, tag = sealed[:-16], sealed[-16:]
        raw = (
            bytes([len(nonce)])
            + nonce
            + struct.pack("<H", len(aad))
            + aad
            + struct.pack("<i", len(ct))
            + ct
            + tag
        )
        encoder = base64.urlsafe_b64encode if urlsafe else base64.b64encode
        return encoder(raw).decode()

    # ---------------------------------------------------------------- WSGI entry

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(request.path)
        raw_path = urlsplit(raw_uri).path or "/"
        record = self._record(request, raw_path)
        response, extra_delay = self._dispatch(request, raw_path, record)
        if extra_delay:
            self._wake.wait(extra_delay)
        record.status = response.status_code
        return response(environ, start_response)

    def _record(self, request: Request, raw_path: str) -> RecordedRequest:
        body = request.get_data(cache=True)
        payload: Any = None
        if request.mimetype == "application/json" and body:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        auth = request.headers.get("Authorization", "")
        scheme = auth.partition(" ")[0].lower() or None
        client_id = None
        if scheme == "basic":
            client_id = self._basic_credentials(request)[0] if auth else None
        rec = RecordedRequest(
            method=request.method,
            path=request.path,
            raw_path=raw_path,
            query={k: request.args.getlist(k) for k in request.args},
            headers={
                k: v
                for k, v in request.headers.items()
                if k.lower() not in {"authorization", "cookie"}
            },
            json=payload,
            form=dict(request.form)
            if request.mimetype == "application/x-www-form-urlencoded"
            else {},
            body=body,
            time=time.time(),
            auth_scheme=scheme,
            client_id=client_id,
        )
        with self._lock:
            tok = self._tokens.get(auth.partition(" ")[2]) if scheme == "bearer" else None
            rec.user_id = tok.user_id if tok else None
            self.requests.append(rec)
        return rec

    def _violation(self, request: Request, raw_path: str, details: Iterable[str]) -> None:
        text = f"{request.method} {raw_path}" + "".join(f"\n    {d}" for d in details)
        with self._lock:
            self.violations.append(text)

    def _dispatch(
        self, request: Request, raw_path: str, record: RecordedRequest
    ) -> tuple[Response, float]:
        if raw_path.startswith("/oauth/"):
            problems = self._check_oauth_request(request, raw_path)
        elif raw_path.startswith("/v2/"):
            problems = self._check_api_request(request, raw_path)
        else:
            problems = []
        if problems:
            self._violation(request, raw_path, [p for p, _ in problems])

        with self._lock:
            inj = next(
                (i for i in self.injections if i.matches(request.method, request.path, raw_path)),
                None,
            )
            if inj is not None:
                inj.hits += 1
        if inj is not None and inj.status is not None:
            record.injected = True
            self._wake.wait(inj.delay)
            return self._injected_response(inj), 0.0
        delay = inj.delay if inj is not None else 0.0

        try:
            if raw_path.startswith("/oauth/"):
                return self._oauth(request, raw_path, problems), delay
            if raw_path.startswith("/v2/"):
                return self._api(request, raw_path, problems), delay
        except _ZoomError as err:
            return self._json(err.body, err.status), delay
        return Response("Not Found", 404, content_type="text/html"), delay

    def _injected_response(self, inj: Injection) -> Response:
        status = inj.status or 500
        headers = Headers(inj.headers)
        body: Any = inj.body
        content_type = inj.content_type
        if status == 429:
            # NOTES §2.5 headers; "" leaves one out (as observed for the 100/day limit).
            rl_type = inj.rate_limit_type
            if rl_type is None:
                rl_type = "Daily-limit" if inj.retry_after == "date" else "QPS"
            if rl_type:
                headers.setdefault("X-RateLimit-Type", rl_type)
            if inj.category != "":
                headers.setdefault("X-RateLimit-Category", inj.category or "Light")
            if rl_type == "QPS":
                headers.setdefault("X-RateLimit-Limit", "30")
                headers.setdefault("X-RateLimit-Remaining", "0")
            if body is None:
                message = DAILY_MESSAGE if rl_type == "Daily-limit" else QPS_MESSAGE
                body = {"code": 429, "message": message}
        elif status == 401 and body is None:
            body = {"code": 124, "message": "Access token is expired."}
        elif status in (502, 503, 504) and body is None:
            # [guess] gateway errors come as HTML, not Zoom JSON (NOTES §2.4: don't assume JSON)
            body = f"<html><body><h1>{status} Service Unavailable</h1></body></html>"
            content_type = content_type or "text/html"
        elif body is None:
            body = {"code": status, "message": "Internal Server Error"}
        if inj.retry_after is not None:
            headers["Retry-After"] = self._retry_after_value(inj)
        if isinstance(body, (dict, list)):
            return Response(
                json.dumps(body), status, headers, content_type=content_type or JSON_TYPE
            )
        return Response(body, status, headers, content_type=content_type or "text/plain")

    def _retry_after_value(self, inj: Injection) -> str:
        ra = inj.retry_after
        if ra == "seconds":
            return str(math.ceil(inj.retry_in))
        if ra == "date":  # NOTES §2.5: ISO-8601 datetime for daily limits
            return _iso(time.time() + inj.retry_in + 0.999)
        if ra == "http-date":
            return formatdate(time.time() + inj.retry_in + 0.999, usegmt=True)
        return str(ra)

    @staticmethod
    def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status, dict(headers or {}), content_type=JSON_TYPE)

    # ================================================================ OAuth (NOTES §1)

    @staticmethod
    def _basic_credentials(request: Request) -> tuple[str | None, str | None]:
        auth = request.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None, None
        cid, sep, secret = decoded.partition(":")
        return (unquote(cid), unquote(secret)) if sep else (None, None)

    def _oauth_params(self, request: Request) -> dict[str, str]:
        # NOTES §1.1: parameters in the form body "(or query)".
        params = {k: v for k, v in request.args.items()}
        if request.mimetype == "application/x-www-form-urlencoded":
            params.update(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        return params

    def _check_oauth_request(self, request: Request, raw_path: str) -> list[tuple[str, str]]:
        """Hand validation of OAuth requests against NOTES §1; (problem, error) pairs."""
        problems: list[tuple[str, str]] = []
        p = request.args if raw_path == "/oauth/authorize" else self._oauth_params(request)
        if raw_path == "/oauth/authorize":
            if request.method != "GET":
                problems.append((f"authorise must be GET, got {request.method}", "method"))
            if p.get("response_type") != "code":
                problems.append(("response_type must be 'code' (NOTES §1.1)", "response_type"))
            for name in ("client_id", "redirect_uri"):
                if not p.get(name):
                    problems.append((f"missing {name} (NOTES §1.1)", name))
            if self.require_state and not p.get("state"):
                problems.append(("missing state: our CSRF rule (RFC 6749 §10.12)", "state"))
            method = p.get("code_challenge_method")
            if method is not None and method not in ("S256", "plain"):
                problems.append((f"code_challenge_method {method!r} not S256/plain", "pkce"))
            if method is not None and not p.get("code_challenge"):
                problems.append(("code_challenge_method without code_challenge", "pkce"))
            return problems
        if raw_path not in ("/oauth/token", "/oauth/revoke"):
            return [(f"unknown OAuth endpoint {raw_path}", "path")]
        if request.method != "POST":
            problems.append((f"{raw_path} must be POST, got {request.method}", "method"))
        cid, _ = self._basic_credentials(request)
        if cid is None:
            problems.append(("missing HTTP Basic client_id:client_secret (NOTES §1.1)", "auth"))
        if request.get_data() and request.mimetype != "application/x-www-form-urlencoded":
            problems.append(
                (f"body must be application/x-www-form-urlencoded, got {request.mimetype!r}", "ct")
            )
        if raw_path == "/oauth/revoke":
            if not p.get("token"):
                problems.append(("revoke needs form field token (NOTES §1.4)", "token"))
            return problems
        required = {
            "authorization_code": ("code", "redirect_uri"),
            "refresh_token": ("refresh_token",),
            "account_credentials": ("account_id",),
        }
        grant = p.get("grant_type")
        if grant not in required:
            problems.append((f"unsupported grant_type {grant!r}", "grant_type"))
            return problems
        for name in required[grant]:
            if not p.get(name):
                problems.append((f"grant_type={grant} needs {name} (NOTES §1)", name))
        return problems

    def _oauth(self, request: Request, raw_path: str, problems: list[tuple[str, str]]) -> Response:
        if raw_path == "/oauth/authorize":
            return self._authorize(request, problems)
        if raw_path == "/oauth/token":
            return self._token(request, problems)
        if raw_path == "/oauth/revoke":
            return self._revoke(request, problems)
        return Response("Not Found", 404, content_type="text/html")

    def _authorize(self, request: Request, problems: list[tuple[str, str]]) -> Response:
        p = request.args
        client_id = p.get("client_id", "")
        redirect_uri = p.get("redirect_uri", "")
        with self._lock:
            app = self.apps.get(client_id)
            if app is None or app.account_id is not None:
                # [guess] shape as the redirect error of NOTES §1.1
                body = {"errorCode": 4700, "errorMessage": f"Invalid client_id: {client_id}"}
                return self._json(body, 400)
            if redirect_uri not in app.redirect_uris:  # NOTES §1.1: exact match
                body = {"errorCode": 4700, "errorMessage": f"Invalid redirect: {redirect_uri}"}
                return self._json(body, 400)
            if any(kind in ("response_type", "pkce") for _, kind in problems):
                body = {"errorCode": 4700, "errorMessage": "Invalid request."}
                return self._json(body, 400)
            state = p.get("state")
            if self.deny_next_authorization:
                # [guess] RFC 6749 §4.1.2.1 error redirect
                self.deny_next_authorization = False
                return self._redirect(redirect_uri, {"error": "access_denied", "state": state})
            code = secrets.token_urlsafe(24)
            challenge = p.get("code_challenge")
            self._codes[code] = _AuthCode(
                code=code,
                client_id=client_id,
                redirect_uri=redirect_uri,
                user_id=self._next_user_id,
                challenge=challenge,
                # NOTES §1.1: method defaults to plain when omitted.
                method=p.get("code_challenge_method") or "plain",
                expires_at=self.now() + self.code_ttl,
            )
            return self._redirect(redirect_uri, {"code": code, "state": state})

    @staticmethod
    def _redirect(uri: str, params: Mapping[str, str | None]) -> Response:
        parts = urlsplit(uri)
        query = parse_qsl(parts.query, keep_blank_values=True)
        query += [(k, v) for k, v in params.items() if v is not None]
        location = urlunsplit(parts._replace(query=urlencode(query)))
        return Response("", 302, {"Location": location})

    @staticmethod
    def _oauth_error(status: int, reason: str, error: str) -> _ZoomError:
        err = _ZoomError(status, 0, reason)
        err.body = {"reason": reason, "error": error}
        return err

    def _token(self, request: Request, problems: list[tuple[str, str]]) -> Response:
        params = self._oauth_params(request)
        grant = params.get("grant_type", "")
        with self._lock:
            self.token_requests[grant] += 1
            entry: dict[str, Any] = {"grant_type": grant, "time": self.now(), "status": None}
            self.token_log.append(entry)
            try:
                answer = self._token_locked(request, params, grant, problems)
            except _ZoomError as err:
                entry.update(status=err.status, error=err.body.get("error"))
                raise
            entry.update(status=200, user_id=self._tokens[answer["access_token"]].user_id)
        return self._json(answer, 200, {"Cache-Control": "no-store"})

    def _token_locked(
        self,
        request: Request,
        params: dict[str, str],
        grant: str,
        problems: list[tuple[str, str]],
    ) -> dict[str, Any]:
        cid, secret = self._basic_credentials(request)
        app = self.apps.get(cid or "")
        if app is None or not hmac.compare_digest(app.client_secret, secret or ""):
            # [S] Zoom's answer to bad client credentials
            raise self._oauth_error(401, "Invalid client_id or client_secret", "invalid_client")
        if any(kind in ("grant_type", "ct") for _, kind in problems):
            raise self._oauth_error(400, "Unsupported grant type", "unsupported_grant_type")
        if problems:
            raise self._oauth_error(400, "Invalid request", "invalid_request")
        now = self.now()
        if grant == "authorization_code":
            code = self._codes.get(params["code"])
            if code is None or code.used or code.expires_at <= now or code.client_id != cid:
                # NOTES §1.1: single use, 5-minute lifetime. [guess] reason text
                if code is not None:
                    code.used = True
                raise self._oauth_error(400, "Invalid authorization code", "invalid_grant")
            code.used = True
            if params["redirect_uri"] != code.redirect_uri:
                raise self._oauth_error(400, "Invalid redirect uri", "invalid_request")
            if code.challenge is not None:
                verifier = params.get("code_verifier", "")
                if code.method == "S256":
                    digest = hashlib.sha256(verifier.encode()).digest()
                    expected = _b64url(digest)
                else:
                    expected = verifier
                if not verifier or not hmac.compare_digest(expected, code.challenge):
                    raise self._oauth_error(400, "Invalid code_verifier", "invalid_grant")
            return self._issue(app, self.users[code.user_id])
        if grant == "refresh_token":
            old = self._tokens.get(params["refresh_token"])
            if (
                old is None
                or old.kind != "refresh"
                or old.revoked
                or old.client_id != cid
                or self._expired(old)
            ):
                # NOTES §1.1: reuse of a rotated refresh token.
                raise self._oauth_error(400, "Invalid Token!", "invalid_grant")
            old.revoked = True  # NOTES §1.1: rotation invalidates the old one immediately
            return self._issue(app, self.users[old.user_id])
        # account_credentials, NOTES §1.2
        if app.account_id is None:
            raise self._oauth_error(400, "Unsupported grant type", "unsupported_grant_type")
        if params["account_id"] != app.account_id:
            raise self._oauth_error(400, "Invalid account_id", "invalid_request")
        owner = next(
            (u for u in self.users.values() if u.account_id == app.account_id),
            self.default_user,
        )
        return self._issue(app, owner, s2s=True)

    def _revoke(self, request: Request, problems: list[tuple[str, str]]) -> Response:
        cid, secret = self._basic_credentials(request)
        with self._lock:
            app = self.apps.get(cid or "")
            if app is None or not hmac.compare_digest(app.client_secret, secret or ""):
                raise self._oauth_error(401, "Invalid client_id or client_secret", "invalid_client")
            if problems:
                raise self._oauth_error(400, "Invalid request", "invalid_request")
            tok = self._tokens.get(self._oauth_params(request).get("token", ""))
            if tok is not None and tok.client_id == cid:
                # NOTES §1.4: revoking uninstalls the app: every token of the grant dies.
                for other in self._tokens.values():
                    if other.client_id == tok.client_id and other.user_id == tok.user_id:
                        other.revoked = True
        # [guess] unknown tokens also answer success (RFC 7009 §2.2)
        return self._json({"status": "success"})

    # ================================================================ Meeting API (NOTES §2)

    _ROUTES: ClassVar[list[tuple[str, re.Pattern[str], str, bool]]] = [
        # (method, raw-path regex, handler name, in spec)
        ("POST", re.compile(r"^/v2/users/([^/]+)/meetings$"), "_create_meeting", True),
        ("GET", re.compile(r"^/v2/users/([^/]+)/meetings$"), "_list_meetings", True),
        ("GET", re.compile(r"^/v2/users/([^/]+)$"), "_get_user", False),
        ("GET", re.compile(r"^/v2/meetings/([^/]+)$"), "_get_meeting", True),
        ("PATCH", re.compile(r"^/v2/meetings/([^/]+)$"), "_update_meeting", True),
        ("DELETE", re.compile(r"^/v2/meetings/([^/]+)$"), "_delete_meeting", True),
        ("PUT", re.compile(r"^/v2/meetings/([^/]+)/status$"), "_meeting_status", True),
        ("GET", re.compile(r"^/v2/past_meetings/([^/]+)$"), "_past_meeting", True),
        ("GET", re.compile(r"^/v2/past_meetings/([^/]+)/instances$"), "_past_instances", True),
        ("GET", re.compile(r"^/v2/past_meetings/([^/]+)/participants$"), "_past_parts", True),
        ("GET", re.compile(r"^/v2/report/meetings/([^/]+)$"), "_report_meeting", True),
        (
            "GET",
            re.compile(r"^/v2/report/meetings/([^/]+)/participants$"),
            "_report_participants",
            True,
        ),
    ]

    def _route(self, method: str, raw_path: str) -> tuple[str, str, bool] | None:
        for m, pattern, name, in_spec in self._ROUTES:
            match = pattern.match(raw_path)
            if m == method and match:
                return name, match.group(1), in_spec
        return None

    def _check_api_request(self, request: Request, raw_path: str) -> list[tuple[str, str]]:
        """Validate a ``/v2`` request against the spec, plus NOTES rules the schema lacks."""
        route = self._route(request.method, raw_path)
        if route is not None and not route[2]:
            # GET /users/{userId} is not in meetings-openapi.json: only the token is checked.
            auth = request.headers.get("Authorization", "")
            if not auth.lower().startswith("bearer "):
                return [("not in spec (not validated); missing bearer token", "security")]
            return []
        with self._validate_lock:
            errors = list(self.openapi.iter_request_errors(_SpecRequest(request, raw_path)))
        problems: list[tuple[str, str]] = []
        if errors:
            details, fields = _describe_errors(errors)
            kind = "security" if isinstance(errors[0], SecurityValidationError) else "schema"
            if isinstance(errors[0], PathError):
                kind = "method" if isinstance(errors[0], OperationNotFound) else "path"
            problems.append(("does not match meetings-openapi.json:", kind))
            problems.extend((f"  {d}", "detail") for d in details)
            request.environ["fakezoom.fields"] = fields
        if route is not None and route[0] in ("_past_parts", "_past_meeting", "_report_meeting"):
            _, ok = _decode_meeting_key(route[1])
            if not ok:
                # Spec text (NOTES §3): "double encode your UUID ... begins with '/' or
                # contains '//'". Zoom answers "not found"; flag it as our bug as well.
                problems.append(("meeting UUID starting with '/' or containing '//' was not "
                                 "double-encoded (spec, NOTES §3)", "encoding"))  # fmt: skip
        body = request.get_json(silent=True) if request.mimetype == "application/json" else None
        writes = ("_create_meeting", "_update_meeting")
        if isinstance(body, dict) and route is not None and route[0] in writes:
            password = body.get("password")
            if isinstance(password, str) and not _PASSWORD_RE.match(password):
                problems.append(("password must be ≤10 chars of [A-Za-z0-9@-_*] (NOTES §2.1)",
                                 "password"))  # fmt: skip
                request.environ.setdefault("fakezoom.fields", []).append(
                    {"field": "password", "message": "Invalid field."}
                )
            start = body.get("start_time")
            if isinstance(start, str) and _START_TIME_RE.match(start):
                try:
                    _parse_start_time(start, "UTC")
                except ValueError:
                    problems.append((f"start_time {start!r} is not a date", "start_time"))
                    request.environ.setdefault("fakezoom.fields", []).append(
                        {"field": "start_time", "message": "Invalid field."}
                    )
        return problems

    def _authenticate(self, request: Request) -> _Ctx:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        with self._lock:
            tok = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
            if tok is None or tok.kind != "access" or tok.revoked:
                raise _ZoomError(401, 124, "Invalid access token.")  # NOTES §2.4
            if self._expired(tok):
                raise _ZoomError(401, 124, "Access token is expired.")  # NOTES §2.4
            return _Ctx(tok, self.users[tok.user_id])

    def _api(self, request: Request, raw_path: str, problems: list[tuple[str, str]]) -> Response:
        kinds = {kind for _, kind in problems}
        route = self._route(request.method, raw_path)
        if "path" in kinds or (route is None and "method" not in kinds):
            raise _ZoomError(404, 404, "Not Found")  # [guess] unknown endpoint
        if "method" in kinds or route is None:
            raise _ZoomError(405, 405, "Method Not Allowed")  # [guess]
        ctx = self._authenticate(request)
        if "encoding" in kinds:
            raise _ZoomError(404, 3001, "This meeting is not available or ID is not valid.")
        body_is_json = request.mimetype == "application/json" and (
            request.get_json(silent=True) is not None
        )
        if request.get_data() and not body_is_json:
            raise _ZoomError(400, 300, "Request Body should be a valid JSON object.")  # [guess]
        if kinds - {"detail", "encoding"}:
            fields = request.environ.get("fakezoom.fields") or []
            raise _ZoomError(400, 300, "Validation Failed.", errors=fields)  # NOTES §2.4
        handler: _Handler = getattr(self, route[0])
        response = handler(request, ctx, {"id": route[1]})
        if route[2] and 200 <= response.status_code < 300:
            self._check_response(request, raw_path, response)
        return response

    def _check_response(self, request: Request, raw_path: str, response: Response) -> None:
        with self._validate_lock:
            errors = list(
                self.openapi.iter_response_errors(
                    _SpecRequest(request, raw_path), WerkzeugOpenAPIResponse(response)
                )
            )
        if errors:
            details, _ = _describe_errors(errors)
            text = f"{request.method} {raw_path} -> {response.status_code}" + "".join(
                f"\n    {d}" for d in details
            )
            with self._lock:
                self.self_violations.append(text)

    # ---------------------------------------------------------------- access rules

    def _target_user(self, ctx: _Ctx, user_ref: str) -> FakeUser:
        ref = unquote(user_ref)
        if ref == "me":
            return ctx.user
        with self._lock:
            user = next((u for u in self.users.values() if ref in (u.id, u.email)), None)
        if user is None or user.account_id != ctx.user.account_id:
            raise _ZoomError(404, 1001, f"User {ref} not exist or not belong to this account.")
        if user.id != ctx.user.id and not ctx.token.s2s:
            # [guess] a user-level token may only act for its own user
            raise _ZoomError(400, 200, "No permission.")
        return user

    def _find_meeting(self, ctx: _Ctx, raw_id: str, *, write: bool) -> _Meeting:
        meeting = self._meetings.get(int(raw_id))
        if meeting is None or meeting.account_id != ctx.user.account_id:
            # NOTES §2.2/§2.3: 404 code 3001; [guess] other accounts look "not found" too.
            raise _ZoomError(404, 3001, f"Meeting {raw_id} is not found or has expired.")
        if meeting.host_id != ctx.user.id and not ctx.token.s2s:
            if write:
                raise _ZoomError(400, 3003, "You are not the meeting host.")  # NOTES §2.2
            raise _ZoomError(400, 3000, "Cannot access meeting information.")  # [guess]
        return meeting

    def _count_daily(self, host_id: str) -> None:
        # NOTES §2.1 / §2.5: 100 create+update per host per UTC day; 429 came without
        # X-RateLimit-Type / Retry-After (devforum 18928) -- so none are sent here.
        day = dt.datetime.fromtimestamp(self.now(), dt.UTC).date().isoformat()
        key = (host_id, day)
        if self._daily[key] >= self.daily_meeting_limit:
            raise _ZoomError(429, 429, DAILY_LIMIT_MESSAGE.format(limit=self.daily_meeting_limit))
        self._daily[key] += 1

    # ---------------------------------------------------------------- meetings

    def _new_meeting_id(self) -> int:
        while True:
            mid = secrets.randbelow(9 * 10**10) + 10**10  # 11 digits, > 2**31 (NOTES §2.1)
            if mid not in self._meetings:
                return mid

    def _apply_body(self, data: dict[str, Any], body: dict[str, Any], host: FakeUser) -> None:
        for key in ("topic", "agenda", "duration", "type", "timezone", "password", "recurrence"):
            if key in body:
                data[key] = body[key]
        if "tracking_fields" in body:
            data["tracking_fields"] = body["tracking_fields"]
        if "start_time" in body:
            tz = body.get("timezone") or data.get("timezone") or host.timezone
            data["start_time"] = _iso(_parse_start_time(body["start_time"], tz))
        settings = data.setdefault("settings", {})
        for key, value in (body.get("settings") or {}).items():
            if key == "breakout_room" and isinstance(value, dict):
                room = settings.setdefault("breakout_room", {"enable": False, "rooms": []})
                if "enable" in value:
                    room["enable"] = value["enable"]
                if "rooms" in value:  # NOTES §2.2: the full list replaces the old one
                    room["rooms"] = json.loads(json.dumps(value["rooms"]))
            else:
                settings[key] = value
        if settings.get("waiting_room"):
            settings["join_before_host"] = False  # NOTES §2.1: waiting room disables JBH
        if data.get("type") == 3:  # recurring with no fixed time has no start_time
            data.pop("start_time", None)
        pwd = data.get("password", "")
        data["h323_password"] = "".join(c for c in pwd if c.isdigit()) or "123456"
        data["pstn_password"] = data["h323_password"]
        data["encrypted_password"] = _b64url(hashlib.sha256(pwd.encode()).digest())[:32]
        data["join_url"] = (
            f"https://us05web.zoom.us/j/{data['id']}?pwd={data['encrypted_password']}"
        )

    def _create_meeting(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        body = request.get_json(silent=True) or {}
        host = self._target_user(ctx, params["id"])
        with self._lock:
            if body.get("type") == 1 and body.get("schedule_for"):
                raise _ZoomError(
                    400,
                    3000,
                    "Instant meetings do not support the schedule_for parameter; you cannot "
                    "schedule an instant meeting for another user.",
                )
            self._count_daily(host.id)
            mid = self._new_meeting_id()
            now = self.now()
            password = body.get("password")
            if password is None and self.enforce_passcode:
                password = secrets.token_hex(3)
            data: dict[str, Any] = {
                "uuid": _new_uuid(),
                "id": mid,
                "host_id": host.id,
                "host_email": host.email,
                "assistant_id": "",
                "topic": "Zoom Meeting",
                "type": 2,
                "status": "waiting",
                "start_time": _iso(now),
                "duration": 60,
                "timezone": host.timezone,
                "agenda": "",
                "created_at": _iso(now),
                "password": password or "",
                "pre_schedule": False,
                "settings": {
                    "host_video": False,
                    "participant_video": False,
                    "join_before_host": False,
                    "jbh_time": 0,
                    "mute_upon_entry": False,
                    "waiting_room": False,
                    "use_pmi": False,
                    "approval_type": 2,
                    "audio": "both",
                    "auto_recording": "none",
                    "meeting_authentication": False,
                    "alternative_hosts": "",
                },
            }
            self._apply_body(data, body, host)
            data["start_url"] = f"https://us05web.zoom.us/s/{mid}?zak={secrets.token_urlsafe(48)}"
            self._meetings[mid] = _Meeting(data, host.id, host.account_id)
            answer = {k: v for k, v in data.items() if k not in ("uuid", "status")}
            # NOTES §2.1: `uuid` is not in the 201 schema; callers must GET it.
        return self._json(answer, 201)

    def _list_meetings(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        host = self._target_user(ctx, params["id"])
        page_size = int(request.args.get("page_size", 30))
        with self._lock:
            items = [
                {k: m.data[k] for k in _LIST_FIELDS if k in m.data}
                for m in self._meetings.values()
                if m.host_id == host.id
            ]
            items, token = self._page(
                items, request.args.get("next_page_token"), page_size, host.id
            )
        return self._json(
            {
                "page_size": page_size,
                "total_records": len(self._meetings_of(host.id)),
                "next_page_token": token,
                "meetings": items,
            }
        )

    def _meetings_of(self, host_id: str) -> list[_Meeting]:
        return [m for m in self._meetings.values() if m.host_id == host_id]

    def _page(
        self, items: list[Any], token: str | None, page_size: int, scope: str
    ) -> tuple[list[Any], str]:
        offset = 0
        if token:
            entry = self._page_tokens.get(token)
            if entry is None or entry[0] != scope or entry[2] <= self.now():
                # NOTES §3: next_page_token valid 15 min. [guess] error text
                raise _ZoomError(400, 300, "The next page token is invalid or expired.")
            offset = entry[1]
        page = items[offset : offset + page_size]
        next_token = ""
        if offset + page_size < len(items):
            next_token = secrets.token_urlsafe(24)
            self._page_tokens[next_token] = (scope, offset + page_size, self.now() + 900)
        return page, next_token

    def _get_user(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        return self._json(self._target_user(ctx, params["id"]).as_json())

    def _get_meeting(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        with self._lock:
            meeting = self._find_meeting(ctx, params["id"], write=False)
            return self._json(meeting.data)

    def _update_meeting(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        body = request.get_json(silent=True) or {}
        with self._lock:
            meeting = self._find_meeting(ctx, params["id"], write=True)
            if meeting.data.get("status") == "started":
                raise _ZoomError(
                    400, 3000, "You cannot update or delete meetings that have started using "
                    "this method."
                )  # fmt: skip
            self._count_daily(meeting.host_id)
            self._apply_body(meeting.data, body, self.users[meeting.host_id])
        return Response(status=204)  # NOTES §2.2: 204, no body

    def _delete_meeting(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        with self._lock:
            meeting = self._find_meeting(ctx, params["id"], write=True)
            if meeting.data.get("status") == "started":
                raise _ZoomError(
                    400, 3002, "Sorry, you cannot delete this meeting since it is in progress."
                )
            del self._meetings[int(params["id"])]
        return Response(status=204)

    def _meeting_status(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        body = request.get_json(silent=True) or {}
        with self._lock:
            meeting = self._find_meeting(ctx, params["id"], write=True)
            if body.get("action") == "end":
                meeting.data["status"] = "waiting"
        return Response(status=204)

    # ---------------------------------------------------------------- past meetings (NOTES §3)

    def _past_instance(self, ctx: _Ctx, raw_id: str) -> _PastInstance:
        key, _ = _decode_meeting_key(raw_id)
        with self._lock:
            if key.isdigit():
                uuids = self._past_by_meeting.get(int(key)) or []
                inst = self._past.get(uuids[-1]) if uuids else None  # numeric id = latest
            else:
                inst = self._past.get(key)
            if inst is None or inst.account_id != ctx.user.account_id:
                raise _ZoomError(404, 3001, "This meeting is not available or ID is not valid.")
            if inst.host_id != ctx.user.id and not ctx.token.s2s:
                raise _ZoomError(400, 300, "Cannot access meeting information.")
            return inst

    def _participants_page(
        self, request: Request, inst: _PastInstance, fields: Callable[[dict], dict]
    ) -> dict[str, Any]:
        page_size = int(request.args.get("page_size", 30))
        parts = inst.participants
        if self.hide_single_participant and len(parts) == 1:
            parts = []  # NOTES §3: "no result if only 1 participant"
        with self._lock:
            page, token = self._page(
                [fields(p) for p in parts],
                request.args.get("next_page_token"),
                page_size,
                inst.uuid,
            )
        return {
            "page_count": max(1, -(-len(parts) // page_size)),
            "page_size": page_size,
            "total_records": len(parts),
            "next_page_token": token,
            "participants": page,
        }

    def _past_parts(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        inst = self._past_instance(ctx, params["id"])
        return self._json(self._participants_page(request, inst, dict))

    def _past_meeting(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        inst = self._past_instance(ctx, params["id"])
        return self._json(self._past_summary(inst))

    def _past_summary(self, inst: _PastInstance) -> dict[str, Any]:
        host = self.users.get(inst.host_id, self.default_user)
        start = dt.datetime.fromisoformat(inst.start_time.replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(inst.end_time.replace("Z", "+00:00"))
        minutes = int((end - start).total_seconds() // 60)
        return {
            "id": inst.meeting_id or 0,
            "uuid": inst.uuid,
            "host_id": inst.host_id,
            "type": 2,
            "topic": inst.topic,
            "user_name": f"{host.first_name} {host.last_name}",
            "user_email": host.email,
            "start_time": inst.start_time,
            "end_time": inst.end_time,
            "duration": minutes,
            "total_minutes": minutes * max(1, len(inst.participants)),
            "participants_count": len(inst.participants),
            "dept": "",
            "source": "Zoom",
        }

    def _past_instances(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        with self._lock:
            uuids = self._past_by_meeting.get(int(params["id"]), [])
            insts = [
                self._past[u] for u in uuids if self._past[u].account_id == ctx.user.account_id
            ]
        return self._json(
            {"meetings": [{"uuid": i.uuid, "start_time": i.start_time} for i in insts]}
        )

    def _report_meeting(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        inst = self._past_instance(ctx, params["id"])
        summary = self._past_summary(inst)
        summary.pop("source")
        return self._json(summary)

    def _report_participants(self, request: Request, ctx: _Ctx, params: dict[str, str]) -> Response:
        inst = self._past_instance(ctx, params["id"])

        def report(p: dict[str, Any]) -> dict[str, Any]:
            out = {k: v for k, v in p.items() if k != "user_id"}
            out["user_id"] = p.get("user_id", "")
            out["participant_user_id"] = p.get("participant_user_id", p.get("user_id", ""))
            out.setdefault("customer_key", "")
            out.setdefault("bo_mtg_id", "")
            return out

        return self._json(self._participants_page(request, inst, report))

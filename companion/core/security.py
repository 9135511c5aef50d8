"""Signed tokens, password hashing, CSRF and the security headers of every response."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from werkzeug.exceptions import BadRequest
from werkzeug.security import check_password_hash, generate_password_hash

csrf = CSRFProtect()
#: Rate limits (sign-in failures, public forms); storage from COMPANION_RATELIMIT_STORAGE_URL.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: The hash compared against when no account matches, so timing does not reveal addresses.
_DUMMY_HASH = generate_password_hash("not a real password")


class TokenError(Exception):
    """A token is malformed, tampered with or expired; `expired` tells which."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _secret() -> str:
    secret: str = current_app.config["SECRET_KEY"]
    return secret


def sign(data: Any, purpose: str) -> str:
    """A URL-safe signed token for `data`; `purpose` keeps tokens of one kind out of another."""
    return URLSafeSerializer(_secret(), salt=f"kollega.{purpose}").dumps(data)


def unsign(token: str, purpose: str) -> Any:
    """The data of a token from `sign`, or TokenError."""
    try:
        return URLSafeSerializer(_secret(), salt=f"kollega.{purpose}").loads(token)
    except BadSignature as exc:
        raise TokenError() from exc


def sign_timed(data: Any, purpose: str) -> str:
    """A signed token that `unsign_timed` accepts only for a limited time."""
    return URLSafeTimedSerializer(_secret(), salt=f"kollega.{purpose}").dumps(data)


def unsign_timed(token: str, purpose: str, max_age_seconds: int) -> Any:
    """The data of a token from `sign_timed`, or TokenError (expired or tampered)."""
    serializer = URLSafeTimedSerializer(_secret(), salt=f"kollega.{purpose}")
    try:
        return serializer.loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise TokenError(expired=True) from exc
    except BadSignature as exc:
        raise TokenError() from exc


def hash_password(password: str) -> str:
    """A salted scrypt hash."""
    return generate_password_hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password; takes the same time whether or not an account exists."""
    if not password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)


#: A Host header: DNS labels (underscores tolerated, as in container names) or an IP
#: address, and an optional port.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?")
#: `Authorization: Bearer <token>` (RFC 6750 b64token). Anything else is not a bearer token.
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *")


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer` header value, or None.

    The one definition of a bearer token: identity reads the caller from it and the CSRF
    check lets a request through because of it, so both must agree exactly (a header whose
    value is blank is no token, and the request is then checked as a cookie request).
    """
    if not header:
        return None
    match = _BEARER.fullmatch(header)
    return match.group(1) if match else None


def _same_site_path(target: str, *, encoded: bool) -> bool:
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    # Browsers read a backslash as a slash and drop tabs and line breaks from addresses, so
    # "/\\evil.example" and "/\t/evil.example" both lead to //evil.example. (Spaces are
    # fine once percent-encoded, as in a query.)
    refused = "CZ" if encoded else "C"
    if "\\" in target or any(unicodedata.category(c)[0] in refused for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(value: Any, fallback: str = "/") -> str:
    """`value` if it is a path on this site (for `next=` and `back=`), otherwise `fallback`.

    Refused: anything not starting with one slash, scheme or host parts, backslashes,
    control characters and spaces, also when percent-encoded (up to three times over).
    """
    if not isinstance(value, str) or not value or len(value) > 2000:
        return fallback
    target = value
    for round_ in range(4):
        if not _same_site_path(target, encoded=round_ == 0):
            return fallback
        decoded = unquote(target)
        if decoded == target:
            return value
        target = decoded
    return fallback


def rate_limited(view: Any) -> Any:
    """Mark a view that carries a `limiter.limit` (others skip the limiter altogether)."""
    view._kollega_rate_limited = True
    return view


def csrf_exempt(view: Any) -> Any:
    """Mark a view that authenticates its callers otherwise (signed webhooks)."""
    view.csrf_exempt = True
    return view


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for `purpose` derived from the secret key (for Fernet and the like)."""
    digest = hashlib.sha256(f"kollega:{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


def content_security_policy(live_origin: str, extra: dict[str, str] | None = None) -> str:
    """The CSP every page gets: our own scripts and styles only, no inline code."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": f"'self' {live_origin}".strip(),
        "frame-ancestors": "'self'",
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }
    for key, value in (extra or {}).items():
        directives[key] = value
    return "; ".join(f"{key} {value}" for key, value in directives.items())


def init_app(app: Flask) -> None:
    """CSRF protection on cookie-authenticated writes and security headers on every response."""
    from companion.core.api import api_meta, authenticate

    config = app.extensions["companion.config"]
    # CSRF is checked in `_check_csrf` rather than on every view: requests that carry a
    # bearer token (API scripts, side panels) send no cookie, so there is nothing to forge.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_ENABLED"] = config.csrf_enabled
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # tied to the session, which expires itself
    csrf.init_app(app)
    storage = config.effective_ratelimit_storage_url
    app.config["RATELIMIT_STORAGE_URI"] = storage
    if not storage.startswith("memory"):
        # Shared counts in Redis; a Redis that hangs holds a sign-in for half a second at
        # most, and one that is away lets requests through on per-process counts meanwhile.
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_timeout": 0.5,
            "socket_connect_timeout": 0.5,
        }
        app.config["RATELIMIT_SWALLOW_ERRORS"] = True
        app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
        app.config["RATELIMIT_KEY_PREFIX"] = config.bus_namespace
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)

    @limiter.request_filter
    def _unlimited() -> bool:
        # Only a few pages carry limits (sign-in, the public forms); resolving limits on every
        # other request (each vote on the board) is work for nothing.
        view = app.view_functions.get(request.endpoint or "")
        return view is None or not getattr(view, "_kollega_rate_limited", False)

    @app.before_request
    def _check_host() -> None:
        # Werkzeug refuses some malformed hosts itself (a..b, long labels); the rest of what
        # cannot be a host name is refused here alike, before anything builds an address.
        if not _HOST.fullmatch(request.host):
            raise BadRequest()

    @app.before_request
    def _check_csrf() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        view = app.view_functions.get(request.endpoint or "")
        meta = api_meta(view)
        if meta is not None:
            # An API write from nobody is a 401, before the CSRF check and validation: the
            # caller learns to authenticate, not that a form expired.
            authenticate(meta)
        if bearer_token(request.headers.get("Authorization")) is not None:
            return
        if view is not None and getattr(view, "csrf_exempt", False):
            return
        # Read per request so a test can switch it (the setting itself comes from Config).
        if app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()

    live = config.public_live_url
    live_origin = live.rsplit("/", 1)[0] if live else ""

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        extra: dict[str, str] | None = g.get("csp_extra")
        headers.setdefault("Content-Security-Policy", content_security_policy(live_origin, extra))
        if config.uses_https or g.get("force_hsts"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if not g.get("allow_framing"):
            headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if request.endpoint and request.endpoint != "static":
            # Personal pages (join links, surveys) must not linger in shared caches.
            headers.setdefault("Cache-Control", "no-store")
        return response

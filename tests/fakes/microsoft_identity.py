"""A fake Microsoft identity platform: a real local HTTP server that checks every request.

It serves what Kollega uses of ``login.microsoftonline.com`` (NOTES §1.1, §1.4, §4.4 in
``shared/specs/teams/NOTES.md``): the OpenID metadata of an authority, its JWKS (whose key can
rotate mid-test), the authorise endpoint (a browser-less sign-in: it redirects straight back
as the account in :attr:`FakeMicrosoftIdentity.next_account`) and the token endpoint with
authorisation codes bound to PKCE, rotating refresh tokens and ``invalid_grant``. It also
signs id_tokens and Teams SSO tokens for tests.

Every request is checked: client id and secret, the exact redirect URI, the PKCE verifier
against the challenge, the grant type and its parameters, and no parameter the endpoint does
not take. Mismatches land in :attr:`violations` (the fixture fails the test) and are answered
the way Microsoft answers them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

__all__ = ["TEAMS_DESKTOP", "TEAMS_WEB", "FakeMicrosoftIdentity", "MicrosoftAccount"]

#: NOTES §4.3: the Teams clients that ask for SSO tokens.
TEAMS_DESKTOP = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
TEAMS_WEB = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"

#: NOTES §1.1: what the authorise endpoint takes.
AUTHORIZE_PARAMS = frozenset(
    {
        "client_id", "response_type", "redirect_uri", "response_mode", "scope", "state",
        "nonce", "code_challenge", "code_challenge_method", "prompt", "login_hint",
        "domain_hint",
    }
)  # fmt: skip
#: NOTES §1.1: the token endpoint's parameters per grant type (required, optional).
TOKEN_PARAMS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "authorization_code": (
        frozenset(
            {"grant_type", "code", "redirect_uri", "client_id", "client_secret", "code_verifier"}
        ),
        frozenset({"scope"}),
    ),
    "refresh_token": (
        frozenset({"grant_type", "refresh_token", "client_id", "client_secret", "scope"}),
        frozenset(),
    ),
}
#: Scopes the fake app registration may be granted (NOTES §1.2).
KNOWN_SCOPES = frozenset(
    {
        "openid", "profile", "email", "offline_access", "User.Read", "Calendars.ReadWrite",
        "OnlineMeetings.ReadWrite", "OnlineMeetingArtifact.Read.All", "Mail.Send",
    }
)  # fmt: skip
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


@dataclass
class MicrosoftAccount:
    """A work or school account of the fake (the person who signs in)."""

    tenant_id: str
    object_id: str
    name: str
    upn: str
    email: str
    #: Whether the id_token vouches for the email (`xms_edov`, NOTES §1.4).
    email_verified: bool = True


@dataclass
class _Code:
    account: MicrosoftAccount
    redirect_uri: str
    challenge: str
    nonce: str
    scopes: list[str]
    expires_at: float
    used: bool = False


@dataclass
class _Grant:
    account: MicrosoftAccount
    scopes: list[str]
    revoked: bool = False


@dataclass
class _Refresh:
    grant: _Grant
    used: bool = False


@dataclass
class RecordedRequest:
    """A request the fake received (form values included: this is a test double)."""

    method: str
    path: str
    args: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": _b64url(secrets.token_bytes(12))})


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Keep test output clean."""


class FakeMicrosoftIdentity:
    """The fake on ``127.0.0.1`` in a background thread; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.client_id = "0a1b2c3d-0000-4000-8000-00000000c1d0"
        self.client_secret = "fake-teams-client-secret"
        self.tenant_id = "7e57a000-0000-4000-8000-000000000001"
        self._host = host
        self._lock = threading.RLock()
        self._initial_key = _new_key()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # ---------------------------------------------------------------- life cycle

    def start(self) -> FakeMicrosoftIdentity:
        """Serve on a free port in a daemon thread."""
        self._server = make_server(
            self._host, 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget everything a test did (the initial signing key stays, for speed)."""
        with self._lock:
            self.redirect_uris: list[str] = []
            self.accounts: dict[str, MicrosoftAccount] = {}
            self.keys: list[RSAKey] = [self._initial_key]
            self.signing_key = self._initial_key
            self.violations: list[str] = []
            self.requests: list[RecordedRequest] = []
            self.counts: Counter[str] = Counter()
            self._codes: dict[str, _Code] = {}
            self._refresh: dict[str, _Refresh] = {}
            self._access: dict[str, tuple[MicrosoftAccount, float, list[str]]] = {}
            self.token_error: tuple[int, str] | None = None
            self.authorize_error: str | None = None
            self.access_token_ttl = 3599
            self.default_account = self.add_account(
                name="Fiona Facilitator", upn="fiona@contoso.example"
            )
            self.next_account = self.default_account

    def take_violations(self) -> list[str]:
        """The recorded violations, cleared."""
        with self._lock:
            found, self.violations = self.violations, []
            return found

    # ---------------------------------------------------------------- addresses

    @property
    def login_url(self) -> str:
        """What COMPANION_TEAMS_LOGIN_URL points at."""
        assert self._server is not None, "start() the fake first"
        return f"http://{self._host}:{self._server.server_port}"

    def issuer(self, tenant_id: str) -> str:
        """The v2.0 issuer of a tenant (the metadata's template, filled in)."""
        return f"{self.login_url}/{tenant_id}/v2.0"

    # ---------------------------------------------------------------- accounts and keys

    def add_account(
        self,
        *,
        name: str = "Someone",
        upn: str | None = None,
        email: str | None = None,
        tenant_id: str | None = None,
        object_id: str | None = None,
        email_verified: bool = True,
    ) -> MicrosoftAccount:
        """A new account (in the fake's tenant unless told otherwise)."""
        with self._lock:
            upn = upn or f"user{len(self.accounts) + 1}@contoso.example"
            account = MicrosoftAccount(
                tenant_id=tenant_id or self.tenant_id,
                object_id=object_id or str(uuid.uuid4()),
                name=name,
                upn=upn,
                email=email if email is not None else upn,
                email_verified=email_verified,
            )
            self.accounts[account.object_id] = account
            return account

    def rotate_keys(self, *, keep_old: bool = False) -> str:
        """Sign with a new key from now on; publish it (with the old one if `keep_old`)."""
        with self._lock:
            key = _new_key()
            self.keys = [*self.keys, key] if keep_old else [key]
            self.signing_key = key
            return str(key.kid)

    def sign(self, claims: dict[str, Any], *, key: RSAKey | None = None) -> str:
        """A JWT of these claims signed (RS256) with `key` or the current signing key."""
        key = key or self.signing_key
        header = {"typ": "JWT", "alg": "RS256", "kid": key.kid, "x5t": key.kid}
        return jwt.encode(header, claims, key)

    def id_token(self, account: MicrosoftAccount, *, nonce: str = "", **overrides: Any) -> str:
        """An id_token as NOTES §1.4 describes it (v2.0); `overrides` replace claims."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": self.issuer(account.tenant_id),
            "sub": _b64url(hashlib.sha256(account.object_id.encode()).digest()),
            "aud": self.client_id,
            "exp": now + 3600,
            "iat": now,
            "nbf": now,
            "tid": account.tenant_id,
            "oid": account.object_id,
            "name": account.name,
            "preferred_username": account.upn,
            "email": account.email,
        }
        if nonce:
            claims["nonce"] = nonce
        if account.email_verified:
            claims["xms_edov"] = True
        claims.update(overrides)
        return self.sign({k: v for k, v in claims.items() if v is not None})

    def sso_token(
        self,
        account: MicrosoftAccount,
        *,
        version: str = "2.0",
        resource: str = "",
        client: str = TEAMS_DESKTOP,
        **overrides: Any,
    ) -> str:
        """A Teams tab SSO token (NOTES §4.4); `resource` is the v1.0 audience."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "ver": version,
            "exp": now + 3600,
            "iat": now,
            "nbf": now,
            "tid": account.tenant_id,
            "oid": account.object_id,
            "name": account.name,
            "scp": "access_as_user",
        }
        if version == "1.0":
            claims |= {
                "iss": f"https://sts.windows.net/{account.tenant_id}/",
                "aud": resource,
                "appid": client,
                "upn": account.upn,
                "unique_name": account.upn,
            }
        else:
            claims |= {
                "iss": self.issuer(account.tenant_id),
                "aud": self.client_id,
                "azp": client,
                "preferred_username": account.upn,
            }
        claims.update(overrides)
        return self.sign({k: v for k, v in claims.items() if v is not None})

    # ---------------------------------------------------------------- tokens for tests

    def issue_tokens(
        self, account: MicrosoftAccount | None = None, scopes: Iterable[str] = ()
    ) -> dict[str, Any]:
        """A token answer as if `account` had signed in (skips the browser step)."""
        with self._lock:
            grant = _Grant(account or self.default_account, list(scopes) or sorted(KNOWN_SCOPES))
            return self._answer(grant, nonce="")

    def revoke(self, account: MicrosoftAccount) -> None:
        """Every grant of the account is gone (a password change, an admin's revocation)."""
        with self._lock:
            for refresh in self._refresh.values():
                if refresh.grant.account is account:
                    refresh.grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working."""
        with self._lock:
            for token, (account, _expires, scopes) in list(self._access.items()):
                self._access[token] = (account, 0.0, scopes)

    def account_for_access_token(self, token: str) -> MicrosoftAccount | None:
        """Whose live access token this is (a fake Graph can check bearer tokens with it)."""
        with self._lock:
            found = self._access.get(token)
            if found is None or found[1] < time.time():
                return None
            return found[0]

    def refresh_token_is_live(self, token: str) -> bool:
        """Whether a refresh token would still be accepted."""
        with self._lock:
            found = self._refresh.get(token)
            return found is not None and not found.used and not found.grant.revoked

    def _answer(self, grant: _Grant, *, nonce: str) -> dict[str, Any]:
        access = "eyJ0eXAiOiJKV1QiLCJub25jZSI6ImZha2UifQ." + secrets.token_urlsafe(900)
        refresh = "0.AAAA" + secrets.token_urlsafe(600)
        self._access[access] = (grant.account, time.time() + self.access_token_ttl, grant.scopes)
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(s for s in grant.scopes if s not in OIDC_SCOPES),
            "expires_in": self.access_token_ttl,
            "ext_expires_in": self.access_token_ttl,
            "access_token": access,
        }
        if "offline_access" in grant.scopes:
            self._refresh[refresh] = _Refresh(grant)
            answer["refresh_token"] = refresh
        if "openid" in grant.scopes:
            answer["id_token"] = self.id_token(grant.account, nonce=nonce)
        return answer

    def count(self, name: str) -> int:
        """Requests served of one kind: "metadata", "jwks", "authorize", "token" (of which
        "refresh": redeeming a refresh token)."""
        with self._lock:
            return self.counts[name]

    # ---------------------------------------------------------------- HTTP

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _violation(self, request: Request, text: str) -> None:
        self.violations.append(f"{request.method} {request.path}: {text}")

    def _dispatch(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    request.method, request.path, dict(request.args), dict(request.form)
                )
            )
            if len(parts) < 2:
                return self._error(404, "not_found", "AADSTS90002: no such endpoint")
            tenant, rest = parts[0], "/".join(parts[1:])
            if tenant not in ("organizations", "common") and tenant != self.tenant_id:
                return self._error(400, "invalid_tenant", "AADSTS90002: Tenant not found.")
            if rest == "v2.0/.well-known/openid-configuration" and request.method == "GET":
                self.counts["metadata"] += 1
                return self._metadata(tenant)
            if rest == "discovery/v2.0/keys" and request.method == "GET":
                self.counts["jwks"] += 1
                return Response(
                    _json({"keys": [self._public_jwk(k) for k in self.keys]}),
                    content_type="application/json",
                )
            if rest == "oauth2/v2.0/authorize" and request.method == "GET":
                self.counts["authorize"] += 1
                return self._authorize(request)
            if rest == "oauth2/v2.0/token" and request.method == "POST":
                self.counts["token"] += 1
                return self._token(request)
            self._violation(request, "no such endpoint at Microsoft")
            return self._error(404, "not_found", "AADSTS90002")

    def _public_jwk(self, key: RSAKey) -> dict[str, Any]:
        public = key.as_dict(private=False)
        # Microsoft's JWKS entries carry these too (and `issuer`); a client must cope.
        return {
            **public,
            "use": "sig",
            "x5t": key.kid,
            "issuer": f"{self.login_url}/{{tenantid}}/v2.0",
        }

    def _metadata(self, tenant: str) -> Response:
        base = f"{self.login_url}/{tenant}"
        issuer_tenant = "{tenantid}" if tenant in ("organizations", "common") else tenant
        return Response(
            _json(
                {
                    "issuer": f"{self.login_url}/{issuer_tenant}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "jwks_uri": f"{base}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "code id_token"],
                    "response_modes_supported": ["query", "fragment", "form_post"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid", "profile", "email", "offline_access"],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                        "client_secret_basic",
                    ],
                    "tenant_region_scope": None,
                    "cloud_instance_name": "microsoftonline.com",
                }
            ),
            content_type="application/json",
        )

    def _authorize(self, request: Request) -> Response:
        args = request.args
        problems = [f"unknown parameter {name!r}" for name in args if name not in AUTHORIZE_PARAMS]
        if args.get("client_id") != self.client_id:
            problems.append(f"client_id {args.get('client_id')!r} is not the registered app")
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            # AADSTS50011: the redirect URI must match a registered one exactly; Microsoft
            # shows an error page instead of redirecting.
            self._violation(request, f"redirect_uri {redirect_uri!r} is not registered")
            return Response("AADSTS50011: redirect URI mismatch", status=400)
        if args.get("response_type") != "code":
            problems.append("response_type must be 'code'")
        if args.get("response_mode", "query") not in ("query", "form_post", "fragment"):
            problems.append("response_mode must be query, form_post or fragment")
        scopes = args.get("scope", "").split()
        if "openid" not in scopes:
            problems.append("scope lacks openid (no id_token)")
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            problems.append(f"scopes the app registration does not have: {unknown}")
        if not args.get("state"):
            problems.append("no state")
        if not args.get("nonce"):
            problems.append("no nonce although openid is requested")
        challenge = args.get("code_challenge", "")
        if not 43 <= len(challenge) <= 128:
            problems.append("code_challenge missing or of the wrong length")
        if args.get("code_challenge_method") != "S256":
            problems.append("code_challenge_method must be S256")
        if args.get("prompt", "login") not in ("login", "none", "consent", "select_account"):
            problems.append("prompt has an unknown value")
        if problems:
            for problem in problems:
                self._violation(request, problem)
            return self._redirect(
                redirect_uri,
                {"error": "invalid_request", "error_description": "AADSTS90014: bad request",
                 "state": args.get("state", "")},
            )  # fmt: skip
        if self.authorize_error:
            error, self.authorize_error = self.authorize_error, None
            return self._redirect(
                redirect_uri,
                {"error": error, "error_description": "AADSTS65004: User declined to consent",
                 "state": args.get("state", "")},
            )  # fmt: skip
        code = "1.AQ" + secrets.token_urlsafe(300)
        self._codes[code] = _Code(
            account=self.next_account,
            redirect_uri=redirect_uri,
            challenge=challenge,
            nonce=args.get("nonce", ""),
            scopes=scopes,
            expires_at=time.time() + 600,
        )
        return self._redirect(
            redirect_uri, {"code": code, "state": args.get("state", ""), "session_state": "x"}
        )

    def _redirect(self, target: str, params: dict[str, str]) -> Response:
        joiner = "&" if "?" in target else "?"
        return Response(status=302, headers={"Location": f"{target}{joiner}{urlencode(params)}"})

    def _token(self, request: Request) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            self._violation(request, f"body must be a form, not {request.mimetype!r}")
            return self._error(400, "invalid_request", "AADSTS900144: body is not a form")
        form = request.form
        grant_type = form.get("grant_type", "")
        if grant_type not in TOKEN_PARAMS:
            self._violation(request, f"grant_type {grant_type!r} is not one Kollega should use")
            return self._error(400, "unsupported_grant_type", "AADSTS70003")
        required, optional = TOKEN_PARAMS[grant_type]
        problems = [f"missing {name}" for name in sorted(required) if not form.get(name)]
        problems += [
            f"unknown parameter {name!r}" for name in form if name not in required | optional
        ]
        if form.get("client_id") and form.get("client_id") != self.client_id:
            problems.append(f"client_id {form.get('client_id')!r} is not the registered app")
        if problems:
            for problem in problems:
                self._violation(request, problem)
            return self._error(400, "invalid_request", "AADSTS900144: " + "; ".join(problems))
        if self.token_error is not None:
            status, error = self.token_error
            return self._error(status, error, "AADSTS50000: injected", retry_after=status >= 429)
        if not secrets.compare_digest(form["client_secret"], self.client_secret):
            return self._error(401, "invalid_client", "AADSTS7000215: Invalid client secret")
        if grant_type == "authorization_code":
            return self._redeem_code(request)
        return self._redeem_refresh(request)

    def _redeem_code(self, request: Request) -> Response:
        form = request.form
        code = self._codes.get(form["code"])
        if code is None or code.used or code.expires_at < time.time():
            return self._error(400, "invalid_grant", "AADSTS54005: code already redeemed")
        code.used = True
        if form["redirect_uri"] != code.redirect_uri:
            self._violation(request, "redirect_uri differs from the authorise request's")
            return self._error(400, "invalid_grant", "AADSTS50148: redirect_uri mismatch")
        digest = _b64url(hashlib.sha256(form["code_verifier"].encode()).digest())
        if not secrets.compare_digest(digest, code.challenge):
            self._violation(request, "code_verifier does not match the code_challenge")
            return self._error(400, "invalid_grant", "AADSTS501481: code_verifier mismatch")
        scopes = form.get("scope", "").split()
        if scopes and not set(scopes) <= set(code.scopes):
            self._violation(request, "scope asks for more than was authorised")
        return self._tokens(_Grant(code.account, code.scopes), nonce=code.nonce)

    def _redeem_refresh(self, request: Request) -> Response:
        self.counts["refresh"] += 1
        form = request.form
        refresh = self._refresh.get(form["refresh_token"])
        if refresh is None or refresh.grant.revoked:
            return self._error(
                400, "invalid_grant", "AADSTS50173: The provided grant has expired or revoked"
            )
        scopes = form["scope"].split()
        if not set(scopes) <= set(refresh.grant.scopes):
            return self._error(400, "invalid_grant", "AADSTS65001: consent_required")
        # NOTES §1.3: refresh tokens replace themselves on every use. Microsoft does not revoke
        # the old one at once, so it is answered, but a client that uses it again did not
        # keep the replacement.
        if refresh.used:
            self._violation(request, "a refresh token was used twice: its replacement was lost")
        refresh.used = True
        return self._tokens(refresh.grant, nonce="")

    def _tokens(self, grant: _Grant, *, nonce: str) -> Response:
        return Response(
            _json(self._answer(grant, nonce=nonce)),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    def _error(
        self, status: int, error: str, description: str, *, retry_after: bool = False
    ) -> Response:
        headers = {"Retry-After": "1"} if retry_after else {}
        return Response(
            _json(
                {
                    "error": error,
                    "error_description": f"{description}\r\nTrace ID: 0\r\nTimestamp: now",
                    "error_codes": [int("".join(c for c in description[:14] if c.isdigit()) or 0)],
                    "trace_id": str(uuid.uuid4()),
                    "correlation_id": str(uuid.uuid4()),
                }
            ),
            status=status,
            content_type="application/json",
            headers=headers,
        )


def _json(data: Any) -> str:
    return json.dumps(data)

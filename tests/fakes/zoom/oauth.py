"""Zoom's OAuth endpoints: authorise, token and revoke, checked by hand against NOTES §1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from tests.fakes.zoom.formats import b64url
from tests.fakes.zoom.records import AuthCode, ErrorAnswer
from tests.fakes.zoom.state import ZoomState


class OAuthEndpoints(ZoomState):
    """``/oauth/authorize``, ``/oauth/token`` and ``/oauth/revoke``."""

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
            self._codes[code] = AuthCode(
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
    def _oauth_error(status: int, reason: str, error: str) -> ErrorAnswer:
        err = ErrorAnswer(status, 0, reason)
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
            except ErrorAnswer as err:
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
                    expected = b64url(digest)
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

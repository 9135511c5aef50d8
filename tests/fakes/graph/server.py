"""A fake Microsoft Graph: a real local HTTP server that answers like Graph and checks requests.

Every request is checked against ``graph-openapi.json`` (``validation.py``) and against the
rules NOTES §8 says the service adds; each mismatch is appended to :attr:`FakeGraph.violations`
and answered with Graph's 400 error body. The fake's own successful answers are checked too
(:attr:`FakeGraph.self_violations`). What the resources do is in ``resources.py``.

Bearer tokens: by default the fake issues its own (:meth:`FakeGraph.issue_token`); once it
:meth:`FakeGraph.trust` s the fake Microsoft identity platform, it accepts only live access
tokens that platform issued, so Kollega's whole chain is exercised (connect, refresh with
rotation, the Graph call, 401 and refresh again).

References "NOTES §x" point to ``shared/specs/teams/NOTES.md``.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.graph.common import JSON_TYPE, GraphError, error_response, new_guid
from tests.fakes.graph.resources import Resources
from tests.fakes.graph.validation import Checker, Operation, check_query, load_spec

if TYPE_CHECKING:
    from tests.fakes.microsoft_identity import FakeMicrosoftIdentity, MicrosoftAccount

#: Graph's error codes for injected statuses (NOTES §2.7: the casing varies, on purpose here).
_INJECTED = {
    401: ("InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
    429: ("TooManyRequests", "Too many requests, please retry after some time."),
    500: ("generalException", "General exception while processing."),
    502: ("badGateway", "Bad gateway."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable."),
    504: ("gatewayTimeout", "Gateway timeout."),
}


@dataclass
class GraphUser:
    """A work or school account of the fake tenant (the organiser of meetings)."""

    id: str
    display_name: str
    mail: str
    tenant_id: str

    @property
    def upn(self) -> str:
        """The user principal name (here the same as the mail address)."""
        return self.mail

    def as_json(self) -> dict[str, Any]:
        """``GET /me`` (NOTES §8: not in the fragment; documented shape)."""
        return {
            "id": self.id,
            "displayName": self.display_name,
            "mail": self.mail,
            "userPrincipalName": self.upn,
            "preferredLanguage": "fi-FI",
        }


@dataclass
class Injection:
    """A fault for the next ``times`` requests matching ``method`` and the ``path`` glob."""

    method: str
    path: str
    status: int | None = None
    times: int | None = 1
    retry_after: str | int | None = None
    retry_in: float = 1.0
    delay: float = 0.0
    code: str | None = None
    body: Any = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)


@dataclass
class RecordedRequest:
    """One request the fake received (the Authorization header left out)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    time: float
    user_id: str | None = None
    status: int | None = None
    injected: bool = False


@dataclass
class _Token:
    value: str
    user_id: str
    expires: float
    revoked: bool = False


@dataclass
class Delivery:
    """A notification or validation request the fake sent to Kollega, and the answer."""

    url: str
    body: Any
    status: int | None
    content_type: str = ""
    text: str = ""
    error: str = ""


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Keep test output clean."""

    def log_error(self, format: str, *args: Any) -> None:
        """Keep test output clean (client timeouts drop connections on purpose)."""


class FakeGraph(Resources):
    """A fake Microsoft Graph v1.0 on ``127.0.0.1`` in a background thread.

    Tests get one from the ``fake_graph`` fixture (``tests.fakes.graph.fixture``).
    """

    def __init__(self, *, host: str = "127.0.0.1", access_token_ttl: int = 3600) -> None:
        self.spec = load_spec()
        self.access_token_ttl = access_token_ttl
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._host = host
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._reset_state()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeGraph:
        """Start serving on a free port; returns ``self``."""
        if self._server is None:
            self._server = make_server(
                self._host, 0, self._wsgi, threaded=True, request_handler=_QuietHandler
            )
            self.port = self._server.port
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fake-graph-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server (wakes slow answers still sleeping)."""
        self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def reset(self) -> None:
        """Forget everything: users, tokens, resources, logs, injections, clock offset."""
        self._wake.set()
        with self._lock:
            self._wake = threading.Event()
            self._reset_state()

    def _reset_state(self) -> None:
        self.tenant_id = new_guid()
        #: Whose access tokens are accepted, when not the fake's own (see :meth:`trust`).
        self.identity: FakeMicrosoftIdentity | None = None
        self.users: dict[str, GraphUser] = {}
        self._tokens: dict[str, _Token] = {}
        self.injections: list[Injection] = []
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.self_violations: list[str] = []
        self.deliveries: list[Delivery] = []
        self.clock_offset = 0.0
        #: How Graph's calls to Kollega's endpoints travel (replaceable in a test).
        self.transport: Callable[[str, bytes, dict[str, str], float], Delivery] = _http_post
        self.reset_resources()
        self.default_user = self.add_user("Fanni Fasilitaattori", "fanni@kollega-test.fi")

    # ---------------------------------------------------------------- addresses and clock

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self._host}:{self.port}"

    @property
    def graph_url(self) -> str:
        """The Graph v1.0 address to configure (``teams_graph_url``)."""
        return f"{self.base_url}/v1.0"

    def now(self) -> float:
        """The fake's clock (real time plus :meth:`advance`)."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (tokens and subscriptions expire by it)."""
        with self._lock:
            self.clock_offset += seconds

    # ---------------------------------------------------------------- users and tokens

    def trust(self, identity: FakeMicrosoftIdentity) -> None:
        """Accept only access tokens ``identity`` issued and has not expired, as Graph accepts
        only the Microsoft identity platform's; the users are its accounts from now on.

        Until :meth:`reset`. The fake's own :meth:`issue_token` is then refused, and expiry
        follows the identity platform's clock (:meth:`advance` moves only subscriptions).
        """
        with self._lock:
            self.identity = identity
            self.tenant_id = identity.tenant_id
            self.users = {}
            self.default_user = self.user_of(identity.default_account)

    def user_of(self, account: MicrosoftAccount) -> GraphUser:
        """The Graph user of an identity-platform account (its object id is the user id)."""
        with self._lock:
            user = self.users.get(account.object_id)
            if user is None:
                user = GraphUser(account.object_id, account.name, account.email, account.tenant_id)
                self.users[user.id] = user
            return user

    def add_user(self, name: str, mail: str) -> GraphUser:
        """Another account of the tenant (made at the trusted identity platform, if any)."""
        with self._lock:
            if self.identity is not None:
                return self.user_of(self.identity.add_account(name=name, upn=mail))
            user = GraphUser(new_guid(), name, mail, self.tenant_id)
            self.users[user.id] = user
        return user

    def issue_token(self, user: GraphUser | None = None, ttl: int | None = None) -> str:
        """A delegated access token for ``user`` (JWT-shaped, 1,500+ characters like Entra's),
        for tests of the fake or of the Graph client alone; not while trusting an identity."""
        if self.identity is not None:
            raise AssertionError("this fake Graph takes tokens from the identity platform only")
        user = user or self.default_user
        claims = {"oid": user.id, "tid": user.tenant_id, "nonce": secrets.token_hex(600)}
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        value = f"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{body}.{secrets.token_urlsafe(256)}"
        with self._lock:
            self._tokens[value] = _Token(
                value, user.id, self.now() + (self.access_token_ttl if ttl is None else ttl)
            )
        return value

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (Graph answers 401)."""
        if self.identity is not None:
            self.identity.expire_access_tokens()
            return
        with self._lock:
            for token in self._tokens.values():
                token.expires = min(token.expires, self.now() - 1)

    def token_user(self, value: str) -> GraphUser | None:
        """The user of a valid token, else None."""
        if self.identity is not None:
            account = self.identity.account_for_access_token(value)
            return self.user_of(account) if account is not None else None
        with self._lock:
            token = self._tokens.get(value)
            if token is None or token.revoked or token.expires <= self.now():
                return None
            return self.users[token.user_id]

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
        delay: float = 0.0,
        code: str | None = None,
        body: Any = None,
    ) -> Injection:
        """Make the next ``times`` (None: all) requests matching ``method``/``path`` misbehave.

        ``path`` is a glob on the decoded request path (``/v1.0/me/events*``). ``status``
        answers with Graph's error body for it (``code`` overrides the code); with no status
        the request is handled normally and only ``delay`` applies (a slow create still
        creates). ``retry_after``: ``"seconds"`` sends ``Retry-After: <retry_in>``,
        ``"http-date"`` an HTTP date ``retry_in`` from now, anything else as is.
        """
        injection = Injection(method, path, status, times, retry_after, retry_in, delay, code, body)
        with self._lock:
            self.injections.append(injection)
        return injection

    def clear_injections(self) -> None:
        """Remove all pending faults."""
        with self._lock:
            self.injections.clear()

    # ---------------------------------------------------------------- what tests read

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests matching ``method`` (or ``*``) and the ``path`` glob."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper())
                and fnmatch.fnmatchcase(r.path, path)
            ]

    def count(self, method: str, path: str) -> int:
        """How many requests matched."""
        return len(self.requests_to(method, path))

    def take_violations(self) -> list[str]:
        """Return and clear the recorded violations (for tests that provoke them)."""
        with self._lock:
            out, self.violations = self.violations, []
            return out

    # ---------------------------------------------------------------- delivering to Kollega

    def post_to(self, url: str, body: Any, *, timeout: float = 10.0) -> Delivery:
        """POST a JSON body to one of Kollega's endpoints, as Graph does; recorded."""
        raw = b"" if body is None else json.dumps(body).encode()
        headers = (
            {"Content-Type": "application/json; charset=utf-8"}
            if body is not None
            else {"Content-Type": "text/plain; charset=utf-8"}
        )
        delivery = self.transport(url, raw, headers, timeout)
        delivery.body = body
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    # ---------------------------------------------------------------- WSGI

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(request.path)
        raw_path = urlsplit(raw_uri).path or "/"
        record = self._record(request)
        response, delay = self._dispatch(request, raw_path, record)
        if delay:
            self._wake.wait(delay)
        record.status = response.status_code
        response.headers.setdefault("request-id", new_guid())
        client_request_id = request.headers.get("client-request-id")
        if client_request_id:
            response.headers["client-request-id"] = client_request_id
        return response(environ, start_response)

    def _record(self, request: Request) -> RecordedRequest:
        body = request.get_data(cache=True)
        payload: Any = None
        if body:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        user = self.token_user(value.strip()) if scheme.lower() == "bearer" else None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query={k: request.args.getlist(k) for k in request.args},
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            json=payload,
            time=time.time(),
            user_id=user.id if user else None,
        )
        with self._lock:
            self.requests.append(record)
        return record

    def _violation(self, request: Request, details: Iterable[str]) -> None:
        text = f"{request.method} {request.full_path.rstrip('?')}" + "".join(
            f"\n    {d}" for d in details
        )
        with self._lock:
            self.violations.append(text)

    def _dispatch(
        self, request: Request, raw_path: str, record: RecordedRequest
    ) -> tuple[Response, float]:
        if not raw_path.startswith("/v1.0/"):
            self._violation(request, ["not a Graph v1.0 address"])
            return error_response(404, "UnknownError", "Resource not found."), 0.0
        graph_path = raw_path.removeprefix("/v1.0")
        with self._lock:
            injection = next(
                (i for i in self.injections if i.matches(request.method, request.path)), None
            )
            if injection is not None:
                injection.hits += 1
        try:
            operation, problems = self._validate(request, graph_path)
        except GraphError as exc:
            return exc.response(), 0.0
        if problems:
            self._violation(request, problems)
        if injection is not None and injection.status is not None:
            record.injected = True
            self._wake.wait(injection.delay)
            return self._injected(injection), 0.0
        delay = injection.delay if injection is not None else 0.0
        try:
            user = self._authenticate(request)
            if problems:
                raise GraphError(400, "BadRequest", problems[0].split(": ", 1)[-1][:300])
            response = self.handle(request, graph_path, operation, user)
        except GraphError as exc:
            return exc.response(), delay
        if operation is not None and 200 <= response.status_code < 300:
            self._check_answer(request, operation, response)
        return response, delay

    def _validate(self, request: Request, graph_path: str) -> tuple[Operation | None, list[str]]:
        """The operation and the problems of a request (raises 404/405 for unknown ones)."""
        if graph_path in ("/me", "/me/calendar") and request.method == "GET":
            # NOTES §8: served from the documented shapes; only $select is allowed.
            extra = [k for k in request.args if k != "$select"]
            return None, [f"query parameter {k!r} is not allowed here" for k in extra]
        operation, path_known = self.spec.find(request.method, graph_path)
        if operation is None:
            self._violation(request, ["path or method not in graph-openapi.json"])
            if path_known:
                raise GraphError(405, "Request_BadRequest", "Method not allowed.")
            raise GraphError(
                400, "BadRequest", f"Resource not found for the segment in {graph_path}."
            )
        problems = check_query(
            self.spec, operation, {k: request.args.getlist(k) for k in request.args}
        )
        for (location, name), declared in operation.parameters.items():
            if location == "header" and declared.get("required") and name not in request.headers:
                problems.append(f"header {name!r} is required")
        body_spec = operation.spec.get("requestBody")
        raw = request.get_data(cache=True)
        if body_spec is None:
            if raw:
                problems.append("a body is sent to an operation that takes none")
        else:
            body_spec = self.spec.deref(body_spec)
            if not raw:
                if body_spec.get("required"):
                    problems.append("the request body is required")
            elif request.mimetype != "application/json":
                problems.append(f"Content-Type {request.mimetype!r} is not application/json")
            else:
                try:
                    payload = json.loads(raw)
                except ValueError:
                    problems.append("the body is not JSON")
                else:
                    schema = body_spec["content"]["application/json"]["schema"]
                    problems += Checker(self.spec).check_body(
                        payload, schema, action=operation.is_action
                    )
                    problems += self.service_rules(operation, payload)
        auth = request.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            problems.append("no bearer token (security: azureaadv2)")
        return operation, problems

    def _authenticate(self, request: Request) -> GraphUser:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        user = self.token_user(value.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise GraphError(401, "InvalidAuthenticationToken", _INJECTED[401][1])
        return user

    def _check_answer(self, request: Request, operation: Operation, response: Response) -> None:
        answers = operation.spec.get("responses", {})
        declared = answers.get(str(response.status_code)) or answers.get("2XX")
        if declared is None and response.status_code == 202 and "204" in answers:
            declared = answers["204"]  # NOTES §8: live Graph answers 202 where 204 is declared
        problems: list[str] = []
        if declared is None:
            problems.append(f"status {response.status_code} is not declared")
        else:
            declared = self.spec.deref(declared)
            content = declared.get("content", {}).get("application/json")
            if content is not None:
                problems += Checker(self.spec, answer=True).check(
                    json.loads(response.get_data()), content["schema"], "answer"
                )
        if problems:
            with self._lock:
                self.self_violations.append(
                    f"{request.method} {request.path} -> {response.status_code}"
                    + "".join(f"\n    {p}" for p in problems)
                )

    def _injected(self, injection: Injection) -> Response:
        status = injection.status or 500
        code, message = _INJECTED.get(status, ("UnknownError", "Injected error."))
        response = error_response(status, injection.code or code, message)
        if injection.body is not None:
            response = Response(json.dumps(injection.body), status, content_type=JSON_TYPE)
        if injection.retry_after is not None:
            response.headers["Retry-After"] = self._retry_after(injection)
        return response

    def _retry_after(self, injection: Injection) -> str:
        if injection.retry_after == "seconds":
            return str(math.ceil(injection.retry_in))
        if injection.retry_after == "http-date":
            return formatdate(time.time() + injection.retry_in + 0.999, usegmt=True)
        return str(injection.retry_after)


def _http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Delivery:
    """Graph's POST to a notification endpoint over real HTTP."""
    import requests

    try:
        answer = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return Delivery(url, None, None, error=type(exc).__name__)
    return Delivery(
        url,
        None,
        answer.status_code,
        answer.headers.get("Content-Type", ""),
        answer.text,
    )


__all__ = [
    "Delivery",
    "FakeGraph",
    "GraphUser",
    "Injection",
    "RecordedRequest",
]

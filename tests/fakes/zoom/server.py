"""The fake's HTTP server: records every request, checks it, injects faults, dispatches it."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, urlsplit

from werkzeug.datastructures import Headers
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.zoom.api import ApiRouting
from tests.fakes.zoom.app_context import AppContextInputs
from tests.fakes.zoom.controls import FakeControls
from tests.fakes.zoom.formats import iso
from tests.fakes.zoom.meetings import MeetingRoutes
from tests.fakes.zoom.oauth import OAuthEndpoints
from tests.fakes.zoom.past_meetings import PastMeetingRoutes
from tests.fakes.zoom.records import ErrorAnswer, Injection, RecordedRequest
from tests.fakes.zoom.state import JSON_TYPE
from tests.fakes.zoom.validation import SpecValidation
from tests.fakes.zoom.webhooks import WebhookInputs

# [guess] Texts of account-level 429s (QPS / daily), not in NOTES; body code 429 is a guess.
QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = (
    "You have reached the maximum daily rate limit for this API. Refer to the response header "
    "for details on when you can make another request."
)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Keep test output clean."""

    def log_error(self, format: str, *args: Any) -> None:
        """Keep test output clean (client timeouts drop connections on purpose)."""


class FakeZoom(
    FakeControls,
    WebhookInputs,
    AppContextInputs,
    OAuthEndpoints,
    SpecValidation,
    ApiRouting,
    MeetingRoutes,
    PastMeetingRoutes,
):
    """A fake Zoom (OAuth + Meeting API) on ``127.0.0.1`` in a background thread.

    Use as a context manager or call :meth:`start` / :meth:`stop`. Tests normally get one
    from the ``fake_zoom`` fixture (``tests.fakes.zoom_fixture``).
    """

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
        except ErrorAnswer as err:
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
            return iso(time.time() + inj.retry_in + 0.999)
        if ra == "http-date":
            return formatdate(time.time() + inj.retry_in + 0.999, usegmt=True)
        return str(ra)

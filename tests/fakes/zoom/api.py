"""The Meeting API's routing, authentication and access rules (NOTES §2)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from tests.fakes.zoom.records import ApiContext, ErrorAnswer, FakeUser, StoredMeeting
from tests.fakes.zoom.state import ZoomState

# NOTES §2.1: the exact 429 text of the per-user 100/day create+update limit.
DAILY_LIMIT_MESSAGE = (
    "You have exceeded the daily rate limit ({limit}) of Meeting Create/Update API requests "
    "permitted for this particular user. You may resume these requests at GMT 00:00:00."
)

_Handler = Callable[[Request, "ApiContext", dict[str, str]], Response]


class ApiRouting(ZoomState):
    """Routes a ``/v2`` request to its handler (in `meetings.py`, `past_meetings.py`)."""

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

    def _authenticate(self, request: Request) -> ApiContext:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        with self._lock:
            tok = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
            if tok is None or tok.kind != "access" or tok.revoked:
                raise ErrorAnswer(401, 124, "Invalid access token.")  # NOTES §2.4
            if self._expired(tok):
                raise ErrorAnswer(401, 124, "Access token is expired.")  # NOTES §2.4
            return ApiContext(tok, self.users[tok.user_id])

    def _api(self, request: Request, raw_path: str, problems: list[tuple[str, str]]) -> Response:
        kinds = {kind for _, kind in problems}
        route = self._route(request.method, raw_path)
        if "path" in kinds or (route is None and "method" not in kinds):
            raise ErrorAnswer(404, 404, "Not Found")  # [guess] unknown endpoint
        if "method" in kinds or route is None:
            raise ErrorAnswer(405, 405, "Method Not Allowed")  # [guess]
        ctx = self._authenticate(request)
        if "encoding" in kinds:
            raise ErrorAnswer(404, 3001, "This meeting is not available or ID is not valid.")
        body_is_json = request.mimetype == "application/json" and (
            request.get_json(silent=True) is not None
        )
        if request.get_data() and not body_is_json:
            raise ErrorAnswer(400, 300, "Request Body should be a valid JSON object.")  # [guess]
        if kinds - {"detail", "encoding"}:
            fields = request.environ.get("fakezoom.fields") or []
            raise ErrorAnswer(400, 300, "Validation Failed.", errors=fields)  # NOTES §2.4
        handler: _Handler = getattr(self, route[0])
        response = handler(request, ctx, {"id": route[1]})
        if route[2] and 200 <= response.status_code < 300:
            self._check_response(request, raw_path, response)
        return response

    # ---------------------------------------------------------------- access rules

    def _target_user(self, ctx: ApiContext, user_ref: str) -> FakeUser:
        ref = unquote(user_ref)
        if ref == "me":
            return ctx.user
        with self._lock:
            user = next((u for u in self.users.values() if ref in (u.id, u.email)), None)
        if user is None or user.account_id != ctx.user.account_id:
            raise ErrorAnswer(404, 1001, f"User {ref} not exist or not belong to this account.")
        if user.id != ctx.user.id and not ctx.token.s2s:
            # [guess] a user-level token may only act for its own user
            raise ErrorAnswer(400, 200, "No permission.")
        return user

    def _find_meeting(self, ctx: ApiContext, raw_id: str, *, write: bool) -> StoredMeeting:
        meeting = self._meetings.get(int(raw_id))
        if meeting is None or meeting.account_id != ctx.user.account_id:
            # NOTES §2.2/§2.3: 404 code 3001; [guess] other accounts look "not found" too.
            raise ErrorAnswer(404, 3001, f"Meeting {raw_id} is not found or has expired.")
        if meeting.host_id != ctx.user.id and not ctx.token.s2s:
            if write:
                raise ErrorAnswer(400, 3003, "You are not the meeting host.")  # NOTES §2.2
            raise ErrorAnswer(400, 3000, "Cannot access meeting information.")  # [guess]
        return meeting

    def _count_daily(self, host_id: str) -> None:
        # NOTES §2.1 / §2.5: 100 create+update per host per UTC day; 429 came without
        # X-RateLimit-Type / Retry-After (devforum 18928) -- so none are sent here.
        day = dt.datetime.fromtimestamp(self.now(), dt.UTC).date().isoformat()
        key = (host_id, day)
        if self._daily[key] >= self.daily_meeting_limit:
            raise ErrorAnswer(429, 429, DAILY_LIMIT_MESSAGE.format(limit=self.daily_meeting_limit))
        self._daily[key] += 1

    def _page(
        self, items: list[Any], token: str | None, page_size: int, scope: str
    ) -> tuple[list[Any], str]:
        offset = 0
        if token:
            entry = self._page_tokens.get(token)
            if entry is None or entry[0] != scope or entry[2] <= self.now():
                # NOTES §3: next_page_token valid 15 min. [guess] error text
                raise ErrorAnswer(400, 300, "The next page token is invalid or expired.")
            offset = entry[1]
        page = items[offset : offset + page_size]
        next_token = ""
        if offset + page_size < len(items):
            next_token = secrets.token_urlsafe(24)
            self._page_tokens[next_token] = (scope, offset + page_size, self.now() + 900)
        return page, next_token

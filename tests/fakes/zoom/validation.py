"""Checking ``/v2`` requests and the fake's own answers against ``meetings-openapi.json``,
plus the NOTES rules the schema lacks."""

from __future__ import annotations

import re

from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathError
from openapi_core.validation.request.exceptions import SecurityValidationError
from werkzeug.wrappers import Request, Response

from tests.fakes.zoom.formats import decode_meeting_key, parse_start_time
from tests.fakes.zoom.spec import START_TIME_RE, SpecRequest, describe_errors
from tests.fakes.zoom.state import ZoomState

# NOTES §2.1: password ≤ 10 chars of [A-Za-z0-9@-_*].
_PASSWORD_RE = re.compile(r"^[A-Za-z0-9@\-_*]{0,10}$")


class SpecValidation(ZoomState):
    """Request problems become violations; answers outside the spec, self-violations."""

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
            errors = list(self.openapi.iter_request_errors(SpecRequest(request, raw_path)))
        problems: list[tuple[str, str]] = []
        if errors:
            details, fields = describe_errors(errors)
            kind = "security" if isinstance(errors[0], SecurityValidationError) else "schema"
            if isinstance(errors[0], PathError):
                kind = "method" if isinstance(errors[0], OperationNotFound) else "path"
            problems.append(("does not match meetings-openapi.json:", kind))
            problems.extend((f"  {d}", "detail") for d in details)
            request.environ["fakezoom.fields"] = fields
        uuid_routes = ("_past_parts", "_past_meeting", "_report_meeting", "_report_participants")
        if route is not None and route[0] in uuid_routes:
            _, ok = decode_meeting_key(route[1])
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
            if isinstance(start, str) and START_TIME_RE.match(start):
                try:
                    parse_start_time(start, "UTC")
                except ValueError:
                    problems.append((f"start_time {start!r} is not a date", "start_time"))
                    request.environ.setdefault("fakezoom.fields", []).append(
                        {"field": "start_time", "message": "Invalid field."}
                    )
        return problems

    def _check_response(self, request: Request, raw_path: str, response: Response) -> None:
        with self._validate_lock:
            errors = list(
                self.openapi.iter_response_errors(
                    SpecRequest(request, raw_path), WerkzeugOpenAPIResponse(response)
                )
            )
        if errors:
            details, _ = describe_errors(errors)
            text = f"{request.method} {raw_path} -> {response.status_code}" + "".join(
                f"\n    {d}" for d in details
            )
            with self._lock:
                self.self_violations.append(text)

"""Microsoft Graph over HTTP: bearer tokens, one refresh on 401, Retry-After, backoff.

The rules (NOTES §2.7):
- 401: the token is refused: ask for another one once (`stale`), repeat the request once.
- 429 and 503: `Retry-After` in seconds or as an HTTP date; a short wait is waited out, a
  long one becomes an error carrying the time (the job runner retries then).
- other 5xx, timeouts and dropped connections: exponential backoff, a bounded number of
  times; a write that may not be repeated raises GraphUncertain instead.
- every error answer becomes a GraphError in words a facilitator understands; Graph's
  `request-id` is logged with it (never the token).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
from flask_babel import gettext as _

from companion.config import Config
from companion.core.db import Db, utcnow
from integrations.teams import tokens
from integrations.teams.errors import (
    GraphError,
    GraphUncertain,
    describe,
    error_body,
    request_id_of,
)

log = logging.getLogger(__name__)

#: Pages followed through `@odata.nextLink` before stopping (a guard against a loop).
MAX_PAGES = 50
#: Statuses retried with backoff (NOTES §2.7: 503/504 may carry Retry-After too).
_RETRIED = {500, 502, 503, 504}


class TokenProvider(Protocol):
    """Where the client gets its bearer token: the facilitator's Microsoft connection."""

    def __call__(self, stale: str | None = None) -> str:
        """A usable access token; with `stale` (one Graph just refused), a different one."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> datetime | None:
    """When a `Retry-After` says to try again: delay-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    now = now or utcnow()
    text = value.strip()
    if text.isascii() and text.isdigit() and len(text) <= 9:  # ASCII, and a bounded wait
        return now + timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


class GraphClient:
    """Calls Microsoft Graph for one facilitator; raises GraphError in a facilitator's words."""

    def __init__(
        self,
        config: Config,
        tokens: TokenProvider,
        *,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.http = http or requests.Session()
        self.sleep = sleep
        self.base = config.teams_graph_url.rstrip("/")

    def backoff(self, attempt: int) -> float:
        """Seconds to pause before retry number `attempt + 1` (doubling each time)."""
        return float(self.config.teams_backoff_seconds * (2**attempt))

    def url(self, path: str) -> str:
        """The full address of a Graph path ("/me/events")."""
        return f"{self.base}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        may_duplicate: bool = False,
        missing_ok: bool = False,
    ) -> requests.Response:
        """Send one Graph request with retries; a 2xx answer, or GraphError.

        `path` is a Graph path or a full `@odata.nextLink` on the configured Graph address.
        `may_duplicate`: repeating the request could do the thing twice, so a timeout or a
        gateway error raises GraphUncertain instead of retrying. `missing_ok`: a 404 is
        returned rather than raised (deleting what is already gone).
        """
        url = path if path.startswith(("http://", "https://")) else self.url(path)
        if not url.startswith(f"{self.base}/"):
            # A nextLink elsewhere would carry the facilitator's token away: never follow it.
            raise GraphError(_("Microsoft 365 answered in an unexpected way."), status=None)
        # One id for all attempts, so Microsoft support can follow the retries (NOTES §2.7).
        client_request_id = str(uuid.uuid4())
        refreshed = False
        attempt = 0
        token = self.tokens()
        while True:
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "client-request-id": client_request_id,
                "return-client-request-id": "true",
            }
            try:
                response = self.http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=headers,
                    timeout=self.config.teams_timeout_seconds,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                log.warning(
                    "Graph %s %s: %s (attempt %s, client-request-id %s)",
                    method,
                    path.split("?")[0],
                    type(exc).__name__,
                    attempt,
                    client_request_id,
                )
                if may_duplicate:
                    raise GraphUncertain(type(exc).__name__) from None
                attempt = self._next_attempt(attempt, None)
                continue
            status = response.status_code
            if status < 400 or (missing_ok and status == 404):
                return response
            error = error_body(response.content, response.headers.get("Content-Type", ""))
            request_id = request_id_of(response.headers, error)
            log.warning(
                "Graph %s %s answered %s %s (request-id %s, client-request-id %s)",
                method,
                path.split("?")[0],
                status,
                error.get("code", ""),
                request_id,
                client_request_id,
            )
            if status == 401 and not refreshed:
                refreshed = True
                token = self.tokens(token)
                continue
            if status in (429, 503):
                wait = self._retry_wait(response, status, error, request_id, attempt)
                if may_duplicate and status == 503:
                    raise GraphUncertain(f"HTTP {status}")
                attempt = self._next_attempt(attempt, describe(status, error), wait)
                continue
            if status in _RETRIED:
                if may_duplicate:
                    raise GraphUncertain(f"HTTP {status}")
                attempt = self._next_attempt(attempt, describe(status, error))
                continue
            raise describe(status, error, request_id=request_id)

    def _next_attempt(
        self, attempt: int, error: GraphError | None, wait: float | None = None
    ) -> int:
        if attempt >= self.config.teams_retries:
            raise error or GraphError(
                _("Microsoft 365 did not answer in time. Kollega tries again later."),
                temporary=True,
            )
        self.sleep(self.backoff(attempt) if wait is None else wait)
        return attempt + 1

    def _retry_wait(
        self,
        response: requests.Response,
        status: int,
        error: dict[str, Any],
        request_id: str,
        attempt: int,
    ) -> float:
        """Seconds to wait before repeating after a 429/503, or GraphError if too long."""
        now = utcnow()
        retry_at = parse_retry_after(response.headers.get("Retry-After"), now)
        if retry_at is None:
            return self.backoff(attempt)
        wait = max(0.0, (retry_at - now).total_seconds())
        if wait > self.config.teams_max_wait_seconds:
            busy = describe(status, error, request_id=request_id)
            raise GraphError(
                _(
                    "Microsoft 365 is busy and asks to wait until %(time)s UTC. Kollega tries "
                    "again then.",
                    time=_stamp(retry_at),
                ),
                temporary=True,
                status=status,
                code=busy.code,
                graph_message=busy.graph_message,
                request_id=request_id,
                retry_at=retry_at,
            )
        return wait

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """GET a JSON object."""
        return read_json(self.request("GET", path, params=params or None))

    def send(self, method: str, path: str, body: dict[str, Any], **flags: Any) -> dict[str, Any]:
        """POST or PATCH a JSON body; the JSON answer ({} for 202/204)."""
        response = self.request(method, path, json=body, **flags)
        if response.status_code in (202, 204) or not response.content:
            return {}
        return read_json(response)

    def items(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following `@odata.nextLink` pages."""
        page: dict[str, Any] = self.get(path, **params)
        for _page in range(MAX_PAGES):
            for item in page.get("value") or []:
                if isinstance(item, dict):
                    yield item
            next_link = page.get("@odata.nextLink")
            if not isinstance(next_link, str) or not next_link:
                return
            page = self.get(next_link)


def read_json(response: requests.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer; a GraphError if Graph sent something else."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise GraphError(
            _("Microsoft 365 answered in an unexpected way. Kollega tries again later."),
            temporary=True,
            status=response.status_code,
        )
    return data


def odata_quote(value: str) -> str:
    """A string literal for an OData `$filter` (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def token_provider(db: Db, config: Config, facilitator_id: int) -> TokenProvider:
    """Tokens of the facilitator's Microsoft 365 connection (`tokens.access_token`: refreshed
    near expiry, and once more when Graph refuses one with 401)."""

    def provide(stale: str | None = None) -> str:
        return tokens.access_token(db, facilitator_id, stale=stale, config=config)

    return provide


def client_for(db: Db, config: Config, facilitator_id: int | None) -> GraphClient:
    """A Graph client acting as the facilitator; ReconnectNeeded-style errors if none is set."""
    if facilitator_id is None:
        raise GraphError(
            _(
                "The session has no facilitator hosting its Teams meeting. Open the session's "
                "Teams page and create the meeting as yourself."
            ),
            reconnect=True,
        )
    return GraphClient(config, token_provider(db, config, facilitator_id))

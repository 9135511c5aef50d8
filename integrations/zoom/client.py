"""The Meeting API over HTTP: bearer tokens, one refresh on 401, 429s, retries with backoff.

NOTES §2.4-2.5 and §1.1 decide the rules:
- 401 (code 124, token expired or invalid): refresh once and repeat the request once.
- 429: `Retry-After` holds seconds or, for daily limits, an ISO-8601 date; a daily limit
  (`X-RateLimit-Type: Daily-limit`, or the per-user 100/day text, which comes without that
  header) stops at once; a per-second limit is waited out when the wait is short.
- 5xx, timeouts and dropped connections: retried with exponential backoff, except a create,
  which may have reached Zoom: the caller looks for the meeting before creating it again.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from flask_babel import gettext as _

from companion.config import Config
from companion.core.db import utcnow
from integrations.zoom.errors import ZoomError, ZoomUncertain, describe, error_body
from integrations.zoom.tokens import TokenSource
from integrations.zoom.usage import next_reset

log = logging.getLogger(__name__)


def parse_retry_after(value: str | None, now: datetime | None = None) -> datetime | None:
    """When a `Retry-After` says to try again: seconds, ISO-8601 (NOTES §2.5) or HTTP date."""
    if not value:
        return None
    now = now or utcnow()
    text = value.strip()
    if re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,6})?", text):
        from datetime import timedelta

        return now + timedelta(seconds=float(text))
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def _is_daily_limit(response: requests.Response, body: dict[str, Any]) -> bool:
    kind = response.headers.get("X-RateLimit-Type", "")
    message = str(body.get("message", "")).lower()
    return kind.lower() == "daily-limit" or "daily" in message


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


class ZoomApi:
    """Calls the Meeting API with a token source; raises ZoomError in a facilitator's words."""

    def __init__(
        self,
        config: Config,
        tokens: TokenSource,
        *,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_daily_limit: Callable[[datetime], None] | None = None,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.http = http or requests.Session()
        self.sleep = sleep
        #: Told when Zoom says the host's daily limit is reached (to stop sending until then).
        self.on_daily_limit = on_daily_limit

    def backoff(self, attempt: int) -> float:
        """Seconds to pause before retry number `attempt + 1` (doubling each time)."""
        return float(self.config.zoom_backoff_seconds * (2**attempt))

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
        """Send one API request with retries; a 2xx answer, or ZoomError.

        `may_duplicate`: repeating the request could do the thing twice (creating a
        meeting), so a timeout or gateway error raises ZoomUncertain instead of retrying.
        `missing_ok`: a 404 is returned rather than raised (deleting what is already gone).
        """
        refreshed = False
        attempt = 0
        while True:
            token = self.tokens.access_token()
            url = f"{self.tokens.api_base()}{path}"
            try:
                response = self.http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=self.config.zoom_timeout_seconds,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                log.warning(
                    "Zoom %s %s: %s (attempt %s)", method, path, type(exc).__name__, attempt
                )
                if may_duplicate:
                    raise ZoomUncertain(type(exc).__name__) from None
                attempt = self._next_attempt(attempt, None)
                continue
            status = response.status_code
            if status < 400 or (missing_ok and status == 404):
                return response
            body = error_body(response.content, response.headers.get("Content-Type", ""))
            if status == 401 and not refreshed:
                # NOTES §1.1/§2.4: refresh once, then repeat once.
                refreshed = True
                self.tokens.renew(token)
                continue
            if status == 429:
                wait = self._rate_limit_wait(response, body)
                attempt = self._next_attempt(attempt, describe(status, body), wait)
                continue
            if status >= 500:
                log.warning("Zoom %s %s answered %s (attempt %s)", method, path, status, attempt)
                if may_duplicate:
                    raise ZoomUncertain(f"HTTP {status}")
                attempt = self._next_attempt(attempt, describe(status, body))
                continue
            raise describe(status, body)

    def _next_attempt(
        self, attempt: int, error: ZoomError | None, wait: float | None = None
    ) -> int:
        if attempt >= self.config.zoom_retries:
            raise error or ZoomError(
                _("Zoom did not answer in time. Try again in a moment."), temporary=True
            )
        self.sleep(self.backoff(attempt) if wait is None else wait)
        return attempt + 1

    def _rate_limit_wait(self, response: requests.Response, body: dict[str, Any]) -> float:
        """Seconds to wait before repeating after a 429, or ZoomError when not worth waiting."""
        now = utcnow()
        retry_at = parse_retry_after(response.headers.get("Retry-After"), now)
        zoom_message = str(body.get("message", ""))[:300]
        if _is_daily_limit(response, body):
            # NOTES §2.5: a daily limit is not waited out; stop and remember until when.
            until = retry_at if retry_at is not None and retry_at > now else next_reset(now)
            if self.on_daily_limit is not None:
                self.on_daily_limit(until)
            raise ZoomError(
                _(
                    "Zoom's daily limit for this account has been reached. Kollega tries again "
                    "after %(time)s UTC.",
                    time=_stamp(until),
                ),
                temporary=True,
                status=429,
                zoom_message=zoom_message,
                retry_at=until,
            )
        if retry_at is None:
            return self.backoff(0)
        wait = max(0.0, (retry_at - now).total_seconds())
        if wait > self.config.zoom_max_wait_seconds:
            raise ZoomError(
                _(
                    "Zoom is busy and asks to wait until %(time)s UTC. Kollega tries again then.",
                    time=_stamp(retry_at),
                ),
                temporary=True,
                status=429,
                zoom_message=zoom_message,
                retry_at=retry_at,
            )
        return wait

    def get(self, path: str, **params: Any) -> Any:
        """GET a JSON document."""
        return read_json(self.request("GET", path, params=params or None))


def read_json(response: requests.Response) -> Any:
    """The JSON of a 2xx answer; a ZoomError if Zoom sent something else (NOTES §2.4)."""
    try:
        return response.json()
    except ValueError:
        raise ZoomError(
            _("Zoom answered in an unexpected way. Try again in a moment."),
            temporary=True,
            status=response.status_code,
        ) from None

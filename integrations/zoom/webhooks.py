"""Checking Zoom's webhook requests (NOTES §4): the signature, its age and the URL challenge."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

#: Seconds a signed request stays acceptable. Zoom does not set this; it is our replay window
#: (NOTES §4: "the 5-min window is our choice"). Replays inside it are caught by the event
#: store's dedupe key.
TIMESTAMP_TOLERANCE = 300
#: NOTES §4: reject odd plainTokens so the challenge cannot be used as a signing oracle.
PLAIN_TOKEN_MAX = 128
#: Largest webhook body read; Zoom's event notifications are a few kilobytes.
WEBHOOK_MAX_BYTES = 256 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class SignatureError(Exception):
    """The request is not signed by Zoom with our secret, or too old; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: "missing", "stale" or "mismatch".
        self.reason = reason


def signature(secret: str, timestamp: str, raw_body: bytes) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` (NOTES §4)."""
    message = b"v0:" + timestamp.encode() + b":" + raw_body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | None,
    raw_body: bytes,
    given: str | None,
    *,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless the request is Zoom's, signed in the last few minutes.

    Uses the raw bytes (re-serialised JSON would not match, NOTES §7) and a constant-time
    comparison.
    """
    if not timestamp or not given:
        raise SignatureError("missing")
    # Seconds since 1970 in ASCII digits (a 400-digit number would overflow the arithmetic).
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError("missing")
    sent = int(timestamp)
    now = time.time() if now is None else now
    if abs(now - sent) > TIMESTAMP_TOLERANCE:
        raise SignatureError("stale")
    if not hmac.compare_digest(given.encode(), signature(secret, timestamp, raw_body).encode()):
        raise SignatureError("mismatch")


def valid_plain_token(value: Any) -> bool:
    """Whether a url_validation `plainToken` is one we answer (NOTES §4)."""
    return isinstance(value, str) and 0 < len(value) <= PLAIN_TOKEN_MAX and ":" not in value


def url_validation_answer(secret: str, plain_token: str) -> dict[str, str]:
    """The answer to `endpoint.url_validation` (NOTES §4)."""
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


def dedupe_key(body: dict[str, Any]) -> str:
    """Event, its time and a digest of its payload: Zoom's retries and replays share it."""
    event = str(body.get("event") or "")[:60]
    event_ts = str(body.get("event_ts") or "")[:20]
    payload = json.dumps(body.get("payload"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(payload.encode()).hexdigest()[:40]
    return f"{event}:{event_ts}:{digest}"

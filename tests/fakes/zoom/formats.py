"""Zoom's formats as the fake makes and reads them: timestamps, ids, tokens, meeting keys."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import zoneinfo
from typing import Any
from urllib.parse import unquote


def iso(ts: float) -> str:
    """Zoom's timestamp format, e.g. ``2019-08-30T22:00:00Z`` (NOTES §2.1)."""
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_uuid() -> str:
    """A meeting-instance UUID as Zoom makes them: base64 of 16 bytes (may hold ``/``)."""
    return base64.b64encode(secrets.token_bytes(16)).decode()


def new_user_id() -> str:
    return b64url(secrets.token_bytes(16))


def jwt_like(claims: dict[str, Any]) -> str:
    # Zoom tokens are long JWT-shaped strings (~700 chars): catches VARCHAR(255) columns.
    header = b64url(json.dumps({"alg": "HS512", "v": "2.0", "kid": "fake"}).encode())
    body = {**claims, "nonce": secrets.token_hex(160)}
    return f"{header}.{b64url(json.dumps(body).encode())}.{b64url(secrets.token_bytes(64))}"


def parse_start_time(value: str, tz_name: str) -> float:
    """Seconds since epoch for a Zoom ``start_time`` (naive values are in ``tz_name``)."""
    text = value.replace("z", "Z")
    text = text[:-1] + "+00:00" if text.endswith("Z") else text
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        try:
            when = when.replace(tzinfo=zoneinfo.ZoneInfo(tz_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def decode_meeting_key(raw_segment: str) -> tuple[str, bool]:
    """Zoom's reading of a past-meeting path segment; second item False if single-encoded.

    NOTES §3 / spec: UUIDs that begin with ``/`` or contain ``//`` must be double-encoded.
    Zoom's front end decodes ``%2F`` once and collapses ``//`` before routing, so a
    single-encoded such UUID ends up as a different (unknown) id: model that as "not found".
    """
    once = unquote(raw_segment)
    if once.startswith("/") or "//" in once:
        return once, False
    if "%" in once:  # double-encoded: decode the second layer
        return unquote(once), True
    return once, True

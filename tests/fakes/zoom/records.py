"""The fake's data: users, apps, injected faults and recorded requests (public), and its
tokens, codes, meetings and past instances (internal)."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class FakeUser:
    """A Zoom user of the fake (the person who clicks "Allow" in the authorise step)."""

    id: str
    email: str
    account_id: str
    first_name: str = "Fake"
    last_name: str = "Host"
    timezone: str = "UTC"
    type: int = 2  # 2 = licensed (Pro): past-participant APIs need a paid plan (NOTES §3)

    def as_json(self) -> dict[str, Any]:
        """The user as ``GET /users/me`` shows it."""
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": f"{self.first_name} {self.last_name}",
            "email": self.email,
            "type": self.type,
            "role_name": "Owner",
            "pmi": 5550000000 + (int(hashlib.sha256(self.id.encode()).hexdigest(), 16) % 10**6),
            "timezone": self.timezone,
            "account_id": self.account_id,
            "status": "active",
            "language": "en-US",
        }


@dataclass
class OAuthApp:
    """A registered OAuth app: user-managed (``account_id`` None) or Server-to-Server."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    account_id: str | None = None  # set => Server-to-Server OAuth app (NOTES §1.2)
    scope: str = "meeting:read meeting:write user:read"


@dataclass
class Injection:
    """A fault to inject into the next ``times`` requests matching ``method`` and ``path``."""

    method: str
    path: str
    status: int | None = None
    times: int | None = 1
    retry_after: str | int | None = None
    retry_in: float = 1.0
    rate_limit_type: str | None = None
    category: str | None = None
    delay: float = 0.0
    body: Any = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str, raw_path: str) -> bool:
        """True if this injection applies to a request (glob on the path, ``*`` method)."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return any(fnmatch.fnmatchcase(p, self.path) for p in (path, raw_path))


@dataclass
class RecordedRequest:
    """One request the fake received (Authorization and Cookie headers left out)."""

    method: str
    path: str
    raw_path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    body: bytes
    time: float
    auth_scheme: str | None = None
    client_id: str | None = None
    user_id: str | None = None
    status: int | None = None
    injected: bool = False


@dataclass
class Token:
    value: str
    kind: Literal["access", "refresh"]
    client_id: str
    user_id: str
    account_id: str
    scope: str
    grant_id: str
    expires_at: float | None
    s2s: bool = False
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    challenge: str | None
    method: str
    expires_at: float
    used: bool = False


@dataclass
class StoredMeeting:
    data: dict[str, Any]
    host_id: str
    account_id: str


@dataclass
class PastInstance:
    uuid: str
    meeting_id: int | None
    host_id: str
    account_id: str
    topic: str
    start_time: str
    end_time: str
    participants: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ApiContext:
    """What one API request carries once authenticated."""

    token: Token
    user: FakeUser


class ErrorAnswer(Exception):
    """An error answer in Zoom's shape ``{"code": .., "message": ..}``."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message, **extra}

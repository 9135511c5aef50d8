"""Jitsi Meet rooms: no API call is needed, a room exists once someone opens its address.

So the room name is the only protection: it carries 120 random bits. On a self-hosted Jitsi
with token authentication (`COMPANION_JITSI_APP_ID` / `_APP_SECRET`), each person's join
address carries a JWT for that room (HS256, claims as the Jitsi `token` auth module reads
them: aud "jitsi", iss the app id, sub the Jitsi domain, room, context.user).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey

from companion.config import Config
from companion.core.db import Db
from companion.meetings.platform import (
    AttendanceRecord,
    BreakoutGroupSpec,
    BreakoutPushResult,
    BreakoutStatus,
    Capability,
    Person,
    Room,
    RoomSpec,
)

#: How long after the scheduled end a room token stays valid.
TOKEN_GRACE = timedelta(hours=2)


def _slug(text: str, limit: int = 24) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_text)
    return "".join(word.capitalize() for word in words)[:limit] or "Kollega"


class JitsiPlatform:
    """Rooms on a configurable Jitsi Meet server (default https://meet.jit.si)."""

    name = "jitsi"
    label = "Jitsi Meet"

    def __init__(
        self, config: Config, db: Db | None = None, host_facilitator_id: int | None = None
    ) -> None:
        self.server = config.jitsi_url.rstrip("/")
        self.app_id = config.jitsi_app_id
        self.app_secret = config.jitsi_app_secret
        self.capabilities = frozenset(
            {
                Capability.ROOMS,
                Capability.BREAKOUT_ROOMS,
                Capability.NO_ACCOUNT,
                Capability.PERSONAL_JOIN,
            }
        )

    @property
    def uses_tokens(self) -> bool:
        """Whether rooms need a JWT (self-hosted Jitsi with token authentication)."""
        return bool(self.app_id and self.app_secret)

    def create_room(self, spec: RoomSpec) -> Room:
        """A new unguessable room name; nothing is sent anywhere."""
        room_name = f"{_slug(spec.title)}-{secrets.token_hex(15)}"
        return Room(
            external_id=room_name,
            join_url=f"{self.server}/{room_name}",
            data={
                "ends_at": (spec.starts_at + timedelta(minutes=spec.duration_minutes)).isoformat()
            },
        )

    def update_room(self, room: Room, spec: RoomSpec) -> Room:
        """Keep the name (people may have the address); remember the new end for tokens."""
        data = dict(room.data)
        data["ends_at"] = (spec.starts_at + timedelta(minutes=spec.duration_minutes)).isoformat()
        return Room(room.external_id, room.join_url, data)

    def delete_room(self, room: Room) -> None:
        """Jitsi rooms vanish when empty; nothing to do."""

    def join_url(self, room: Room, person: Person) -> str:
        """The room address with the person's display name, and a room token when configured."""
        display = quote(f'"{person.name}"', safe="")
        fragment = f"#userInfo.displayName={display}"
        if not self.uses_tokens:
            return f"{room.join_url}{fragment}"
        token = self.room_token(room, person)
        return f"{room.join_url}?jwt={token}{fragment}"

    def room_token(self, room: Room, person: Person, now: datetime | None = None) -> str:
        """An HS256 JWT that admits `person` to this room until shortly after it ends."""
        now = now or datetime.now(UTC)
        ends_at = datetime.fromisoformat(room.data.get("ends_at", now.isoformat()))
        expires = max(ends_at + TOKEN_GRACE, now + TOKEN_GRACE)
        claims = {
            "aud": "jitsi",
            "iss": self.app_id,
            "sub": urlsplit(self.server).hostname or "*",
            "room": room.external_id,
            "nbf": int((now - timedelta(minutes=5)).timestamp()),
            "exp": int(expires.timestamp()),
            "context": {
                "user": {
                    "name": person.name,
                    "email": person.email,
                    "moderator": person.moderator,
                }
            },
            "moderator": person.moderator,
        }
        key = OctKey.import_key(self.app_secret.encode())
        return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, key)

    def push_breakouts(self, room: Room, groups: Sequence[BreakoutGroupSpec]) -> BreakoutPushResult:
        """Jitsi has no pre-assignment API: each breakout group gets its own room instead."""
        return BreakoutPushResult(pushed=False, message="per-group rooms")

    def clear_breakouts(self, room: Room) -> None:
        """Nothing was pushed: each group has a room of its own."""

    def breakout_status(self, status: BreakoutStatus) -> str:
        """Jitsi holds no pushed groups (each group has a room of its own)."""
        return ""

    def fetch_attendance(self, room: Room) -> list[AttendanceRecord]:
        """Jitsi reports no attendance; join links record it."""
        return []

"""A video platform for tests, behind the real `Platform` protocol and registry: it records the
rooms it makes and deletes, and fails (temporarily) while `down` is set."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from companion.meetings import platform as registry
from companion.meetings.platform import Capability, PlatformError, Room, RoomSpec


class FakePlatform:
    """Subclass it with a `name` (and `capabilities`); `install` registers the subclass."""

    name = "fake"
    label = "Fake platform"
    capabilities = frozenset({Capability.ROOMS})
    #: While set, making a room whose key contains `fails_on` fails as a temporary outage.
    down = False
    fails_on = ""
    made: ClassVar[list[str]] = []
    deleted: ClassVar[list[str]] = []

    def __init__(self, *_args: Any) -> None:
        pass

    def create_room(self, spec: RoomSpec) -> Room:
        cls = type(self)
        if cls.down and cls.fails_on in spec.key:
            raise PlatformError("The platform is down for maintenance.", temporary=True)
        cls.made.append(spec.key)
        return Room(f"room-{spec.key}", f"https://video.example/{spec.key}")

    def update_room(self, room: Room, spec: RoomSpec) -> Room:
        return room

    def delete_room(self, room: Room) -> None:
        type(self).deleted.append(room.external_id)

    def join_url(self, room: Room, person: Any) -> str:
        return f"{room.join_url}?name={person.name.replace(' ', '+')}"

    def push_breakouts(self, room: Room, groups: Any) -> Any:
        raise AssertionError(f"{self.name} takes no pushed breakout rooms")

    def clear_breakouts(self, room: Room) -> None:
        raise AssertionError(f"{self.name} takes no pushed breakout rooms")

    def breakout_status(self, status: Any) -> str:
        return ""

    def fetch_attendance(self, room: Room) -> list[Any]:
        return []


def install(
    monkeypatch: pytest.MonkeyPatch, platform: type[FakePlatform], *, down: bool
) -> type[FakePlatform]:
    """Register `platform` under its name for this test, with empty records."""

    class Entry:
        name = platform.name

        def load(self) -> type[FakePlatform]:
            return platform

    factories = dict(registry._factories())
    factories[platform.name] = Entry()
    monkeypatch.setattr(registry, "_factories", lambda: factories)
    platform.down = down
    platform.made = []
    platform.deleted = []
    return platform

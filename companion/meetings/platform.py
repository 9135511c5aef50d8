"""The `Platform` protocol every video platform implements, and the registry that finds them.

Implementations live in `integrations/<name>/` and are found through the
`companion.platforms` entry-point group, so a third party can add one without touching
`companion/`. A platform is built per use with the configuration, a database session (for
its stored credentials) and the facilitator who hosts the room.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from companion.config import Config
from companion.core.db import Db

if TYPE_CHECKING:
    from companion.sessions.models import Session


class Capability(enum.StrEnum):
    """What a platform can do; the UI shows only what applies."""

    #: Rooms are created and kept in step with the schedule.
    ROOMS = "rooms"
    #: Breakout groups are pushed into the platform's own breakout rooms (Zoom pre-assignment).
    BREAKOUT_PUSH = "breakout_push"
    #: Each breakout group gets a room of its own (Jitsi, Teams).
    BREAKOUT_ROOMS = "breakout_rooms"
    #: Attendance can be read from the platform after the meeting.
    ATTENDANCE = "attendance"
    #: People join without an account.
    NO_ACCOUNT = "no_account"
    #: The room can carry a per-person join address (display name, token).
    PERSONAL_JOIN = "personal_join"


@dataclass(frozen=True)
class RoomSpec:
    """What a room should be: the platform turns this into a meeting."""

    #: Stable key for the room (e.g. "session-12", "session-12-breakout-3"); platforms use it
    #: to find a room they already created when a timed-out request is retried.
    key: str
    title: str
    starts_at: datetime
    duration_minutes: int
    timezone: str
    agenda: str = ""
    #: Platform settings the facilitator chose (waiting room, passcode, ...).
    settings: dict[str, Any] = field(default_factory=dict)
    #: The session the room is for (platforms that invite its people read them from it).
    session_id: int | None = None
    #: "plenary" for the session's room, "breakout" for a breakout group's own room (as
    #: `MeetingRoom.purpose`); a platform may make the two differently (Teams).
    purpose: str = "plenary"


@dataclass(frozen=True)
class Room:
    """A room as the platform reports it."""

    external_id: str
    join_url: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Person:
    """Someone joining, as a platform needs them."""

    participant_id: int | None
    name: str
    email: str
    moderator: bool = False


@dataclass(frozen=True)
class BreakoutGroupSpec:
    """One breakout group to push to the platform."""

    name: str
    members: Sequence[Person]


@dataclass(frozen=True)
class BreakoutPushResult:
    """What the push achieved: who the platform could not place is listed, never dropped."""

    pushed: bool
    unmatched: Sequence[Person] = ()
    message: str = ""


def groups_fingerprint(groups: Sequence[BreakoutGroupSpec]) -> str:
    """A short digest of breakout groups as a platform takes them: names and who is in each.

    Two pushes with the same fingerprint put the same people in the same rooms, so a platform
    holding this fingerprint needs no new push.
    """
    canonical = [
        [
            group.name.strip(),
            sorted(
                p.email.strip().lower() or f"#{p.participant_id}:{p.name}" for p in group.members
            ),
        ]
        for group in groups
    ]
    digest = hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


#: "none": the platform holds no breakout groups and no round applies; "current": it holds the
#: session's current round as the round is now; "older": it holds a plan that is not that (an
#: earlier round, groups changed since, or a round that no longer applies); "missing": it holds
#: nothing though a round applies.
HeldState = Literal["none", "current", "older", "missing"]


@dataclass(frozen=True)
class BreakoutStatus:
    """What a platform holds of a session's breakout rounds, against what it should hold."""

    state: HeldState
    #: Number of the round the platform holds (None: nothing, or a plan not from a round).
    held_round: int | None = None
    #: Number of the session's current round (the latest locked or running one), if any.
    current_round: int | None = None
    #: When the held plan was pushed, as the page shows it (local time, e.g. "10:02").
    pushed_at: str = ""


@dataclass(frozen=True)
class AttendanceRecord:
    """Someone the platform saw in the meeting."""

    email: str
    name: str
    joined_at: datetime
    left_at: datetime | None
    minutes: int | None = None


class PlatformError(Exception):
    """The platform refused or failed; `message` is written for a facilitator to act on."""

    def __init__(
        self,
        message: str,
        *,
        temporary: bool = False,
        reconnect: bool = False,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: Retrying later may work (rate limit, outage).
        self.temporary = temporary
        #: The facilitator must connect their platform account again.
        self.reconnect = reconnect
        #: When the platform said to try again (a daily limit resets at a known time).
        self.retry_at = retry_at


@runtime_checkable
class Platform(Protocol):
    """A video platform Kollega can create rooms on.

    Optional members, read with `getattr` so a platform without them still fits:
    - `session_page`: the endpoint of the platform's own page for a session (`platform_page`);
    - `missing_settings(config) -> list[str]` (static): what an administrator still has to
      configure ([] = ready; `platform_missing_settings`);
    - `sends_own_invitations(session) -> bool`: whether the platform itself sends the
      session's participants its invitation, its updates and its cancellation (Teams: Outlook
      does, when the programme invites participants to the calendar event). Kollega's own
      calendar emails about the session's time and cancellation would then reach people twice,
      whether the change was made in Kollega or on the platform (an event moved in Outlook
      moves the session through `sessions.operations`), so `sessions.notices` asks
      `sends_own_invitations(platform, session)` and then sends none.
    """

    #: Entry-point name, stored on rooms.
    name: str
    #: Human name shown in the UI ("Jitsi Meet", "Zoom").
    label: str
    capabilities: frozenset[Capability]

    def create_room(self, spec: RoomSpec) -> Room:
        """Create a room (or return the one already made for `spec.key`)."""

    def update_room(self, room: Room, spec: RoomSpec) -> Room:
        """Bring the room in line with `spec` (reschedule, rename)."""

    def delete_room(self, room: Room) -> None:
        """Remove the room; a room already gone is not an error."""

    def join_url(self, room: Room, person: Person) -> str:
        """The address this person should be sent to: made from the room and the person alone,
        without calling the platform or knowing the host (every join-link open asks it)."""

    def push_breakouts(self, room: Room, groups: Sequence[BreakoutGroupSpec]) -> BreakoutPushResult:
        """Put the groups into the platform's breakout rooms, where it has them."""

    def clear_breakouts(self, room: Room) -> None:
        """Take away the breakout groups pushed to the room (none pushed: nothing to do)."""

    def breakout_status(self, status: BreakoutStatus) -> str:
        """One sentence, in the platform's words, saying what it holds of the breakout rounds."""

    def fetch_attendance(self, room: Room) -> list[AttendanceRecord]:
        """Who attended, where the platform reports it."""


class PlatformFactory(Protocol):
    """What the `companion.platforms` entry points load: usually the Platform class itself."""

    def __call__(self, config: Config, db: Db, host_facilitator_id: int | None) -> Platform:
        """Build the platform for one use."""


@cache
def _factories() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group="companion.platforms")}


def platform_names() -> list[str]:
    """Names of the installed platforms."""
    return sorted(_factories())


def get_platform(
    name: str, config: Config, db: Db, host_facilitator_id: int | None = None
) -> Platform:
    """Build the named platform; LookupError if it is not installed."""
    entry = _factories().get(name)
    if entry is None:
        raise LookupError(f"no platform named {name!r} is installed")
    factory: PlatformFactory = entry.load()
    return factory(config, db, host_facilitator_id)


def platform_page(name: str) -> str | None:
    """The endpoint of the platform's own page for a session (its `session_page`), if any."""
    entry = _factories().get(name)
    if entry is None:
        return None
    endpoint = getattr(entry.load(), "session_page", None)
    return endpoint if isinstance(endpoint, str) and endpoint else None


def platform_label(name: str) -> str:
    """The human name of a platform, without building it."""
    entry = _factories().get(name)
    if entry is None:
        return name
    label: str = getattr(entry.load(), "label", name)
    return label


def platform_missing_settings(name: str, config: Config) -> list[str]:
    """What an administrator still has to configure before the platform works ([] = ready).

    A platform says so with an optional `missing_settings(config) -> list[str]` on the class
    the entry point loads; a platform without one needs nothing.
    """
    entry = _factories().get(name)
    if entry is None:
        return []
    check = getattr(entry.load(), "missing_settings", None)
    return list(check(config)) if callable(check) else []


def sends_own_invitations(platform: Platform, session: Session) -> bool:
    """Whether the platform itself tells the session's participants of its time, changes and
    cancellation (its optional `sends_own_invitations`; a platform without one does not)."""
    check = getattr(platform, "sends_own_invitations", None)
    return bool(check(session)) if callable(check) else False

"""Breakout groups on the session's platform, only through the `Platform` protocol.

What a platform offers decides the way:
- `Capability.BREAKOUT_PUSH` (Zoom): the locked round is pushed into the plenary meeting as
  pre-assigned breakout rooms; people the platform cannot place come back as `unmatched` and
  are shown to the facilitator, never dropped.
- `Capability.BREAKOUT_ROOMS` (Jitsi; Teams, as one online meeting per group): each group gets a
  room of its own, a `MeetingRoom` with purpose "breakout" and the key
  "session-<id>-breakout-<group id>" (platforms use the key to find a room a retried request
  already made).
- Neither: the groups are shown in Kollega only (the side panel tells people where to go).

A platform failure never loses the round: it is recorded (on the room or in the round's
"push" setting) with the platform's message, and the facilitator can try again.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from flask_babel import gettext as _

from companion.accounts.models import Facilitator
from companion.breakouts.models import BreakoutGroup, BreakoutRound
from companion.core.db import Db, utcnow
from companion.meetings import operations as meetings
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import (
    BreakoutGroupSpec,
    Capability,
    Person,
    Platform,
    PlatformError,
    Room,
    RoomSpec,
)
from companion.programmes.models import Participant
from companion.sessions.models import Session

log = logging.getLogger(__name__)

RoomMode = Literal["push", "rooms", "none"]


def _host_of(session: Session) -> int | None:
    plenary = session.room
    host = plenary.data.get("host_facilitator_id") if plenary is not None else None
    return host if isinstance(host, int) else None


def _platform(db: Db, session: Session) -> Platform | None:
    try:
        return meetings.platform_for(db, session, _host_of(session))
    except LookupError:
        # The platform's package was uninstalled: the groups still work inside Kollega.
        log.warning("Platform %r of session %s is not installed", session.platform, session.id)
        return None


def room_mode(db: Db, session: Session) -> RoomMode:
    """How this session's platform receives breakout groups."""
    platform = _platform(db, session)
    if platform is None:
        return "none"
    if Capability.BREAKOUT_PUSH in platform.capabilities:
        return "push"
    if Capability.BREAKOUT_ROOMS in platform.capabilities:
        return "rooms"
    return "none"


def _as_room(row: MeetingRoom) -> Room:
    return Room(external_id=row.external_id, join_url=row.join_url, data=dict(row.data))


def room_key(group: BreakoutGroup) -> str:
    """The stable key of a group's room on the platform."""
    return f"session-{group.round.session_id}-breakout-{group.id}"


def _spec(group: BreakoutGroup) -> RoomSpec:
    session = group.round.session
    programme = session.group.programme
    return RoomSpec(
        key=room_key(group),
        title=f"{programme.name}: {session.title} – {group.name}",
        starts_at=session.starts_at,
        duration_minutes=session.duration_minutes,
        timezone=programme.timezone,
        session_id=session.id,
        purpose="breakout",
    )


def ensure_group_rooms(db: Db, round_: BreakoutRound) -> list[str]:
    """Give every group of the round its own room (idempotent); returns the failures' messages."""
    session = round_.session
    platform = _platform(db, session)
    if platform is None or Capability.BREAKOUT_ROOMS not in platform.capabilities:
        return []
    failures: list[str] = []
    for group in round_.groups:
        row = group.room
        if row is not None and row.status == "active":
            continue
        if row is None:
            row = MeetingRoom(
                session=session,
                purpose="breakout",
                platform=session.platform,
                data={"breakout_group_id": group.id, "host_facilitator_id": _host_of(session)},
            )
            db.add(row)
            group.room = row
            db.flush()
        try:
            room = platform.create_room(_spec(group))
        except PlatformError as exc:
            row.status = "failed"
            row.data = {**row.data, "error": exc.message}
            failures.append(f"{group.name}: {exc.message}")
            continue
        row.external_id = room.external_id
        row.join_url = room.join_url
        row.data = {**{k: v for k, v in row.data.items() if k != "error"}, **room.data}
        row.status = "active"
    db.flush()
    return failures


def drop_group_room(db: Db, group: BreakoutGroup) -> None:
    """Delete a group's room on the platform (a failure is logged; the row goes either way)."""
    row = group.room
    if row is None:
        return
    if row.status == "active":
        platform = _platform(db, group.round.session)
        if platform is not None:
            try:
                platform.delete_room(_as_room(row))
            except PlatformError as exc:
                log.warning("Breakout room %s not deleted: %s", row.id, exc.message)
    group.room = None
    row.status = "deleted"
    db.flush()


def _platform_person(participant: Participant | None, facilitator: Facilitator | None) -> Person:
    if participant is not None:
        return Person(participant.id, participant.name, participant.email or "")
    assert facilitator is not None
    return Person(None, facilitator.name, facilitator.email, moderator=True)


def group_specs(round_: BreakoutRound) -> list[BreakoutGroupSpec]:
    """The round's groups as platforms take them."""
    return [
        BreakoutGroupSpec(
            name=group.name,
            members=tuple(_platform_person(m.participant, m.facilitator) for m in group.members),
        )
        for group in round_.groups
    ]


def push_round(db: Db, round_: BreakoutRound) -> dict[str, Any]:
    """Push the round into the plenary meeting's breakout rooms; the answer is kept on the round.

    Returns what is stored as `settings["push"]`: pushed, message, unmatched names, or error.
    """
    session = round_.session
    platform = _platform(db, session)
    record: dict[str, Any] = {"at": utcnow().isoformat(), "pushed": False}
    plenary = session.room
    if platform is None or Capability.BREAKOUT_PUSH not in platform.capabilities:
        return record
    if plenary is None:
        record["error"] = _(
            "The session's meeting room is not ready yet. Create it on the session page, then "
            "send the groups again."
        )
    else:
        try:
            result = platform.push_breakouts(_as_room(plenary), group_specs(round_))
        except PlatformError as exc:
            record["error"] = exc.message
            record["reconnect"] = exc.reconnect
        else:
            record.update(
                pushed=result.pushed,
                message=result.message,
                unmatched=[person.name for person in result.unmatched],
            )
    round_.settings = {**round_.settings, "push": record}
    db.flush()
    return record


def join_url(
    db: Db,
    group: BreakoutGroup,
    participant: Participant | None = None,
    facilitator: Facilitator | None = None,
) -> str | None:
    """The address of the group's own room for this person, or None (no room yet)."""
    row = group.room
    if row is None or row.status != "active" or not row.join_url:
        return None
    platform = _platform(db, group.round.session)
    if platform is None:
        return row.join_url
    try:
        return platform.join_url(_as_room(row), _platform_person(participant, facilitator))
    except PlatformError:
        return row.join_url

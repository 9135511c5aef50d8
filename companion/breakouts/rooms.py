"""Breakout groups on the session's platform, only through the `Platform` protocol.

What a platform offers decides the way:
- `Capability.BREAKOUT_PUSH` (Zoom): the platform holds one set of pre-assigned breakout
  rooms per meeting, so it must always hold exactly the session's *current* round (the latest
  locked or running one), or nothing. `sync_breakouts` pushes that round whenever a round is
  locked, unlocked, deleted, started, closed or its groups change, and clears the platform's
  set when no round applies; what the platform holds (round, fingerprint of the groups, when)
  is kept in the plenary room's data, and `held_status` says it on the pages. People the
  platform cannot place come back as `unmatched` and are shown, never dropped.
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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from flask_babel import gettext as _

from companion.accounts.models import Facilitator
from companion.breakouts.access import rounds_of
from companion.breakouts.models import BreakoutGroup, BreakoutRound, RoundStatus
from companion.core.db import Db, utcnow
from companion.core.i18n import local_datetime
from companion.meetings import operations as meetings
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import (
    BreakoutGroupSpec,
    BreakoutStatus,
    Capability,
    HeldState,
    Person,
    Platform,
    PlatformError,
    Room,
    RoomSpec,
    groups_fingerprint,
)
from companion.programmes.models import Participant
from companion.sessions.models import Session

log = logging.getLogger(__name__)

RoomMode = Literal["push", "rooms", "none"]


#: Keys in the plenary room's data: what the platform holds now ({"round_id", "round_number",
#: "fingerprint", "pushed_at"}, or None for nothing), and the last attempt's failure.
HELD = "breakouts_held"
SYNC_ERROR = "breakouts_error"


def _host_of(db: Db, session: Session) -> int | None:
    plenary = session.room
    return meetings.host_of(db, plenary) if plenary is not None else meetings.room_host(db, session)


def _platform(db: Db, session: Session) -> Platform | None:
    try:
        return meetings.platform_for(db, session, _host_of(db, session))
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
                data={"breakout_group_id": group.id, "host_facilitator_id": _host_of(db, session)},
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


# --- what a pushing platform holds ------------------------------------------------------------


def current_round(db: Db, session: Session) -> BreakoutRound | None:
    """The round a pushing platform must hold: the session's latest locked or running round."""
    live = [
        r for r in rounds_of(db, session) if r.status in (RoundStatus.LOCKED, RoundStatus.STARTED)
    ]
    return max(live, key=lambda r: r.number, default=None)


def _held(plenary: MeetingRoom, rounds: list[BreakoutRound]) -> dict[str, Any] | None:
    """What the platform holds by our records (None: nothing)."""
    if HELD in plenary.data:
        held = plenary.data[HELD]
        return held if isinstance(held, dict) else None
    # Rooms from before Kollega kept this: a round that says it was pushed is held (its
    # fingerprint unknown, so it is pushed again or cleared at the next change).
    pushed = [r for r in rounds if (r.settings.get("push") or {}).get("pushed")]
    if not pushed:
        return None
    last = pushed[-1]
    return {
        "round_id": last.id,
        "round_number": last.number,
        "fingerprint": "",
        "pushed_at": last.settings["push"].get("at", ""),
    }


def _holds(held: dict[str, Any] | None, round_: BreakoutRound, fingerprint: str) -> bool:
    if held is None:
        return False
    return held.get("round_id") == round_.id and held.get("fingerprint") == fingerprint


def _now_held(
    db: Db, plenary: MeetingRoom, rounds: list[BreakoutRound], held: dict[str, Any] | None
) -> None:
    """Record what the platform holds now; other rounds no longer say they were pushed."""
    plenary.data = {**{k: v for k, v in plenary.data.items() if k != SYNC_ERROR}, HELD: held}
    keep = held.get("round_id") if held else None
    for other in rounds:
        push = other.settings.get("push")
        if other.id != keep and isinstance(push, dict) and push.get("pushed"):
            other.settings = {
                **other.settings,
                "push": {"at": push.get("at", ""), "pushed": False, "replaced": True},
            }
    db.flush()


def sync_breakouts(db: Db, session: Session, *, force: bool = False) -> dict[str, Any] | None:
    """Make a pushing platform hold exactly the session's current round, or nothing.

    Pushes the current round when the platform holds anything else (or always, with
    `force`), clears the platform's breakout rooms when no round applies. The attempt is kept
    as the current round's "push" setting and returned; None when there was nothing to do
    (or the platform takes no pushed groups). A failure is recorded, never raised.
    """
    platform = _platform(db, session)
    if platform is None or Capability.BREAKOUT_PUSH not in platform.capabilities:
        return None
    db.flush()
    rounds = rounds_of(db, session)
    current = current_round(db, session)
    plenary = session.room
    record: dict[str, Any] = {"at": utcnow().isoformat(), "pushed": False}
    if plenary is None:
        if current is None:
            return None
        record["error"] = _(
            "The session's meeting room is not ready yet. Create it on the session page, then "
            "send the groups again."
        )
        current.settings = {**current.settings, "push": record}
        db.flush()
        return record
    held = _held(plenary, rounds)
    if current is None:
        if held is None and not force:
            return None
        try:
            platform.clear_breakouts(_as_room(plenary))
        except PlatformError as exc:
            plenary.data = {**plenary.data, SYNC_ERROR: exc.message}
            db.flush()
            return {**record, "error": exc.message, "reconnect": exc.reconnect}
        _now_held(db, plenary, rounds, None)
        return {**record, "cleared": True}
    specs = group_specs(current)
    fingerprint = groups_fingerprint(specs)
    if _holds(held, current, fingerprint) and not force:
        return None
    try:
        result = platform.push_breakouts(_as_room(plenary), specs)
    except PlatformError as exc:
        record.update(error=exc.message, reconnect=exc.reconnect)
        plenary.data = {**plenary.data, SYNC_ERROR: exc.message}
    else:
        record.update(
            pushed=result.pushed,
            message=result.message,
            unmatched=[person.name for person in result.unmatched],
        )
        if result.pushed:
            now_held = {
                "round_id": current.id,
                "round_number": current.number,
                "fingerprint": fingerprint,
                "pushed_at": record["at"],
            }
            _now_held(db, plenary, rounds, now_held)
    current.settings = {**current.settings, "push": record}
    db.flush()
    return record


def push_round(db: Db, round_: BreakoutRound) -> dict[str, Any]:
    """Bring the platform in line after `round_` changed (locked, unlocked, groups changed,
    people moved while it runs): it then holds the session's current round, or nothing.

    Returns the round's "push" setting: pushed, message, unmatched names, or error (empty
    when the platform holds nothing of this round and needed no change). A stable hook: call
    it after any change to a round's groups.
    """
    sync_breakouts(db, round_.session)
    push = round_.settings.get("push")
    return dict(push) if isinstance(push, dict) else {}


@dataclass(frozen=True)
class HeldStatus:
    """What a pushing platform holds of the session's rounds, for the pages."""

    state: HeldState
    #: The platform's own sentence ("Zoom holds round 2 (pushed 10:02).").
    text: str
    #: Why the last attempt to bring it in line failed, if it did.
    error: str = ""
    #: The round it should hold (the latest locked or running one), if any.
    current_round_id: int | None = None


def _pushed_at(value: Any, timezone: str) -> str:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    today = local_datetime(utcnow(), timezone, "yyyy-MM-dd")
    same_day = local_datetime(at, timezone, "yyyy-MM-dd") == today
    return local_datetime(at, timezone, "HH:mm" if same_day else "d.M. HH:mm")


def held_status(db: Db, session: Session) -> HeldStatus | None:
    """What the session's platform holds against what it should (None: it takes no pushes)."""
    platform = _platform(db, session)
    if platform is None or Capability.BREAKOUT_PUSH not in platform.capabilities:
        return None
    rounds = rounds_of(db, session)
    current = current_round(db, session)
    plenary = session.room
    held = _held(plenary, rounds) if plenary is not None else None
    state: HeldState
    if held is None:
        state = "none" if current is None else "missing"
    elif current is not None and _holds(held, current, groups_fingerprint(group_specs(current))):
        state = "current"
    else:
        state = "older"
    number = held.get("round_number") if held else None
    status = BreakoutStatus(
        state=state,
        held_round=number if isinstance(number, int) else None,
        current_round=current.number if current is not None else None,
        pushed_at=_pushed_at(held.get("pushed_at"), session.group.programme.timezone)
        if held
        else "",
    )
    error = str(plenary.data.get(SYNC_ERROR) or "") if plenary is not None else ""
    return HeldStatus(
        state=state,
        text=platform.breakout_status(status),
        error=error,
        current_round_id=current.id if current is not None else None,
    )


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

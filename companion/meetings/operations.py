"""Keeping rooms on the platforms in step with sessions.

A room row is written first ("pending"), then the platform is asked; success makes it
"active", a failure makes it "failed" with the platform's message and queues a retry, so a
platform outage never loses the session or leaves it half-created.

Every room of a session is made in its host's account (`room_host`): the facilitator who
scheduled it, remembered apart from the rooms (`RoomHost`), so a room made again after a
cancellation, or retried by the worker, lands with the same host on every platform.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.config import Config
from companion.core.db import Db
from companion.core.jobs import enqueue_job, job_handler
from companion.meetings.models import MeetingRoom, RoomHost
from companion.meetings.platform import (
    Person,
    Platform,
    PlatformError,
    Room,
    RoomSpec,
    get_platform,
)
from companion.sessions.models import Session

log = logging.getLogger(__name__)


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def room_spec(session: Session, *, key: str | None = None, title: str | None = None) -> RoomSpec:
    """The platform-neutral description of a session's plenary room."""
    programme = session.group.programme
    agenda = "\n".join(f"- {item.title}" for item in session.agenda if item.title)
    return RoomSpec(
        key=key or f"session-{session.id}",
        title=title or f"{programme.name}: {session.title}",
        starts_at=session.starts_at,
        duration_minutes=session.duration_minutes,
        timezone=programme.timezone,
        agenda=agenda,
        settings=dict(session.rooms[0].data.get("settings", {}) if session.rooms else {}),
        session_id=session.id,
    )


def _as_room(row: MeetingRoom) -> Room:
    return Room(external_id=row.external_id, join_url=row.join_url, data=dict(row.data))


def platform_for(db: Db, session: Session, host_facilitator_id: int | None = None) -> Platform:
    """The platform object for a session's rooms."""
    return get_platform(session.platform, _config(), db, host_facilitator_id)


# --- who hosts ---------------------------------------------------------------------------------


def _host_in(row: MeetingRoom) -> int | None:
    host = row.data.get("host_facilitator_id")
    return host if isinstance(host, int) else None


def remember_host(db: Db, session: Session, facilitator_id: int) -> None:
    """Make this facilitator the host of the session's rooms from now on."""
    if db.get(Facilitator, facilitator_id) is None:
        return  # a host named by an old room who has since been removed
    row = db.get(RoomHost, session.id)
    if row is None:
        db.add(RoomHost(session_id=session.id, facilitator_id=facilitator_id))
    elif row.facilitator_id != facilitator_id:
        row.facilitator_id = facilitator_id
    db.flush()


def room_host(db: Db, session: Session) -> int | None:
    """Who hosts the session's rooms: the remembered host, else the one its rooms name, else
    the host of the group's nearest session on the same platform; None if nobody is known."""
    remembered = db.get(RoomHost, session.id)
    if remembered is not None:
        return remembered.facilitator_id
    # Plenary rooms first, the newest first: it was made last, by the host then.
    for row in sorted(session.rooms, key=lambda r: (r.purpose != "plenary", -(r.id or 0))):
        if (host := _host_in(row)) is not None:
            return host
    # Rooms made before hosts were remembered: a group's series is scheduled by one person.
    others = sorted(
        (
            s
            for s in session.group.sessions
            if s.id != session.id and s.platform == session.platform
        ),
        key=lambda s: abs((s.starts_at - session.starts_at).total_seconds()),
    )
    if not others:
        return None
    hosts = {
        row.session_id: row.facilitator_id
        for row in db.scalars(
            select(RoomHost).where(RoomHost.session_id.in_([s.id for s in others]))
        )
    }
    for other in others:
        if other.id in hosts:
            return hosts[other.id]
        for row in other.rooms:
            if row.purpose == "plenary" and (host := _host_in(row)) is not None:
                return host
    return None


def host_of(db: Db, row: MeetingRoom) -> int | None:
    """The facilitator in whose account this room is: the one it names, else `room_host`."""
    named = _host_in(row)
    return named if named is not None else room_host(db, row.session)


def ensure_session_room(
    db: Db, session: Session, host_facilitator_id: int | None = None
) -> MeetingRoom:
    """Give the session its plenary room on its platform (idempotent).

    Hosted by `host_facilitator_id` when given (who then hosts the session's rooms from now
    on), else by the session's host as `room_host` finds it.
    """
    row = session.room or next((r for r in session.rooms if r.purpose == "plenary"), None)
    if row is not None and row.status == "active":
        return row
    host = host_facilitator_id if host_facilitator_id is not None else room_host(db, session)
    if host is not None:
        remember_host(db, session, host)
    if row is None:
        row = MeetingRoom(session=session, purpose="plenary", platform=session.platform)
        row.data = {"host_facilitator_id": host} if host is not None else {}
        db.add(row)
        db.flush()
    elif host is not None and _host_in(row) != host:
        row.data = {**row.data, "host_facilitator_id": host}
    _create_on_platform(db, row, session, host)
    return row


def _create_on_platform(
    db: Db, row: MeetingRoom, session: Session, host_facilitator_id: int | None
) -> None:
    try:
        platform = platform_for(db, session, host_facilitator_id)
        room = platform.create_room(room_spec(session))
    except PlatformError as exc:
        row.status = "failed"
        row.data = {**row.data, "error": exc.message, "reconnect": exc.reconnect}
        log.warning("Room for session %s failed on %s: %s", session.id, row.platform, exc.message)
        enqueue_job(
            db,
            "meetings.sync_room",
            {"room_id": row.id},
            dedupe_key=f"sync-room-{row.id}-{row.updated_at.timestamp():.0f}",
        )
        return
    row.external_id = room.external_id
    row.join_url = room.join_url
    row.data = {**{k: v for k, v in row.data.items() if k != "error"}, **room.data}
    row.status = "active"
    db.flush()


def reschedule_room(db: Db, session: Session) -> None:
    """Tell the platform the session moved; a failure is recorded and retried."""
    row = session.room
    if row is None:
        ensure_session_room(db, session)
        return
    try:
        platform = platform_for(db, session, host_of(db, row))
        room = platform.update_room(_as_room(row), room_spec(session))
    except PlatformError as exc:
        row.data = {**row.data, "error": exc.message, "needs_update": True}
        enqueue_job(db, "meetings.sync_room", {"room_id": row.id})
        return
    row.join_url = room.join_url
    row.data = {**{k: v for k, v in room.data.items() if k not in ("error", "needs_update")}}
    db.flush()


def remove_room(db: Db, session: Session) -> None:
    """Delete the session's rooms on the platform (used when a session is cancelled)."""
    for row in session.rooms:
        if row.status != "active":
            row.status = "deleted"
            continue
        try:
            platform = platform_for(db, session, host_of(db, row))
            platform.delete_room(_as_room(row))
        except PlatformError as exc:
            row.data = {**row.data, "error": exc.message, "needs_delete": True}
            enqueue_job(db, "meetings.sync_room", {"room_id": row.id})
            continue
        row.status = "deleted"
    db.flush()


def personal_join_url(db: Db, session: Session, person: Person) -> str | None:
    """Where to send this person for the session, or None when the room is not ready."""
    row = session.room
    if row is None or not row.join_url:
        return None
    return join_url_from(db, session.platform, _as_room(row), person)


def join_url_from(db: Db, platform: str, room: Room, person: Person) -> str:
    """The address `personal_join_url` gives, from a room read without the ORM (the join
    link's quick path). No host: it is made from the room and the person alone."""
    return get_platform(platform, _config(), db).join_url(room, person)


@job_handler("meetings.sync_room")
def sync_room(db: Db, payload: dict[str, Any]) -> None:
    """Retry whatever a room still needs: creation, an update or deletion."""
    row = db.get(MeetingRoom, payload["room_id"])
    if row is None:
        return
    session = row.session
    host = host_of(db, row)
    if row.data.get("needs_delete") or (session.is_cancelled and row.status == "active"):
        platform = platform_for(db, session, host)
        platform.delete_room(_as_room(row))
        row.status = "deleted"
        row.data = {k: v for k, v in row.data.items() if k not in ("error", "needs_delete")}
    elif row.status in ("pending", "failed"):
        room = platform_for(db, session, host).create_room(room_spec(session))
        row.external_id, row.join_url, row.status = room.external_id, room.join_url, "active"
        row.data = {**{k: v for k, v in row.data.items() if k != "error"}, **room.data}
    elif row.data.get("needs_update"):
        room = platform_for(db, session, host).update_room(_as_room(row), room_spec(session))
        row.join_url = room.join_url
        row.data = {k: v for k, v in room.data.items() if k not in ("error", "needs_update")}

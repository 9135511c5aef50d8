"""Keeping rooms on the platforms in step with sessions.

A room row is written first ("pending"), then the platform is asked; success makes it
"active", a failure makes it "failed" with the platform's message and queues a retry, so a
platform outage never loses the session or leaves it half-created.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from companion.config import Config
from companion.core.db import Db
from companion.core.jobs import enqueue_job, job_handler
from companion.meetings.models import MeetingRoom
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


def ensure_session_room(
    db: Db, session: Session, host_facilitator_id: int | None = None
) -> MeetingRoom:
    """Give the session its plenary room on its platform (idempotent)."""
    row = session.room or next((r for r in session.rooms if r.purpose == "plenary"), None)
    if row is None:
        row = MeetingRoom(session=session, purpose="plenary", platform=session.platform)
        if host_facilitator_id is not None:
            row.data = {"host_facilitator_id": host_facilitator_id}
        db.add(row)
        db.flush()
    if row.status == "active":
        return row
    _create_on_platform(db, row, session, host_facilitator_id)
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
        platform = platform_for(db, session, row.data.get("host_facilitator_id"))
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
            platform = platform_for(db, session, row.data.get("host_facilitator_id"))
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
    platform = platform_for(db, session, row.data.get("host_facilitator_id"))
    return platform.join_url(_as_room(row), person)


@job_handler("meetings.sync_room")
def sync_room(db: Db, payload: dict[str, Any]) -> None:
    """Retry whatever a room still needs: creation, an update or deletion."""
    row = db.get(MeetingRoom, payload["room_id"])
    if row is None:
        return
    session = row.session
    host = row.data.get("host_facilitator_id")
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

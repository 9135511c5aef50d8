"""A session's Zoom meeting: its room, its settings, recreating it and the host's start address.

Like every operations module here: no `flask.request`; the caller commits and checks access
with `get_session` & co.
"""

from __future__ import annotations

from flask_babel import gettext as _

from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.core.errors import Conflict, NotAllowed, NotFound, Unavailable
from companion.meetings import operations as rooms
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import (
    PlatformError,
    Room,
)
from companion.sessions.models import Session
from integrations.zoom.configuration import PLATFORM
from integrations.zoom.platform import ZoomPlatform, default_settings
from integrations.zoom.schemas import MeetingSettingsIn


def require_zoom_session(session: Session) -> None:
    """NotFound unless the session meets on Zoom."""
    if session.platform != PLATFORM:
        raise NotFound(_("This session does not meet on Zoom."))


def zoom_room(session: Session) -> MeetingRoom | None:
    """The session's plenary Zoom room in whatever state (active, failed, pending)."""
    candidates = [r for r in session.rooms if r.purpose == "plenary" and r.platform == PLATFORM]
    live = [r for r in candidates if r.status != "deleted"]
    chosen = live or candidates
    return chosen[-1] if chosen else None


def meeting_settings(session: Session) -> dict[str, bool]:
    """The settings chosen for the session's meeting (defaults until changed)."""
    row = zoom_room(session)
    chosen = dict(row.data.get("settings") or {}) if row is not None else {}
    return {**default_settings(), **{k: bool(v) for k, v in chosen.items()}}


def as_room(row: MeetingRoom) -> Room:
    """The platform's view of our room row."""
    return Room(external_id=row.external_id, join_url=row.join_url, data=dict(row.data))


def update_meeting_settings(
    db: Db, session: Session, facilitator: Facilitator, data: MeetingSettingsIn
) -> MeetingRoom:
    """Store the chosen settings and apply them in Zoom (a failure is kept and retried)."""
    require_zoom_session(session)
    settings = data.model_dump()
    if settings["waiting_room"]:
        settings["join_before_host"] = False  # NOTES §2.1: the waiting room turns it off
    row = zoom_room(session)
    if row is None:
        row = MeetingRoom(session=session, purpose="plenary", platform=PLATFORM, data={})
        db.add(row)
    row.data = {
        **row.data,
        "settings": settings,
        "host_facilitator_id": row.data.get("host_facilitator_id") or facilitator.id,
    }
    db.flush()
    if row.status == "active":
        rooms.reschedule_room(db, session)
    else:
        rooms.ensure_session_room(db, session, row.data["host_facilitator_id"])
    return row


def recreate_meeting(db: Db, session: Session, facilitator: Facilitator) -> MeetingRoom:
    """Make the session a new Zoom meeting hosted by this facilitator (e.g. deleted in Zoom)."""
    require_zoom_session(session)
    if session.is_cancelled:
        raise Conflict(_("A cancelled session gets no meeting."))
    row = zoom_room(session)
    if row is None:
        return rooms.ensure_session_room(db, session, facilitator.id)
    row.status = "pending"
    row.external_id = ""
    row.join_url = ""
    row.data = {k: v for k, v in row.data.items() if k in ("settings",)} | {
        "host_facilitator_id": facilitator.id
    }
    db.flush()
    return rooms.ensure_session_room(db, session, facilitator.id)


def start_url(db: Db, session: Session, facilitator: Facilitator) -> str:
    """A fresh host start address, for the facilitator hosting the meeting only."""
    require_zoom_session(session)
    row = session.room
    if row is None or row.platform != PLATFORM:
        raise Conflict(_("The session's Zoom meeting is not ready yet."))
    if row.data.get("host_facilitator_id") not in (None, facilitator.id):
        raise NotAllowed(_("Only the facilitator hosting the meeting can start it as host."))
    platform = rooms.platform_for(db, session, facilitator.id)
    assert isinstance(platform, ZoomPlatform)
    try:
        return platform.start_url(as_room(row))
    except PlatformError as exc:
        raise domain_error(exc) from None


def domain_error(exc: PlatformError) -> Exception:
    """The domain error to raise for a platform failure (temporary, reconnect or refused)."""
    if exc.temporary:
        return Unavailable(exc.message)
    if exc.reconnect:
        return Conflict(exc.message, reconnect=True)
    return Conflict(exc.message)

"""Finding rooms by what a platform stored about them (an in-meeting panel names its meeting
by the platform's own id, which the platform keeps in the room's `data`)."""

from __future__ import annotations

from sqlalchemy import select

from companion.core.db import Db
from companion.meetings.models import MeetingRoom


def rooms_by_data(db: Db, platform: str, key: str, value: str) -> list[MeetingRoom]:
    """The platform's live rooms whose `data[key]` is the text `value`, newest first."""
    if not value:
        return []
    return list(
        db.scalars(
            select(MeetingRoom)
            .where(
                MeetingRoom.platform == platform,
                MeetingRoom.status != "deleted",
                MeetingRoom.data[key].as_string() == value,
            )
            .order_by(MeetingRoom.id.desc())
        )
    )

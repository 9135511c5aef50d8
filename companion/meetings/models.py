"""Platform-neutral meeting rooms."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

if TYPE_CHECKING:
    from companion.sessions.models import Session


class RoomHost(Base):
    """The facilitator who hosts a session's rooms on its platform (whose account makes them).

    Kept apart from the rooms: a room row goes when its meeting is deleted (a cancellation, a
    meeting made again), and the next room must still be made in the same account.
    """

    __tablename__ = "meeting_room_host"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), primary_key=True
    )
    facilitator_id: Mapped[int] = mapped_column(
        ForeignKey("facilitator.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MeetingRoom(Base):
    """A room on a video platform: a session's plenary room or a breakout group's room."""

    __tablename__ = "meeting_room"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    #: "plenary" for the session's room; "breakout" for a breakout group's own room.
    purpose: Mapped[str] = mapped_column(String(20), default="plenary")
    #: Entry-point name of the platform ("jitsi", "zoom", "teams").
    platform: Mapped[str] = mapped_column(String(40))
    #: The platform's id for the room (a Jitsi room name, a Zoom meeting id as text).
    external_id: Mapped[str] = mapped_column(String(255), default="")
    join_url: Mapped[str] = mapped_column(String(1000), default="")
    #: "pending" until the platform has it, "active", "failed" or "deleted".
    status: Mapped[str] = mapped_column(String(20), default="pending")
    #: Platform-specific extras (passcode, host URL, settings, last error).
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[Session] = relationship(back_populates="rooms")

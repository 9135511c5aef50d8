"""Sessions, their agenda, personal join links and presence reports."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow
from companion.sessions.lifecycle import StoredStatus

if TYPE_CHECKING:
    from companion.meetings.models import MeetingRoom
    from companion.programmes.models import Group, Participant


#: What `Session.status` stores (the clock adds "open" and "running"; see lifecycle.py).
SessionStatus = StoredStatus


class AgendaKind(enum.StrEnum):
    """The kinds of agenda item a session has."""

    WELCOME = "welcome"
    TOPIC_BOARD = "topic_board"
    BREAKOUTS = "breakouts"
    EXPERT_TALK = "expert_talk"
    CLOSING = "closing"
    OTHER = "other"


class Session(Base):
    """One meeting of a group ("tapaaminen"), with its room on a platform."""

    __tablename__ = "session"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("programme_group.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    #: Start in UTC; shown in the programme's time zone.
    starts_at: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int] = mapped_column(default=120)
    status: Mapped[str] = mapped_column(String(20), default=SessionStatus.SCHEDULED)
    #: Platform of this session's room (copied from the programme when created).
    platform: Mapped[str] = mapped_column(String(40), default="jitsi")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    #: When the summary email went out (by the facilitator's button or by itself).
    summary_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The calendar SEQUENCE of its invitation: raised by every move, cancellation and
    #: restoration, so calendars replace the entry (same UID) instead of adding one.
    calendar_sequence: Mapped[int] = mapped_column(default=0)
    #: Who or what ended it: "facilitator", "worker" (its end plus the grace passed) or a
    #: platform's name (the meeting ended there).
    ended_by: Mapped[str] = mapped_column(String(40), default="")

    group: Mapped[Group] = relationship(back_populates="sessions")
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="session", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )
    rooms: Mapped[list[MeetingRoom]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )

    @property
    def ends_at(self) -> datetime:
        """Scheduled end in UTC."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def room(self) -> MeetingRoom | None:
        """The session's main (plenary) room, if it has one."""
        for room in self.rooms:
            if room.purpose == "plenary" and room.status == "active":
                return room
        return None

    @property
    def is_cancelled(self) -> bool:
        """Whether the session was called off."""
        return self.status == SessionStatus.CANCELLED


class AgendaItem(Base):
    """A slot in a session's agenda; an expert talk names its speaker and material."""

    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20), default=AgendaKind.OTHER)
    title: Mapped[str] = mapped_column(String(200), default="")
    duration_minutes: Mapped[int] = mapped_column(default=15)
    #: Expert talks: who speaks and where their material is.
    speaker_name: Mapped[str] = mapped_column(String(200), default="")
    speaker_email: Mapped[str] = mapped_column(String(254), default="")
    material_url: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[Session] = relationship(back_populates="agenda")


class AgendaTemplateItem(Base):
    """A slot of the agenda a programme's new sessions get (none: the default agenda).

    A copied programme gets the agenda its original's sessions had; experts are not copied.
    """

    __tablename__ = "agenda_template_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20), default=AgendaKind.OTHER)
    title: Mapped[str] = mapped_column(String(200), default="")
    duration_minutes: Mapped[int] = mapped_column(default=15)
    description: Mapped[str] = mapped_column(Text, default="")


class JoinLink(Base):
    """A participant's personal link to every session of their programme.

    The URL carries a signed token naming this row and its nonce; changing the nonce or
    setting `revoked_at` invalidates every copy of the old link.
    """

    __tablename__ = "join_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), unique=True
    )
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    participant: Mapped[Participant] = relationship()


class PresenceReport(Base):
    """What one source says about one participant's presence at one session.

    The facilitator's mark says present or absent; the platform and the join link only ever
    say present. `presence.merge` makes the one fact from a person's reports.
    """

    __tablename__ = "presence_report"
    __table_args__ = (UniqueConstraint("session_id", "participant_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: "facilitator", "platform" or "link" (breakout membership is read from the rounds).
    source: Mapped[str] = mapped_column(String(20))
    present: Mapped[bool] = mapped_column(default=True)
    first_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    #: How many times the source saw them arrive (join link opens, platform join records).
    count: Mapped[int] = mapped_column(default=1)
    #: Minutes in the meeting, where a platform measured them.
    minutes: Mapped[int | None] = mapped_column(default=None)
    #: Which platform reported (e.g. "zoom"), or which facilitator marked (their id).
    detail: Mapped[str] = mapped_column(String(40), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant] = relationship()

"""Note spaces (a session's plenary or one breakout group), their items, summary and actions."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

if TYPE_CHECKING:
    from companion.accounts.models import Facilitator
    from companion.programmes.models import Participant
    from companion.sessions.models import Session

#: The scope of a session's plenary notes; a breakout group's scope is "group-<id>".
PLENARY = "plenary"


def scope_of(breakout_group_id: int | None) -> str:
    """The unique scope name of a space within its session."""
    return PLENARY if breakout_group_id is None else f"group-{breakout_group_id}"


class NoteSpace(Base):
    """The shared notes of a session's plenary or of one of its breakout groups."""

    __tablename__ = "note_space"
    # A unique index on (session_id, breakout_group_id) would let two plenary spaces in, since
    # NULLs never collide in a unique index; the scope string closes that gap.
    __table_args__ = (UniqueConstraint("session_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    #: The breakout group (companion.breakouts) these notes belong to; None for the plenary.
    #: No foreign key yet: the breakouts package adds its table later.
    breakout_group_id: Mapped[int | None] = mapped_column(default=None, index=True)
    #: "plenary" or "group-<breakout_group_id>".
    scope: Mapped[str] = mapped_column(String(40))
    #: How the space is named on pages and in the digest ("Group 2"); empty for the plenary.
    label: Mapped[str] = mapped_column(String(200), default="")
    #: A breakout group shared its notes back to the plenary: every session member may read them.
    shared_to_plenary: Mapped[bool] = mapped_column(default=False)
    shared_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The group summary (Markdown) as of `summary_revision`; earlier texts are in revisions.
    summary: Mapped[str] = mapped_column(Text, default="")
    #: 0 before the first save; a save must name the revision it started from.
    summary_revision: Mapped[int] = mapped_column(default=0)
    summary_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[Session] = relationship()
    items: Mapped[list[NoteItem]] = relationship(
        back_populates="space", order_by="NoteItem.id", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[SummaryRevision]] = relationship(
        back_populates="space", order_by="SummaryRevision.number", cascade="all, delete-orphan"
    )

    @property
    def is_plenary(self) -> bool:
        """Whether these are the whole session's notes."""
        return self.breakout_group_id is None


class NoteItem(Base):
    """One short note (Markdown) by a participant or a facilitator."""

    __tablename__ = "note_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(
        ForeignKey("note_space.id", ondelete="CASCADE"), index=True
    )
    #: The author; set to NULL when the participant is erased, the note stays (anonymous).
    author_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), index=True, default=None
    )
    author_facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="SET NULL"), default=None
    )
    #: What the author wrote (Markdown).
    body: Mapped[str] = mapped_column(Text)
    #: The Markdown rendered and sanitised with nh3; safe to put into pages and emails.
    html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    space: Mapped[NoteSpace] = relationship(back_populates="items")
    author_participant: Mapped[Participant | None] = relationship()
    author_facilitator: Mapped[Facilitator | None] = relationship()


class SummaryRevision(Base):
    """One saved version of a space's summary; the space holds the newest."""

    __tablename__ = "note_summary_revision"
    # The unique number is the last line of defence against two saves on one revision.
    __table_args__ = (UniqueConstraint("space_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("note_space.id", ondelete="CASCADE"))
    #: 1, 2, 3 ... per space.
    number: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    author_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), default=None
    )
    author_facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    space: Mapped[NoteSpace] = relationship(back_populates="revisions")
    author_participant: Mapped[Participant | None] = relationship()
    author_facilitator: Mapped[Facilitator | None] = relationship()


class ActionItem(Base):
    """Something a participant agreed to do ("sovittu tehtävä"), with an optional due date."""

    __tablename__ = "action_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    #: The notes it was written in; kept when the space goes (the action still stands).
    space_id: Mapped[int | None] = mapped_column(
        ForeignKey("note_space.id", ondelete="SET NULL"), index=True, default=None
    )
    #: Who does it; their action items follow them across the programme.
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date | None] = mapped_column(default=None)
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), default=None
    )
    created_by_facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[Participant] = relationship(foreign_keys=[owner_id])
    session: Mapped[Session] = relationship()

"""Breakout rounds, their groups and members, keep-apart/together rules and absences."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

if TYPE_CHECKING:
    from companion.accounts.models import Facilitator
    from companion.meetings.models import MeetingRoom
    from companion.programmes.models import Participant
    from companion.sessions.models import Session


class RoundKind(enum.StrEnum):
    """How a round's groups came about."""

    #: Planned by `companion.grouping`: new people every time, mixed groups.
    OPTIMISED = "optimised"
    #: Empty groups the facilitator fills by hand.
    MANUAL = "manual"
    #: Dealt by chance (the hard rules still hold).
    RANDOM = "random"
    #: One group per top-voted topic; participants pick (or the optimiser assigns).
    TOPICS = "topics"


class RoundStatus(enum.StrEnum):
    """Where a round is: a draft can change, a locked round is final, then it runs and ends."""

    DRAFT = "draft"
    LOCKED = "locked"
    STARTED = "started"
    CLOSED = "closed"


class RuleKind(enum.StrEnum):
    """A programme's pair rule."""

    APART = "apart"
    TOGETHER = "together"


class BreakoutRound(Base):
    """One round of breakout groups in a session ("pienryhmäkierros")."""

    __tablename__ = "breakout_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    #: 1, 2, ... within the session, in the order the rounds were made.
    number: Mapped[int] = mapped_column(default=1)
    #: A `RoundKind`.
    kind: Mapped[str] = mapped_column(String(20), default=RoundKind.OPTIMISED)
    #: A `RoundStatus`.
    status: Mapped[str] = mapped_column(String(20), default=RoundStatus.DRAFT)
    #: How the round is planned and what came of it: "sizing" ({"groups": k} or
    #: {"min": a, "max": b}), "facilitator_rule", "facilitator_ids", "seed", "metrics",
    #: "topic_limit", "picks_open", "board_id", "push" (the platform's answer), "ahead"
    #: (planned together with an earlier session's round).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    session: Mapped[Session] = relationship()
    groups: Mapped[list[BreakoutGroup]] = relationship(
        back_populates="round", order_by="BreakoutGroup.position", cascade="all, delete-orphan"
    )

    @property
    def is_draft(self) -> bool:
        """Whether the groups may still change."""
        return self.status == RoundStatus.DRAFT

    @property
    def has_met(self) -> bool:
        """Whether the round happened (or is happening): its pairs count as having met."""
        return self.status in (RoundStatus.STARTED, RoundStatus.CLOSED)


class BreakoutGroup(Base):
    """A small group of a round ("pienryhmä"), with its own room where the platform has them."""

    __tablename__ = "breakout_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("breakout_round.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    #: Order on the page and index for the optimiser (0, 1, ...).
    position: Mapped[int] = mapped_column(default=0)
    #: The board topic the group discusses (topic rounds); kept if the topic is removed.
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("board_topic.id", ondelete="SET NULL"), default=None
    )
    #: The group's own room (Jitsi, later Teams); None where the platform pre-assigns (Zoom).
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_room.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    round: Mapped[BreakoutRound] = relationship(back_populates="groups")
    members: Mapped[list[BreakoutMember]] = relationship(
        back_populates="group", order_by="BreakoutMember.id", cascade="all, delete-orphan"
    )
    room: Mapped[MeetingRoom | None] = relationship()


class BreakoutMember(Base):
    """A participant or a facilitator in a group; at most once per round."""

    __tablename__ = "breakout_member"
    __table_args__ = (
        # The round is repeated here so the database itself refuses a second seat in a round,
        # even when two picks race.
        UniqueConstraint("round_id", "participant_id"),
        UniqueConstraint("round_id", "facilitator_id"),
        CheckConstraint("(participant_id IS NULL) != (facilitator_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("breakout_round.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("breakout_group.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), default=None, index=True
    )
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="CASCADE"), default=None
    )
    #: Kept in this group when the round is planned again (moved by hand, or picked).
    fixed: Mapped[bool] = mapped_column(default=False)
    #: "optimiser", "random", "moved", "picked" or "assigned".
    source: Mapped[str] = mapped_column(String(20), default="optimiser")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[BreakoutGroup] = relationship(back_populates="members")
    participant: Mapped[Participant | None] = relationship()
    facilitator: Mapped[Facilitator | None] = relationship()

    @property
    def key(self) -> str:
        """The person as the planner names them: "p:<id>" or "f:<id>"."""
        if self.participant_id is not None:
            return f"p:{self.participant_id}"
        return f"f:{self.facilitator_id}"


class BreakoutRule(Base):
    """Two participants of a programme who must be kept apart, or together, in every round."""

    __tablename__ = "breakout_rule"
    __table_args__ = (UniqueConstraint("programme_id", "first_id", "second_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    #: A `RuleKind`.
    kind: Mapped[str] = mapped_column(String(20))
    #: The pair, smaller participant id first (so a pair has one row).
    first_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    second_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    first: Mapped[Participant] = relationship(foreign_keys=[first_id])
    second: Mapped[Participant] = relationship(foreign_keys=[second_id])

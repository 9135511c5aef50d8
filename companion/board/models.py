"""Boards, topics, votes and "keep going?" poll answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

#: Default dot votes per person and board, and at most per topic.
DEFAULT_VOTE_BUDGET = 3
DEFAULT_VOTES_PER_TOPIC = 2


class Board(Base):
    """A session's topic board: the plenary one, or one per breakout group."""

    __tablename__ = "board"
    __table_args__ = (UniqueConstraint("session_id", "breakout_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    #: "" for the plenary board; a breakout group's key for a board of its own.
    breakout_key: Mapped[str] = mapped_column(String(60), default="")
    #: Dot votes each person has on this board (votes on done topics come back).
    vote_budget: Mapped[int] = mapped_column(default=DEFAULT_VOTE_BUDGET)
    #: At most this many of a person's votes on one topic.
    votes_per_topic: Mapped[int] = mapped_column(default=DEFAULT_VOTES_PER_TOPIC)
    #: Participants cannot propose while locked (the facilitator still can).
    proposing_locked: Mapped[bool] = mapped_column(default=False)
    #: The timebox: absolute times, so every client counts down alike. None = no timer.
    timer_started_at: Mapped[datetime | None] = mapped_column(default=None)
    timer_ends_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Bumped at every start and extension; poll answers belong to one round.
    timer_round: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    topics: Mapped[list[Topic]] = relationship(
        back_populates="board", cascade="all, delete-orphan", order_by="Topic.id"
    )


class Topic(Base):
    """A theme someone proposed ("aihe"), in one of the columns."""

    __tablename__ = "board_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    #: Who proposed it ("p:<participant id>" or "f:<facilitator id>").
    author: Mapped[str] = mapped_column(String(40))
    #: Shown as the author's name; empty when proposed anonymously or the person was erased.
    author_name: Mapped[str] = mapped_column(String(200), default="")
    anonymous: Mapped[bool] = mapped_column(default=False)
    #: "to_discuss", "discussing" or "done" (see rules.COLUMNS).
    column: Mapped[str] = mapped_column(String(20), default="to_discuss")
    #: Set when the facilitator merged this duplicate into another topic (then hidden).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("board_topic.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    moved_at: Mapped[datetime | None] = mapped_column(default=None)

    board: Mapped[Board] = relationship(back_populates="topics")
    votes: Mapped[list[Vote]] = relationship(
        back_populates="topic", cascade="all, delete-orphan", order_by="Vote.id"
    )

    @property
    def vote_count(self) -> int:
        """All dot votes on the topic."""
        return sum(v.count for v in self.votes)


class Vote(Base):
    """A person's dot votes on one topic (a count, at most the board's per-topic cap)."""

    __tablename__ = "board_vote"
    __table_args__ = (UniqueConstraint("topic_id", "voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("board_topic.id", ondelete="CASCADE"))
    #: "p:<participant id>" or "f:<facilitator id>".
    voter: Mapped[str] = mapped_column(String(40), index=True)
    count: Mapped[int] = mapped_column(default=1)

    topic: Mapped[Topic] = relationship(back_populates="votes")


class PollAnswer(Base):
    """A thumbs up or down to "keep going?" when a timer round ran out."""

    __tablename__ = "board_poll_answer"
    __table_args__ = (UniqueConstraint("board_id", "round", "voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column()
    voter: Mapped[str] = mapped_column(String(40))
    #: "up" (keep going) or "down" (move on).
    answer: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

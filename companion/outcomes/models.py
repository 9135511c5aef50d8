"""Feedback on sessions and the end-of-programme survey.

Tables that name a participant (for erasure): `session_feedback.participant_id`,
`survey_invitation.participant_id`, `survey_response.participant_id` (set only when the
survey is not anonymous). Each is nullable with ON DELETE SET NULL, so unlinking a person
keeps the anonymous rating or answer and the outcome totals stay the same.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow


class SessionFeedback(Base):
    """One person's rating (1-5) of one session, with an optional comment.

    One row per person and session: a second answer updates the first. Facilitators see the
    comments without names.
    """

    __tablename__ = "session_feedback"
    __table_args__ = (UniqueConstraint("session_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    #: Who answered; None once the person is erased (the rating stays, anonymous).
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), index=True, default=None
    )
    rating: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    #: Where the answer came from: "email" (the summary's link), "panel" or "page".
    source: Mapped[str] = mapped_column(String(20), default="page")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyStatus(enum.StrEnum):
    """A survey is edited as a draft, answered while open, and closed at the end."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class QuestionKind(enum.StrEnum):
    """The kinds of question a survey can ask."""

    SCALE = "scale"
    YES_NO = "yes_no"
    CHOICE = "choice"
    TEXT = "text"


class Survey(Base):
    """A programme's end-of-programme feedback survey (one per programme)."""

    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    #: Facilitators see the answers without names (free text included).
    anonymous: Mapped[bool] = mapped_column(default=True)
    #: A SurveyStatus value.
    status: Mapped[str] = mapped_column(String(20), default=SurveyStatus.DRAFT)
    #: Days between the invitation and each reminder to those who have not answered.
    reminder_days: Mapped[int] = mapped_column(default=7)
    #: How many reminders at most (0: none).
    max_reminders: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position", cascade="all, delete-orphan"
    )


class SurveyQuestion(Base):
    """One question of a survey."""

    __tablename__ = "survey_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: A QuestionKind value.
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    #: The options of a choice question.
    choices: Mapped[list[Any]] = mapped_column(default=list)
    #: A choice question where several options can be ticked.
    multiple: Mapped[bool] = mapped_column(default=False)
    required: Mapped[bool] = mapped_column(default=False)
    #: Which default question this is ("usefulness", "again", "found", "change"), or "".
    key: Mapped[str] = mapped_column(String(40), default="")

    survey: Mapped[Survey] = relationship(back_populates="questions")


class SurveyInvitation(Base):
    """A person the survey was sent to: their reminders, and whether they answered.

    It records *that* they answered, never when or what, so an anonymous answer cannot be
    matched to its person by time.
    """

    __tablename__ = "survey_invitation"
    __table_args__ = (UniqueConstraint("survey_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), index=True, default=None
    )
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    answered: Mapped[bool] = mapped_column(default=False)


class SurveyResponse(Base):
    """One filled-in survey. `answers` maps a question id (as text) to the answer."""

    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    #: Set only when the survey is not anonymous.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), index=True, default=None
    )
    #: The day only (an anonymous answer carries no time to match it by).
    submitted_on: Mapped[date] = mapped_column()
    #: {"<question id>": int (scale 1-5) | bool (yes/no) | str (choice, text) | list[str]}.
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)

"""Programmes, their groups and participants, and interest in a later round."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

if TYPE_CHECKING:
    from companion.accounts.models import Organisation, ProgrammeRole
    from companion.sessions.models import Session


#: `Participant.source` of an erased person: the row stays, without any personal data, so that
#: what they took part in still counts (presence, votes, contacts) without saying who.
ERASED = "erased"


class Programme(Base):
    """One round of peer mentoring, e.g. "eKollega, spring 2027"."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Language of the programme's emails when a participant has no preference.
    language: Mapped[str] = mapped_column(String(5), default="fi")
    #: IANA zone; sessions are shown (and scheduled) in it.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Helsinki")
    starts_on: Mapped[date | None] = mapped_column(default=None)
    ends_on: Mapped[date | None] = mapped_column(default=None)
    #: Platform new sessions get rooms on (a `companion.platforms` entry point name).
    platform: Mapped[str] = mapped_column(String(40), default="jitsi")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="programmes")
    groups: Mapped[list[Group]] = relationship(
        back_populates="programme", order_by="Group.id", cascade="all, delete-orphan"
    )
    #: The people taking part; an erased person's anonymous row (`ERASED`) is not listed, but
    #: still counts in the figures (read those from the table, not from this list).
    participants: Mapped[list[Participant]] = relationship(
        back_populates="programme",
        order_by="Participant.name",
        cascade="all, delete-orphan",
        primaryjoin=f"and_(Programme.id == Participant.programme_id, "
        f"Participant.source != '{ERASED}')",
    )
    roles: Mapped[list[ProgrammeRole]] = relationship(
        back_populates="programme", cascade="all, delete-orphan"
    )
    archive: Mapped[ProgrammeArchive | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_archived(self) -> bool:
        """Whether the programme is archived: read-only and out of the default list."""
        return self.archive is not None


class Group(Base):
    """A standing group of participants that meets every few weeks."""

    __tablename__ = "programme_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    #: Public, unguessable part of this group's intake-survey address.
    intake_token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Whether the intake survey accepts answers.
    intake_open: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="groups")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    sessions: Mapped[list[Session]] = relationship(
        back_populates="group", order_by="Session.starts_at", cascade="all, delete-orphan"
    )


class Participant(Base):
    """An entrepreneur taking part in a programme. Personal data: exported and erased on request."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("programme_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    #: Stored lower-case; unique within a programme.
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(120), default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    years_as_entrepreneur: Mapped[int | None] = mapped_column(default=None)
    interests: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    #: "fi" or "en"; empty follows the programme.
    language: Mapped[str] = mapped_column(String(5), default="")
    #: How the person came in: "manual", "import" or "survey"; `ERASED` once their data was
    #: erased (the row is then an anonymous stand-in for the figures).
    source: Mapped[str] = mapped_column(String(20), default="manual")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="participants")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="participant", cascade="all, delete-orphan"
    )

    @property
    def groups(self) -> list[Group]:
        """The groups this participant belongs to."""
        return [m.group for m in self.memberships]

    @property
    def is_erased(self) -> bool:
        """Whether this row is what is left of an erased person."""
        return self.source == ERASED

    @property
    def effective_language(self) -> str:
        """The language to write to this person in."""
        return self.language or self.programme.language


class Membership(Base):
    """A participant in a group."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("group_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("programme_group.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group] = relationship(back_populates="memberships")
    participant: Mapped[Participant] = relationship(back_populates="memberships")


class InterestSubmission(Base):
    """Someone who wants to join a later round of an organisation's programmes."""

    __tablename__ = "interest_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    company: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(120), default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="")
    #: Version of the privacy text the person agreed to, and when.
    consent_version: Mapped[str] = mapped_column(String(40))
    consented_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    invitations: Mapped[list[InterestInvitation]] = relationship(
        order_by="InterestInvitation.invited_at", cascade="all, delete-orphan", passive_deletes=True
    )


class InterestInvitation(Base):
    """Someone from the interest list was invited to a group's intake survey."""

    __tablename__ = "interest_invitation"
    __table_args__ = (UniqueConstraint("submission_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("interest_submission.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("programme_group.id", ondelete="CASCADE"), index=True
    )
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="SET NULL"), default=None
    )
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group] = relationship()


class ProgrammeArchive(Base):
    """A programme that is over and put away: read-only, hidden from the default list."""

    __tablename__ = "programme_archive"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    archived_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="SET NULL"), default=None
    )


class ImportDraft(Base):
    """An uploaded participant list between upload and confirmation (kept at most a day)."""

    __tablename__ = "import_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unguessable id used in the address of the preview.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitator.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    #: {"headers": [...], "rows": [[...], ...]} as read from the file.
    table: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

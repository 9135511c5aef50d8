"""Follow-up contacts and what each participant chose to share (and be sent)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

if TYPE_CHECKING:
    from companion.programmes.models import Participant
    from companion.sessions.models import Session


class ContactKind(enum.StrEnum):
    """What the tie is for; the seed's outcome names the first four."""

    LUNCH = "lunch"
    SPARRING = "sparring"
    BUSINESS = "business"
    CUSTOMER = "customer"
    OTHER = "other"


class ContactStatus(enum.StrEnum):
    """Where a request is: waiting, agreed by both, or declined by the other person."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class FollowUpContact(Base):
    """A participant's wish to keep in touch with another ("jatkoyhteys").

    Personal data of both people. Withdrawing deletes the row, so a withdrawn contact leaves
    no trace; the private notes are each visible to their writer only.
    """

    __tablename__ = "follow_up_contact"
    __table_args__ = (UniqueConstraint("requester_id", "recipient_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    #: The session where they met, if known (plenary or one of its breakout groups).
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("session.id", ondelete="SET NULL"), index=True, default=None
    )
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: A ContactKind value.
    kind: Mapped[str] = mapped_column(String(20))
    #: A ContactStatus value.
    status: Mapped[str] = mapped_column(String(20), default=ContactStatus.PENDING, index=True)
    #: The requester's own note about the person; never shown to anyone else.
    requester_note: Mapped[str] = mapped_column(Text, default="")
    #: The recipient's own note; never shown to anyone else.
    recipient_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the recipient accepted or declined.
    responded_at: Mapped[datetime | None] = mapped_column(default=None)

    requester: Mapped[Participant] = relationship(foreign_keys=[requester_id])
    recipient: Mapped[Participant] = relationship(foreign_keys=[recipient_id])
    session: Mapped[Session | None] = relationship()


class ParticipantPreferences(Base):
    """What a participant shares with mutual contacts, and whether they get reminders.

    Nothing is shared until the person ticks it (privacy by default).
    """

    __tablename__ = "participant_preferences"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )
    share_email: Mapped[bool] = mapped_column(default=False)
    #: The phone number to share (starts as the one the programme has).
    phone: Mapped[str] = mapped_column(String(40), default="")
    share_phone: Mapped[bool] = mapped_column(default=False)
    website: Mapped[str] = mapped_column(String(500), default="")
    share_website: Mapped[bool] = mapped_column(default=False)
    linkedin: Mapped[str] = mapped_column(String(500), default="")
    share_linkedin: Mapped[bool] = mapped_column(default=False)
    #: Reminder emails before sessions (24 h and 1 h by default).
    reminders: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    participant: Mapped[Participant] = relationship()

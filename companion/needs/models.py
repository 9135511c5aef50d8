"""A programme's themes and each participant's offers and needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from companion.core.db import Base, utcnow
from companion.programmes.models import Participant


class ProgrammeTheme(Base):
    """One theme of a programme's list, once the facilitator has edited it (until then the
    programme uses `themes.DEFAULT_THEMES`)."""

    __tablename__ = "programme_theme"
    __table_args__ = (UniqueConstraint("programme_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    #: Stable within the programme: participants' choices refer to it, so renaming keeps them.
    key: Mapped[str] = mapped_column(String(40))
    name_fi: Mapped[str] = mapped_column(String(120), default="")
    name_en: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(default=0)


class ParticipantNeeds(Base):
    """What a participant offers and looks for. Personal data (exported and erased with the
    participant); shown to others only when `shown` is set."""

    __tablename__ = "participant_needs"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )
    #: Theme keys of the programme's list.
    offers: Mapped[list[Any]] = mapped_column(default=list)
    needs: Mapped[list[Any]] = mapped_column(default=list)
    offer_text: Mapped[str] = mapped_column(String(300), default="")
    need_text: Mapped[str] = mapped_column(String(300), default="")
    #: Others in the participant's breakout groups may see them (off until the person says so).
    shown: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    participant: Mapped[Participant] = relationship(
        backref=backref("offers_needs", uselist=False, cascade="all, delete-orphan")
    )

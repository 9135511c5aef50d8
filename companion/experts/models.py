"""The expert invited to a talk slot (with a personal, revocable link) and the slot's material."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow
from companion.sessions.models import AgendaItem


class Expert(Base):
    """The outside expert who gives one session's expert talk ("asiantuntijatietoisku").

    They have no account: the invitation carries a signed token naming this row and its
    nonce (`/x/<token>`); a new nonce or `revoked_at` stops every copy of the old link.
    One row per talk slot, so a link opens that one session and nothing else.
    """

    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    #: The language of their emails and pages ("fi" or "en").
    language: Mapped[str] = mapped_column(String(5), default="fi")
    nonce: Mapped[str] = mapped_column(String(64))
    #: Whether they get the session's reminders (they can turn them off on their page).
    reminders: Mapped[bool] = mapped_column(default=True)
    #: Their answer to the invitation: "invited" (none yet), "confirmed" or "declined".
    status: Mapped[str] = mapped_column(String(20), default="invited")
    #: When they last confirmed or declined.
    responded_at: Mapped[datetime | None] = mapped_column(default=None)
    #: A few lines about themselves, shown with their talk.
    bio: Mapped[str] = mapped_column(Text, default="")
    #: The IANA zone they read times in; empty: the programme's zone.
    timezone: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the last invitation email was queued.
    invited_at: Mapped[datetime | None] = mapped_column(default=None)
    #: When they last opened their page.
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    agenda_item: Mapped[AgendaItem] = relationship()

    @property
    def active(self) -> bool:
        """Whether the link still works."""
        return self.revoked_at is None

    def zone(self, programme_zone: str) -> str:
        """The zone their times are shown in: their own choice, else the programme's."""
        return self.timezone or programme_zone


class Material(Base):
    """A file for a talk slot (slides, a handout, an image), uploaded by its expert or a
    facilitator. The bytes live in the material store under `storage_key` (a random name);
    the type is what the content was found to be, never what the uploader claimed."""

    __tablename__ = "agenda_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True
    )
    #: The random name in the store (no part of it comes from the uploader).
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    #: The uploaded file's name, cleaned, for downloads and lists.
    filename: Mapped[str] = mapped_column(String(200))
    #: The sniffed media type (application/pdf, image/png, ...).
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    #: "expert" or "facilitator:<id>".
    uploaded_by: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agenda_item: Mapped[AgendaItem] = relationship()

    @property
    def is_image(self) -> bool:
        """Whether browsers may show it inline (PNG, JPEG)."""
        return self.content_type.startswith("image/")

"""Consent records and the audit log of personal-data operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.core.db import Base, utcnow


class Consent(Base):
    """One consent a participant gave (or withdrew), with the text version they saw."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: What the consent covers: "programme" (taking part, data processing), "contact_sharing",
    #: "emails".
    purpose: Mapped[str] = mapped_column(String(40))
    #: Version of the consent text shown, e.g. "2026-11-programme-v1".
    text_version: Mapped[str] = mapped_column(String(40))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    #: How it was collected: "survey" (the intake survey), "import" (the organiser collected it
    #: for a list), "facilitator" (a facilitator added the person and confirmed it),
    #: "preferences" (the person's own settings).
    source: Mapped[str] = mapped_column(String(20), default="survey")


class AuditEntry(Base):
    """Who did what to personal data, kept without the data itself."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True, default=None
    )
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="SET NULL"), default=None
    )
    #: e.g. "participants.import", "participant.erase", "participant.export".
    action: Mapped[str] = mapped_column(String(60))
    #: Ids and counts only; never names, emails or free text.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EmailOptOut(Base):
    """A participant does not want a kind of email (e.g. the summary after each session)."""

    __tablename__ = "email_opt_out"
    __table_args__ = (UniqueConstraint("participant_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: The outbox kind refused: "digest" (the summary email).
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgrammeRetention(Base):
    """Where a programme is on its way to having its personal data deleted after it ended."""

    __tablename__ = "programme_retention"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    #: When its facilitators were warned that the data goes (deletion waits 30 days from it).
    warned_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The date the warning named.
    erase_after: Mapped[datetime | None] = mapped_column(default=None)
    #: When the participants' data was deleted (only anonymous figures remain).
    erased_at: Mapped[datetime | None] = mapped_column(default=None)


class ErasedAddress(Base):
    """A person erased from a programme, remembered by a keyed hash of their email only.

    So that an import of a form export that still lists them does not bring them back
    (`companion.privacy.erased`). The digest cannot be turned back into the address without
    the app's secret key; it goes when the person signs up again themselves or the programme
    is deleted.
    """

    __tablename__ = "erased_address"
    __table_args__ = (UniqueConstraint("programme_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    #: HMAC-SHA256 (hex) of the normalised email, keyed from the secret key.
    digest: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Consent records and the audit log of personal-data operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
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
    #: How it was collected: "survey", "import" (the organiser collected it), "manual".
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

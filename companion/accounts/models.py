"""Organisations, facilitator accounts and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.core.db import Base, utcnow

if TYPE_CHECKING:
    from companion.programmes.models import Programme


class Organisation(Base):
    """An organising body (an entrepreneurs' association, a school) that runs programmes."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Shown in emails and page headers.
    name: Mapped[str] = mapped_column(String(200))
    #: Public, unguessable part of the interest-form address.
    interest_token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Accent colour (#rrggbb) the pages carry for this organisation.
    brand_colour: Mapped[str] = mapped_column(String(7), default="#1f6f5c")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    facilitators: Mapped[list[Facilitator]] = relationship(back_populates="organisation")
    programmes: Mapped[list[Programme]] = relationship(back_populates="organisation")


class Facilitator(Base):
    """A staff member who signs in; an organisation admin manages every programme of it."""

    __tablename__ = "facilitator"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: Sign-in name, stored lower-case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: werkzeug scrypt hash; empty for accounts that only sign in through a platform.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    #: Organisation admin: sees and manages all programmes of the organisation.
    is_admin: Mapped[bool] = mapped_column(default=False)
    #: Preferred language of pages and emails ("fi" or "en"); empty follows the browser.
    language: Mapped[str] = mapped_column(String(5), default="")
    active: Mapped[bool] = mapped_column(default=True)
    #: Bumped on sign-out-everywhere and password change; cookies carry it and must match.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(default=None)

    organisation: Mapped[Organisation] = relationship(back_populates="facilitators")
    roles: Mapped[list[ProgrammeRole]] = relationship(
        back_populates="facilitator", cascade="all, delete-orphan"
    )


class ProgrammeRole(Base):
    """A facilitator's role in one programme (the facilitator may be of another organisation:
    the programme is then shared with them)."""

    __tablename__ = "programme_role"
    __table_args__ = (UniqueConstraint("programme_id", "facilitator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    facilitator_id: Mapped[int] = mapped_column(
        ForeignKey("facilitator.id", ondelete="CASCADE"), index=True
    )
    #: "owner", "co_facilitator" or "observer" (`companion.accounts.roles.Role`); rows from
    #: before roles say "facilitator", which counts as "owner".
    role: Mapped[str] = mapped_column(String(20), default="owner")

    facilitator: Mapped[Facilitator] = relationship(back_populates="roles")
    programme: Mapped[Programme] = relationship(back_populates="roles")


class SignInSession(Base):
    """One browser's sign-in. The cookie names it by `key`; signing out deletes the row, so a
    copy of the cookie taken before no longer signs anyone in."""

    __tablename__ = "sign_in_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random, unguessable; the cookie carries it (never the row id).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    facilitator_id: Mapped[int] = mapped_column(
        ForeignKey("facilitator.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FacilitatorInvitation(Base):
    """An organisation admin's invitation to a new facilitator: a single-use, expiring link
    whose token is stored only as a hash."""

    __tablename__ = "facilitator_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    #: Lower-case; the account made from the invitation gets this address.
    email: Mapped[str] = mapped_column(String(254), index=True)
    #: The name the admin wrote; the invitee may change it.
    name: Mapped[str] = mapped_column(String(200), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    #: Language of the invitation email and of the account ("fi" or "en").
    language: Mapped[str] = mapped_column(String(5), default="")
    #: SHA-256 of the link's token (hex); sending again replaces it, so older links stop.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("facilitator.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[Facilitator | None] = relationship()


class PasswordReset(Base):
    """A password-reset link sent by email: single-use and short-lived; only the token's hash
    is stored."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(
        ForeignKey("facilitator.id", ondelete="CASCADE"), index=True
    )
    #: SHA-256 of the link's token (hex).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column()
    #: Set when the link was used, or when the password changed otherwise (the link stops).
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    facilitator: Mapped[Facilitator] = relationship()

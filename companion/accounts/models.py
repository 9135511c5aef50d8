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

"""An organisation's team as its admin sees and manages it: who has access to what, and
closing or reopening an account."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.invitations import require_admin
from companion.accounts.models import Facilitator, ProgrammeRole
from companion.accounts.operations import deactivate_facilitator
from companion.accounts.roles import role_label
from companion.core.db import Db
from companion.core.errors import Conflict, NotFound
from companion.programmes.models import Programme


@dataclass(frozen=True)
class Holding:
    """A programme a facilitator holds a role in."""

    programme_id: int
    programme_name: str
    role: str

    @property
    def role_label(self) -> str:
        """The role's name in the current language."""
        return role_label(self.role)


@dataclass(frozen=True)
class Member:
    """One facilitator of the organisation and what they have access to."""

    facilitator: Facilitator
    holdings: list[Holding]


def team_overview(db: Db, admin: Facilitator) -> list[Member]:
    """Every facilitator of the admin's organisation (admins first, then by name), active or
    not, with the programmes they hold a role in."""
    require_admin(admin)
    facilitators = list(
        db.scalars(select(Facilitator).where(Facilitator.organisation_id == admin.organisation_id))
    )
    rows = db.execute(
        select(ProgrammeRole.facilitator_id, Programme.id, Programme.name, ProgrammeRole.role)
        .join(Programme, Programme.id == ProgrammeRole.programme_id)
        .join(Facilitator, Facilitator.id == ProgrammeRole.facilitator_id)
        .where(Facilitator.organisation_id == admin.organisation_id)
        .order_by(Programme.name, Programme.id)
    )
    holdings: dict[int, list[Holding]] = {}
    for facilitator_id, programme_id, programme_name, role in rows:
        holdings.setdefault(facilitator_id, []).append(Holding(programme_id, programme_name, role))
    facilitators.sort(key=lambda f: (not f.active, not f.is_admin, f.name.casefold(), f.id))
    return [Member(f, holdings.get(f.id, [])) for f in facilitators]


def member_for_admin(db: Db, admin: Facilitator, facilitator_id: int) -> Facilitator:
    """A facilitator of the admin's organisation (NotFound for anyone else)."""
    require_admin(admin)
    facilitator = db.get(Facilitator, facilitator_id)
    if facilitator is None or facilitator.organisation_id != admin.organisation_id:
        raise NotFound(_("No such facilitator."))
    return facilitator


def deactivate_member(db: Db, admin: Facilitator, facilitator: Facilitator) -> None:
    """Close a team member's account: every sign-in, API token and live connection ends."""
    require_admin(admin)
    if facilitator.id == admin.id:
        raise Conflict(_("You cannot deactivate your own account."))
    if facilitator.active:
        deactivate_facilitator(db, facilitator)


def reactivate_member(db: Db, admin: Facilitator, facilitator: Facilitator) -> None:
    """Open a closed account again; its earlier sign-ins and tokens stay ended."""
    require_admin(admin)
    facilitator.active = True
    db.flush()

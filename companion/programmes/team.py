"""A programme's team: who holds which role, and the owners' changes to it.

Owners add facilitators by their account's email (of any organisation on this Kollega: the
programme is then shared with them), change roles and remove members; the last owner stays.
Each change is written to the audit log of the programme's organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from companion.accounts import roles
from companion.accounts.access import require_programme
from companion.accounts.models import Facilitator, ProgrammeRole
from companion.accounts.operations import grant_programme
from companion.accounts.roles import Capability, Role, owners_left, parse_role
from companion.core.db import Db
from companion.core.errors import Conflict, Invalid, NotFound
from companion.privacy.audit import describe_action, record_audit
from companion.programmes.models import Programme

#: How each role is named on the pages.
ROLE_LABELS = roles.ROLE_LABELS


@dataclass(frozen=True)
class Member:
    """One member of a programme's team as the Team page shows them."""

    facilitator_id: int
    name: str
    email: str
    role: Role
    organisation_name: str
    #: Of another organisation than the programme's (the programme is shared with them).
    guest: bool


def team_of(db: Db, programme: Programme) -> list[Member]:
    """The programme's members with a role, owners first, then by name."""
    rows = db.execute(
        select(ProgrammeRole, Facilitator)
        .join(Facilitator, Facilitator.id == ProgrammeRole.facilitator_id)
        .where(ProgrammeRole.programme_id == programme.id)
    ).all()
    members = [
        Member(
            facilitator_id=facilitator.id,
            name=facilitator.name,
            email=facilitator.email,
            role=parse_role(held.role) or Role.OBSERVER,
            organisation_name=facilitator.organisation.name,
            guest=facilitator.organisation_id != programme.organisation_id,
        )
        for held, facilitator in rows
    ]
    order = list(Role)
    return sorted(members, key=lambda m: (order.index(m.role), m.name.casefold()))


def _require_owner(by: Facilitator, programme: Programme) -> None:
    require_programme(by, programme, capability=Capability.MANAGE_TEAM)


def _stored_roles(db: Db, programme: Programme) -> list[str]:
    return list(
        db.scalars(select(ProgrammeRole.role).where(ProgrammeRole.programme_id == programme.id))
    )


def _held(db: Db, programme: Programme, facilitator_id: int) -> ProgrammeRole:
    held = db.scalar(
        select(ProgrammeRole).where(
            ProgrammeRole.programme_id == programme.id,
            ProgrammeRole.facilitator_id == facilitator_id,
        )
    )
    if held is None:
        raise NotFound(_("This person is not in the programme's team."))
    return held


def add_member(db: Db, by: Facilitator, programme: Programme, email: str, role: Role) -> Member:
    """Give the facilitator with this account email a role in the programme (owners only)."""
    _require_owner(by, programme)
    address = email.strip().lower()
    facilitator = db.scalar(select(Facilitator).where(func.lower(Facilitator.email) == address))
    if facilitator is None or not facilitator.active:
        # Only facilitators signed up on this Kollega can be added; the answer names nothing
        # about other organisations' accounts beyond what the owner typed.
        raise Invalid(errors={"email": _("There is no facilitator account with this email.")})
    if any(r.programme_id == programme.id for r in facilitator.roles):
        raise Conflict(_("%(name)s is in the team already.", name=facilitator.name))
    grant_programme(db, facilitator, programme, role)
    record_audit(
        db,
        "team.add",
        organisation_id=programme.organisation_id,
        facilitator=by,
        programme_id=programme.id,
        member_id=facilitator.id,
        role=role.value,
    )
    return next(m for m in team_of(db, programme) if m.facilitator_id == facilitator.id)


def change_role(
    db: Db, by: Facilitator, programme: Programme, facilitator_id: int, role: Role
) -> None:
    """Change a member's role (owners only); the last owner stays an owner."""
    _require_owner(by, programme)
    held = _held(db, programme, facilitator_id)
    if owners_left(_stored_roles(db, programme), removing=held.role, becoming=role) < 1:
        raise Conflict(_("A programme needs at least one owner. Make someone else owner first."))
    held.role = role.value
    db.flush()
    record_audit(
        db,
        "team.change",
        organisation_id=programme.organisation_id,
        facilitator=by,
        programme_id=programme.id,
        member_id=facilitator_id,
        role=role.value,
    )


def remove_member(db: Db, by: Facilitator, programme: Programme, facilitator_id: int) -> None:
    """Take a member's role away (owners only); the last owner cannot be removed."""
    _require_owner(by, programme)
    held = _held(db, programme, facilitator_id)
    if owners_left(_stored_roles(db, programme), removing=held.role, becoming=None) < 1:
        raise Conflict(_("A programme needs at least one owner. Make someone else owner first."))
    db.delete(held)
    db.flush()
    db.expire_all()
    record_audit(
        db,
        "team.remove",
        organisation_id=programme.organisation_id,
        facilitator=by,
        programme_id=programme.id,
        member_id=facilitator_id,
    )


describe_action("team.add", _l("Added a member to a programme's team"))
describe_action("team.change", _l("Changed a role in a programme's team"))
describe_action("team.remove", _l("Removed a member from a programme's team"))

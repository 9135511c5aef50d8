"""Organisations, facilitator accounts, sign-in checks and the access rules built on them."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select

from companion.accounts.access import may, require_programme
from companion.accounts.models import Facilitator, Organisation, ProgrammeRole, SignInSession
from companion.accounts.roles import Capability, Role
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotAllowed, NotFound
from companion.core.jobs import periodic
from companion.core.security import hash_password, verify_password
from companion.programmes.models import Programme, ProgrammeArchive

MIN_PASSWORD_LENGTH = 10


def create_organisation(db: Db, name: str) -> Organisation:
    """A new organisation with an unguessable interest-form address."""
    organisation = Organisation(name=name.strip(), interest_token=secrets.token_urlsafe(12))
    db.add(organisation)
    db.flush()
    return organisation


def create_facilitator(
    db: Db,
    organisation: Organisation,
    *,
    email: str,
    name: str,
    password: str,
    is_admin: bool = False,
    language: str = "",
) -> Facilitator:
    """A local facilitator account; the email must be unused and the password long enough."""
    email = email.strip().lower()
    if "@" not in email:
        raise Invalid(errors={"email": _("Enter a valid email address.")})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            errors={"password": _("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)}
        )
    if db.scalar(select(Facilitator.id).where(func.lower(Facilitator.email) == email)):
        raise Conflict(_("An account with this email already exists."))
    facilitator = Facilitator(
        organisation=organisation,
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        is_admin=is_admin,
        language=language,
    )
    db.add(facilitator)
    db.flush()
    return facilitator


def authenticate(db: Db, email: str, password: str) -> Facilitator | None:
    """The active facilitator with this email and password, or None."""
    facilitator = db.scalar(
        select(Facilitator).where(func.lower(Facilitator.email) == email.strip().lower())
    )
    if facilitator is None or not facilitator.active:
        verify_password("", password)  # same work as a real check: no timing hint
        return None
    if not verify_password(facilitator.password_hash, password):
        return None
    facilitator.last_sign_in_at = utcnow()
    return facilitator


def set_password(db: Db, facilitator: Facilitator, password: str) -> None:
    """Change the password and sign the account out everywhere else."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            errors={"password": _("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)}
        )
    facilitator.password_hash = hash_password(password)
    facilitator.session_version += 1
    end_sign_in_sessions(db, facilitator)
    db.flush()


def end_sign_in_sessions(db: Db, facilitator: Facilitator) -> None:
    """End every sign-in of the account on every browser (cookies stop working at once)."""
    db.execute(delete(SignInSession).where(SignInSession.facilitator_id == facilitator.id))


def deactivate_facilitator(db: Db, facilitator: Facilitator) -> None:
    """Close the account: no sign-in, cookie, API token or live connection works any more
    (and none comes back if it is activated again)."""
    facilitator.active = False
    facilitator.session_version += 1
    end_sign_in_sessions(db, facilitator)
    db.flush()


#: Sign-in records live as long as the cookie (PERMANENT_SESSION_LIFETIME); older ones sign
#: nobody in and are deleted.
SIGN_IN_RECORD_LIFETIME = timedelta(days=14)


@periodic(3600)
def purge_sign_in_sessions(db: Db) -> None:
    """Delete sign-in records whose cookies have expired."""
    cutoff = utcnow() - SIGN_IN_RECORD_LIFETIME
    db.execute(delete(SignInSession).where(SignInSession.created_at < cutoff))


def can_manage_programme(facilitator: Facilitator, programme: Programme) -> bool:
    """Whether the facilitator may work on the programme in the current access mode (a read
    needs any role, a write one that runs it; see `companion.accounts.access`)."""
    try:
        require_programme(facilitator, programme)
    except (NotAllowed, NotFound):
        return False
    return True


def can_delete_programme(facilitator: Facilitator, programme: Programme) -> bool:
    """Whether the facilitator may delete the programme (its owners, and so the organisation's
    admin, may)."""
    return may(facilitator, programme, Capability.DELETE)


def grant_programme(
    db: Db, facilitator: Facilitator, programme: Programme, role: Role = Role.OWNER
) -> ProgrammeRole:
    """Give the facilitator a role in the programme, unless they hold one already (then that
    one stays). Facilitators of other organisations may be given one: the programme is
    shared with them."""
    for held in facilitator.roles:
        if held.programme_id == programme.id:
            return held
    granted = ProgrammeRole(facilitator=facilitator, programme=programme, role=role.value)
    db.add(granted)
    db.flush()
    return granted


def visible_programmes(
    db: Db, facilitator: Facilitator, *, archived: bool | None = None
) -> list[Programme]:
    """The programmes the facilitator may see, newest first: their organisation's (all of
    them for an admin, else those they hold a role in) and those other organisations share
    with them. `archived` True lists only the archived ones, False only the others, None both."""
    held = select(ProgrammeRole.programme_id).where(ProgrammeRole.facilitator_id == facilitator.id)
    if facilitator.is_admin:
        query = select(Programme).where(
            or_(Programme.organisation_id == facilitator.organisation_id, Programme.id.in_(held))
        )
    else:
        query = select(Programme).where(Programme.id.in_(held))
    if archived is not None:
        put_away = select(ProgrammeArchive.programme_id)
        query = query.where(
            Programme.id.in_(put_away) if archived else Programme.id.not_in(put_away)
        )
    return list(db.scalars(query.order_by(Programme.created_at.desc(), Programme.id.desc())))


def is_shared_with(facilitator: Facilitator, programme: Programme) -> bool:
    """Whether the programme is another organisation's, shared with the facilitator."""
    return programme.organisation_id != facilitator.organisation_id

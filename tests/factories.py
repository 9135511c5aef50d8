"""Test data factories: each makes a valid object with sensible defaults and commits it."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from werkzeug.security import generate_password_hash

from companion.accounts.models import Facilitator, Organisation
from companion.accounts.operations import create_facilitator, create_organisation
from companion.core.db import Db, utcnow
from companion.meetings.operations import ensure_session_room
from companion.programmes.models import Group, Membership, Participant, Programme
from companion.programmes.operations import create_group, create_programme
from companion.programmes.schemas import GroupIn, ProgrammeIn
from companion.sessions.models import Session

_counter = itertools.count(1)

PASSWORD = "correct horse battery"


def make_organisation(db: Db, *, name: str | None = None) -> Organisation:
    """An organisation."""
    organisation = create_organisation(db, name or f"Organisation {next(_counter)}")
    db.commit()
    return organisation


def make_facilitator(
    db: Db,
    *,
    organisation: Organisation | None = None,
    admin: bool = False,
    email: str | None = None,
    password: str = PASSWORD,
    name: str = "Fia Facilitator",
    language: str = "",
) -> Facilitator:
    """A facilitator (a new organisation unless one is given)."""
    organisation = organisation or make_organisation(db)
    facilitator = create_facilitator(
        db,
        organisation,
        email=email or f"facilitator{next(_counter)}@example.org",
        name=name,
        password=password,
        is_admin=admin,
        language=language,
    )
    # scrypt takes ~0.15 s by design; tests sign in many accounts, so store a cheap hash of
    # the same password (the sign-in tests still go through the real check).
    facilitator.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
    db.commit()
    return facilitator


def make_programme(
    db: Db,
    *,
    facilitator: Facilitator | None = None,
    groups: int = 2,
    name: str = "eKollega spring",
    timezone: str = "Europe/Helsinki",
    language: str = "en",
    **fields: Any,
) -> Programme:
    """A programme with `groups` groups, facilitated by `facilitator` (made if missing)."""
    facilitator = facilitator or make_facilitator(db)
    programme = create_programme(
        db,
        facilitator,
        ProgrammeIn(name=name, timezone=timezone, language=language, **fields),
    )
    for index in range(groups):
        create_group(db, programme, GroupIn(name=f"Group {index + 1}"))
    db.commit()
    return programme


def make_participant(
    db: Db,
    programme: Programme,
    *,
    group: Group | None = None,
    name: str | None = None,
    email: str | None = None,
    **fields: Any,
) -> Participant:
    """A participant of the programme, member of `group` (the first group by default)."""
    number = next(_counter)
    participant = Participant(
        programme=programme,
        name=name or f"Participant {number}",
        email=email or f"participant{number}@example.fi",
        **fields,
    )
    db.add(participant)
    group = group or (programme.groups[0] if programme.groups else None)
    if group is not None:
        db.add(Membership(group=group, participant=participant))
    db.commit()
    return participant


def make_session(
    db: Db,
    group: Group,
    *,
    starts_at: datetime | None = None,
    duration_minutes: int = 120,
    title: str | None = None,
) -> Session:
    """A session of the group (tomorrow by default) with its room on the programme's platform."""
    session = Session(
        group=group,
        title=title or f"Session {next(_counter)}",
        starts_at=starts_at or utcnow() + timedelta(days=1),
        duration_minutes=duration_minutes,
        platform=group.programme.platform,
    )
    db.add(session)
    db.flush()
    ensure_session_room(db, session)
    db.commit()
    return session

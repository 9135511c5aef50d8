"""Programmes, groups and participants: every write and every access rule.

Access: a facilitator reaches a programme only through `get_programme` & co., which answer
NotFound for another organisation's ids (so ids cannot be probed) and NotAllowed for a
programme of their own organisation they do not facilitate.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from companion.accounts.access import require_programme
from companion.accounts.models import Facilitator, Organisation
from companion.accounts.operations import grant_programme
from companion.accounts.roles import Capability
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotAllowed, NotFound
from companion.needs.schemas import NEEDS_FIELDS
from companion.privacy.erased import forget_erased, normalise_email, was_erased
from companion.privacy.models import Consent
from companion.programmes.models import (
    Group,
    InterestSubmission,
    Membership,
    Participant,
    Programme,
)
from companion.programmes.schemas import (
    GroupIn,
    GroupPatch,
    IntakeIn,
    InterestIn,
    ParticipantIn,
    ParticipantPatch,
    ProgrammeIn,
    ProgrammePatch,
)

#: Version of the consent text on the intake survey and interest form; bump when it changes.
CONSENT_VERSION = "2026-11-v2"
#: Version of the confirmation a facilitator gives when adding someone by hand.
FACILITATOR_CONSENT_VERSION = "2026-12-facilitator-v1"
#: Version of the confirmation on an import that the organiser collected the consents.
IMPORT_CONSENT_VERSION = "organiser-collected"


# --- access -----------------------------------------------------------------------------

#: The largest id a row can have (PostgreSQL `integer`); larger ids in a URL cannot exist.
MAX_ID = 2**31 - 1
#: What the public tokens (intake survey, interest form, import draft) are made of.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _possible_id(value: int) -> bool:
    # An id out of range would fail in the driver (SQLite: OverflowError, PostgreSQL:
    # NumericValueOutOfRange) instead of simply finding nothing.
    return 0 < value <= MAX_ID


def possible_token(token: str) -> bool:
    # Tokens come from `secrets.token_urlsafe`; anything else (even a NUL, which PostgreSQL
    # refuses in a query) cannot match one, so it is not looked up.
    return _TOKEN.fullmatch(token) is not None


def get_programme(
    db: Db, facilitator: Facilitator, programme_id: int, *, capability: Capability | None = None
) -> Programme:
    """The programme if the facilitator's role in it allows the request (and `capability`,
    if given; see `companion.accounts.access`)."""
    programme = db.get(Programme, programme_id) if _possible_id(programme_id) else None
    if programme is None:
        raise NotFound(_("No such programme."))
    require_programme(facilitator, programme, capability=capability)
    return programme


def get_group(
    db: Db, facilitator: Facilitator, group_id: int, *, capability: Capability | None = None
) -> Group:
    """The group if the facilitator's role in its programme allows the request (and
    `capability`, if given)."""
    group = db.get(Group, group_id) if _possible_id(group_id) else None
    if group is None:
        raise NotFound(_("No such group."))
    require_programme(
        facilitator, group.programme, capability=capability, missing=lambda: _("No such group.")
    )
    return group


def get_participant(
    db: Db, facilitator: Facilitator, participant_id: int, *, capability: Capability | None = None
) -> Participant:
    """The participant if the facilitator's role in their programme allows the request (and
    `capability`, if given)."""
    participant = db.get(Participant, participant_id) if _possible_id(participant_id) else None
    if participant is None or participant.is_erased:
        raise NotFound(_("No such participant."))
    require_programme(
        facilitator,
        participant.programme,
        capability=capability,
        missing=lambda: _("No such participant."),
    )
    return participant


# --- programmes and groups --------------------------------------------------------------


def create_programme(db: Db, facilitator: Facilitator, data: ProgrammeIn) -> Programme:
    """A new programme of the facilitator's organisation; they become its owner."""
    programme = Programme(
        organisation_id=facilitator.organisation_id,
        name=data.name,
        description=data.description,
        language=data.language,
        timezone=data.timezone,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        platform=data.platform,
    )
    db.add(programme)
    db.flush()
    grant_programme(db, facilitator, programme)
    return programme


def update_programme(db: Db, programme: Programme, data: ProgrammeIn | ProgrammePatch) -> Programme:
    """Change the given fields of a programme."""
    changes = data.model_dump(exclude_unset=isinstance(data, ProgrammePatch))
    starts_on = changes.get("starts_on", programme.starts_on)
    ends_on = changes.get("ends_on", programme.ends_on)
    if starts_on and ends_on and ends_on < starts_on:
        raise Invalid(
            _("Please correct the marked fields."),
            errors={"ends_on": _("The programme cannot end before it starts.")},
        )
    for key, value in changes.items():
        if key == "platform":
            continue  # changing platform moves rooms; done by the integrations, not here
        if value is None and key in ("name", "language", "timezone", "description"):
            continue
        setattr(programme, key, value)
    db.flush()
    return programme


def create_group(db: Db, programme: Programme, data: GroupIn) -> Group:
    """A new group with its own intake-survey address."""
    if any(g.name.lower() == data.name.lower() for g in programme.groups):
        raise Conflict(_("The programme already has a group with this name."), field="name")
    group = Group(
        programme=programme,
        name=data.name,
        intake_open=data.intake_open,
        intake_token=secrets.token_urlsafe(12),
    )
    db.add(group)
    db.flush()
    return group


def update_group(db: Db, group: Group, data: GroupIn | GroupPatch) -> Group:
    """Rename a group or open/close its intake survey (a patch changes only what it names)."""
    name = data.name if data.name is not None else group.name
    if any(g.id != group.id and g.name.lower() == name.lower() for g in group.programme.groups):
        raise Conflict(_("The programme already has a group with this name."), field="name")
    group.name = name
    if data.intake_open is not None:
        group.intake_open = data.intake_open
    db.flush()
    return group


def group_by_intake_token(db: Db, token: str) -> Group:
    """The group whose intake survey this is; NotFound for unknown tokens."""
    group = (
        db.scalar(select(Group).where(Group.intake_token == token))
        if possible_token(token)
        else None
    )
    if group is None:
        raise NotFound(_("This survey address is not valid. Please check the link you were sent."))
    return group


# --- participants -----------------------------------------------------------------------


def _email_taken(db: Db, programme: Programme, email: str, *, except_id: int | None = None) -> bool:
    query = select(Participant.id).where(
        Participant.programme_id == programme.id, func.lower(Participant.email) == email.lower()
    )
    if except_id is not None:
        query = query.where(Participant.id != except_id)
    return db.scalar(query) is not None


def _groups_of(programme: Programme, group_ids: Iterable[int]) -> list[Group]:
    wanted = set(group_ids)
    groups = [g for g in programme.groups if g.id in wanted]
    if len(groups) != len(wanted):
        raise Invalid(
            _("Please correct the marked fields."),
            errors={"group_ids": _("Choose groups of this programme.")},
        )
    return groups


def add_participant(
    db: Db,
    programme: Programme,
    data: ParticipantIn,
    *,
    source: str = "manual",
    consent: tuple[str, str] | None = ("facilitator", FACILITATOR_CONSENT_VERSION),
) -> Participant:
    """A new participant in the programme and the chosen groups; emails are unique.

    `consent` is recorded as how and under which text the person agreed to take part (by
    default: the facilitator adding them confirmed it). Someone who asked to be erased from
    the programme is refused (Conflict): only they can come back, through the survey.
    """
    if _email_taken(db, programme, data.email):
        raise Conflict(
            _("%(email)s is already a participant of this programme.", email=data.email),
            field="email",
        )
    if was_erased(db, programme.id, data.email):
        raise Conflict(erased_message(), field="email")
    groups = _groups_of(programme, data.group_ids)
    participant = Participant(
        programme=programme,
        name=data.name,
        email=data.email,
        phone=data.phone,
        company=data.company,
        industry=data.industry,
        region=data.region,
        years_as_entrepreneur=data.years_as_entrepreneur,
        interests=data.interests,
        goals=data.goals,
        language=data.language or "",
        source=source,
    )
    db.add(participant)
    for group in groups:
        db.add(Membership(group=group, participant=participant))
    db.flush()
    if consent is not None:
        consent_source, text_version = consent
        record_consent(
            db, participant, "programme", source=consent_source, text_version=text_version
        )
    return participant


def erased_message() -> str:
    """Why a facilitator cannot add someone who asked to be erased, and what can be done."""
    return _(
        "This person asked to be erased from this programme, so they cannot be added again. "
        "If they want to come back, send them the programme's survey link: signing up "
        "themselves adds them."
    )


def update_participant(
    db: Db, participant: Participant, data: ParticipantIn | ParticipantPatch
) -> Participant:
    """Change a participant's details and, if given, their groups."""
    changes = data.model_dump(exclude_unset=isinstance(data, ParticipantPatch))
    email = changes.get("email")
    if email and _email_taken(db, participant.programme, email, except_id=participant.id):
        raise Conflict(
            _("%(email)s is already a participant of this programme.", email=email), field="email"
        )
    if (
        email
        and normalise_email(email) != normalise_email(participant.email)
        and was_erased(db, participant.programme_id, email)
    ):
        raise Conflict(erased_message(), field="email")
    group_ids = changes.pop("group_ids", None)
    for key, value in changes.items():
        if value is None and key != "years_as_entrepreneur":
            continue
        setattr(participant, key, value if key != "language" else (value or ""))
    if group_ids is not None:
        set_groups(db, participant, _groups_of(participant.programme, group_ids))
    db.flush()
    return participant


def set_groups(db: Db, participant: Participant, groups: list[Group]) -> None:
    """Make the participant a member of exactly these groups."""
    wanted = {g.id for g in groups}
    for membership in list(participant.memberships):
        if membership.group_id not in wanted:
            participant.memberships.remove(membership)
            db.delete(membership)
    have = {m.group_id for m in participant.memberships}
    for group in groups:
        if group.id not in have:
            db.add(Membership(group=group, participant=participant))
    db.flush()


def remove_participant(db: Db, facilitator: Facilitator, participant: Participant) -> None:
    """Remove a participant: their data is erased as their own erasure does (privacy)."""
    from companion.privacy.erasure import erase_participant

    erase_participant(db, participant, facilitator=facilitator)


def record_consent(
    db: Db, participant: Participant, purpose: str, *, source: str, text_version: str
) -> Consent:
    """Store that the participant agreed to `purpose` under `text_version` now."""
    consent = Consent(
        participant_id=participant.id,
        purpose=purpose,
        text_version=text_version,
        source=source,
        given_at=utcnow(),
    )
    db.add(consent)
    db.flush()
    return consent


def submit_intake(db: Db, group: Group, data: IntakeIn) -> Participant | None:
    """A person's intake-survey answer: a new participant with their consent.

    An email the programme already knows changes nothing and returns None: the survey is
    public, so an answer must not overwrite (or reveal) someone else's details. The page
    thanks both alike; the organisers update existing answers themselves.
    """
    if not group.intake_open:
        raise NotAllowed(_("This survey is closed. Please contact the organisers."))
    programme = group.programme
    if _email_taken(db, programme, data.email):
        return None
    # Their own new sign-up after an erasure is their choice: the mark goes.
    forget_erased(db, programme.id, data.email)
    fields = data.model_dump(exclude={"consent", *NEEDS_FIELDS})  # offers and needs: the view
    participant = Participant(programme_id=programme.id, source="survey", **fields)
    try:
        # Two identical answers sent at once: the unique email decides, the loser is "known".
        with db.begin_nested():
            db.add(participant)
            db.flush()
    except IntegrityError:
        return None
    db.add(Membership(group=group, participant=participant))
    db.flush()
    record_consent(db, participant, "programme", source="survey", text_version=CONSENT_VERSION)
    return participant


def organisation_by_interest_token(db: Db, token: str) -> Organisation:
    """The organisation whose interest form this is."""
    organisation = (
        db.scalar(select(Organisation).where(Organisation.interest_token == token))
        if possible_token(token)
        else None
    )
    if organisation is None:
        raise NotFound(_("This form address is not valid. Please check the link."))
    return organisation


def submit_interest(
    db: Db, organisation: Organisation, data: InterestIn
) -> InterestSubmission | None:
    """Someone wants to join a later round: a new entry, with their consent.

    An email the organisation already has (in any letter case) changes nothing and returns
    None: the form is public, so a second answer must not replace someone's name, company and
    message. The page thanks both alike; the organisers update entries themselves.
    """
    existing = db.scalar(
        select(InterestSubmission.id).where(
            InterestSubmission.organisation_id == organisation.id,
            func.lower(InterestSubmission.email) == data.email.lower(),
        )
    )
    if existing is not None:
        return None
    submission = InterestSubmission(
        organisation_id=organisation.id,
        consent_version=CONSENT_VERSION,
        **data.model_dump(exclude={"consent"}),
    )
    db.add(submission)
    db.flush()
    return submission


def interest_submissions(db: Db, facilitator: Facilitator) -> list[InterestSubmission]:
    """Interest-form answers for the facilitator's organisation, newest first."""
    return list(
        db.scalars(
            select(InterestSubmission)
            .where(InterestSubmission.organisation_id == facilitator.organisation_id)
            .order_by(InterestSubmission.created_at.desc())
        )
    )

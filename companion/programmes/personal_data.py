"""The programmes package's share of a person's data (see `companion.privacy.registry`): their
profile and intake answers, groups, interest-form answers and uploaded lists naming them."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from companion.core.db import Db
from companion.privacy.registry import Section, register_personal_data
from companion.programmes.models import (
    ImportDraft,
    InterestSubmission,
    Membership,
    Participant,
)

#: The profile's fields, in the order the readable page shows them.
PROFILE_FIELDS = (
    "name",
    "email",
    "phone",
    "company",
    "industry",
    "region",
    "years_as_entrepreneur",
    "interests",
    "goals",
    "language",
    "source",
    "created_at",
)


def _interest(db: Db, participant: Participant) -> list[InterestSubmission]:
    """The organisation's interest-form answers under the person's email."""
    return list(
        db.scalars(
            select(InterestSubmission).where(
                InterestSubmission.organisation_id == participant.programme.organisation_id,
                func.lower(InterestSubmission.email) == participant.email.lower(),
            )
        )
    )


def export_profile(db: Db, participant_id: int) -> list[Section]:
    """Profile, groups and interest-form answers."""
    participant = db.get(Participant, participant_id)
    if participant is None:
        return []
    memberships = db.scalars(select(Membership).where(Membership.participant_id == participant_id))
    return [
        Section(
            key="profile",
            title=_("Your details"),
            records=[{key: getattr(participant, key) for key in PROFILE_FIELDS}],
            labels={
                "name": _("Name"),
                "email": _("Email"),
                "phone": _("Phone"),
                "company": _("Company"),
                "industry": _("Industry"),
                "region": _("Region"),
                "years_as_entrepreneur": _("Years as entrepreneur"),
                "interests": _("Interests"),
                "goals": _("Goals"),
                "language": _("Language"),
                "source": _("How you joined"),
                "created_at": _("Added"),
            },
        ),
        Section(
            key="groups",
            title=_("Groups"),
            records=[{"group": m.group.name, "since": m.created_at} for m in memberships],
            labels={"group": _("Group"), "since": _("Member since")},
        ),
        Section(
            key="interest",
            title=_("Interest in later rounds"),
            records=[
                {
                    "name": s.name,
                    "email": s.email,
                    "company": s.company,
                    "industry": s.industry,
                    "region": s.region,
                    "message": s.message,
                    "consent_version": s.consent_version,
                    "consented_at": s.consented_at,
                }
                for s in _interest(db, participant)
            ],
            labels={
                "name": _("Name"),
                "email": _("Email"),
                "company": _("Company"),
                "industry": _("Industry"),
                "region": _("Region"),
                "message": _("Message"),
                "consent_version": _("Text version"),
                "consented_at": _("Consent given"),
            },
        ),
    ]


def erase_profile(db: Db, participant_id: int) -> None:
    """Interest-form answers under their email go, and uploaded lists that name them.

    The profile itself becomes the anonymous stand-in at the end of the erasure.
    """
    participant = db.get(Participant, participant_id)
    if participant is None:
        return
    for submission in _interest(db, participant):
        db.delete(submission)
    email = participant.email.lower()
    drafts = db.scalars(
        select(ImportDraft).where(ImportDraft.programme_id == participant.programme_id)
    )
    doomed = [d.id for d in drafts if email in json.dumps(d.table, ensure_ascii=False).lower()]
    if doomed:
        db.execute(delete(ImportDraft).where(ImportDraft.id.in_(doomed)))


def identifying_profile(db: Db, participant_id: int) -> list[str]:
    """Their phone number and company name, which emails to others may quote."""
    participant = db.get(Participant, participant_id)
    return [participant.phone, participant.company] if participant is not None else []


register_personal_data(
    "programmes",
    tables=("participant", "membership", "interest_submission", "import_draft"),
    export_participant=export_profile,
    erase_participant=erase_profile,
    identifying_texts=identifying_profile,
)

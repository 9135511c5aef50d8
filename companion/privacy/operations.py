"""What a participant decides about their own data: the summary email, consents, erasure."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import delete, select

from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotFound
from companion.privacy.audit import record_audit
from companion.privacy.erasure import erase_participant
from companion.privacy.models import Consent, EmailOptOut
from companion.privacy.registry import consent_withdrawals
from companion.programmes.models import Participant

#: The outbox kind of the summary email after each session.
SUMMARY_EMAIL = "digest"


def withdrawable() -> frozenset[str]:
    """Consents a participant withdraws on their page (packages register them); withdrawing
    the one to take part ("programme") means leaving: erasure."""
    return frozenset(consent_withdrawals())


def wants_summary_email(db: Db, participant: Participant) -> bool:
    """Whether the person gets the summary email after each session (yes unless they opted out)."""
    return (
        db.scalar(
            select(EmailOptOut.id).where(
                EmailOptOut.participant_id == participant.id, EmailOptOut.kind == SUMMARY_EMAIL
            )
        )
        is None
    )


def opted_out(db: Db, participant_ids: Iterable[int], kind: str = SUMMARY_EMAIL) -> set[int]:
    """Which of these people refused emails of `kind`."""
    ids = list(participant_ids)
    if not ids:
        return set()
    return set(
        db.scalars(
            select(EmailOptOut.participant_id).where(
                EmailOptOut.participant_id.in_(ids), EmailOptOut.kind == kind
            )
        )
    )


def set_summary_email(db: Db, participant: Participant, wanted: bool) -> None:
    """Turn the summary email on or off for the person."""
    if wanted:
        db.execute(
            delete(EmailOptOut).where(
                EmailOptOut.participant_id == participant.id, EmailOptOut.kind == SUMMARY_EMAIL
            )
        )
    elif wants_summary_email(db, participant):
        db.add(EmailOptOut(participant_id=participant.id, kind=SUMMARY_EMAIL))
    db.flush()


def consents_of(db: Db, participant: Participant) -> list[Consent]:
    """The person's consent records, oldest first."""
    return list(
        db.scalars(
            select(Consent)
            .where(Consent.participant_id == participant.id)
            .order_by(Consent.given_at, Consent.id)
        )
    )


def withdraw_consent(db: Db, participant: Participant, consent_id: int) -> Consent:
    """Withdraw one of the person's consents and stop what it allowed.

    The package owning the purpose stops what it allowed (contacts: nothing is shared any
    more). The consent to take part is not withdrawn here: without it nothing may be kept, so
    that is erasure.
    """
    consent = db.get(Consent, consent_id)
    if consent is None or consent.participant_id != participant.id:
        raise NotFound(_("No such consent."))
    if consent.withdrawn_at is not None:
        return consent
    stop = consent_withdrawals().get(consent.purpose)
    if stop is None:
        raise Conflict(_("Withdrawing this consent means erasing your data."))
    stop(db, participant.id)
    consent.withdrawn_at = utcnow()
    record_audit(
        db,
        "consent.withdraw",
        organisation_id=participant.programme.organisation_id,
        participant_id=participant.id,
        purpose=consent.purpose,
    )
    db.flush()
    return consent


def erase_myself(db: Db, participant: Participant) -> None:
    """The person's own erasure (their consents end with it)."""
    erase_participant(db, participant)

"""The privacy package's own share of a person's data: consents, email choices, emails sent."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from companion.core.db import Db
from companion.core.mail import OutboxMessage
from companion.privacy.models import Consent, EmailOptOut
from companion.privacy.registry import Section, register_personal_data
from companion.programmes.models import Participant


def _consents(db: Db, participant_id: int) -> Section:
    rows = db.scalars(
        select(Consent)
        .where(Consent.participant_id == participant_id)
        .order_by(Consent.given_at, Consent.id)
    )
    return Section(
        key="consents",
        title=_("Consents"),
        records=[
            {
                "purpose": c.purpose,
                "text_version": c.text_version,
                "source": c.source,
                "given_at": c.given_at,
                "withdrawn_at": c.withdrawn_at,
            }
            for c in rows
        ],
        labels={
            "purpose": _("What for"),
            "text_version": _("Text version"),
            "source": _("How it was given"),
            "given_at": _("Given"),
            "withdrawn_at": _("Withdrawn"),
        },
    )


def _emails(db: Db, participant: Participant) -> list[Section]:
    sent = db.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.programme_id == participant.programme_id,
            func.lower(OutboxMessage.to_address) == participant.email.lower(),
        )
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    refused = db.scalars(
        select(EmailOptOut.kind).where(EmailOptOut.participant_id == participant.id)
    )
    return [
        Section(
            key="emails",
            title=_("Emails sent to you"),
            records=[
                {
                    "kind": m.kind,
                    "subject": m.subject,
                    "queued_at": m.created_at,
                    "sent_at": m.sent_at,
                    "status": m.status,
                }
                for m in sent
            ],
            labels={
                "kind": _("Kind"),
                "subject": _("Subject"),
                "queued_at": _("Written"),
                "sent_at": _("Sent"),
                "status": _("Status"),
            },
        ),
        Section(
            key="email_opt_outs",
            title=_("Emails you turned off"),
            records=[{"kind": kind} for kind in refused],
            labels={"kind": _("Kind")},
        ),
    ]


def export_privacy(db: Db, participant_id: int) -> list[Section]:
    """The person's consents, the emails sent to them (subjects and dates) and opt-outs."""
    participant = db.get(Participant, participant_id)
    if participant is None:
        return []
    return [_consents(db, participant_id), *_emails(db, participant)]


def erase_privacy(db: Db, participant_id: int) -> None:
    """Their email choices go; consents are kept as withdrawn records by the erasure itself."""
    db.execute(delete(EmailOptOut).where(EmailOptOut.participant_id == participant_id))


# `erased_address` holds no email in clear, only a keyed hash per programme of those who asked
# to be erased (`companion.privacy.erased`): it is written by the erasure itself, is not shown
# in an export (it belongs to no participant row any more) and goes with the programme or when
# the person signs up again themselves.
register_personal_data(
    "privacy",
    tables=("consent", "email_opt_out", "outbox_message", "live_event", "erased_address"),
    export_participant=export_privacy,
    erase_participant=erase_privacy,
)

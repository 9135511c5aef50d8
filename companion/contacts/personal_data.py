"""The contacts package's share of personal data (see `companion.privacy.registry`): the
contacts a person made or was asked for, and what they share.

Erasure keeps each contact as an anonymous count (its other end is the stand-in row, and the
other person no longer sees it), so the contacts by kind do not change; the private notes on
it and the person's sharing choices go.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from companion.contacts.models import FollowUpContact, ParticipantPreferences
from companion.core.db import Db, utcnow
from companion.privacy.registry import Section, register_personal_data


def export_contacts(db: Db, participant_id: int) -> list[Section]:
    """Their contacts (as their contacts page shows them) and their sharing choices."""
    rows = db.scalars(
        select(FollowUpContact)
        .where(
            or_(
                FollowUpContact.requester_id == participant_id,
                FollowUpContact.recipient_id == participant_id,
            )
        )
        .order_by(FollowUpContact.created_at, FollowUpContact.id)
    )
    contacts = []
    for contact in rows:
        sent = contact.requester_id == participant_id
        other = contact.recipient if sent else contact.requester
        contacts.append(
            {
                "kind": contact.kind,
                "status": contact.status,
                "direction": "sent" if sent else "received",
                "person": "" if other.is_erased else other.name,
                "my_note": contact.requester_note if sent else contact.recipient_note,
                "created_at": contact.created_at,
                "responded_at": contact.responded_at,
            }
        )
    preferences = db.get(ParticipantPreferences, participant_id)
    shared = (
        []
        if preferences is None
        else [
            {
                "share_email": preferences.share_email,
                "phone": preferences.phone,
                "share_phone": preferences.share_phone,
                "website": preferences.website,
                "share_website": preferences.share_website,
                "linkedin": preferences.linkedin,
                "share_linkedin": preferences.share_linkedin,
                "reminders": preferences.reminders,
            }
        ]
    )
    return [
        Section(
            key="contacts",
            title=_("Follow-up contacts"),
            records=contacts,
            labels={
                "kind": _("Kind"),
                "status": _("Status"),
                "direction": _("Who asked"),
                "person": _("Person"),
                "my_note": _("Your note"),
                "created_at": _("Asked"),
                "responded_at": _("Answered"),
            },
        ),
        Section(
            key="preferences",
            title=_("What you share with your contacts"),
            records=shared,
            labels={
                "share_email": _("Share my email"),
                "phone": _("Phone"),
                "share_phone": _("Share my phone number"),
                "website": _("Website"),
                "share_website": _("Share my website"),
                "linkedin": _("LinkedIn profile"),
                "share_linkedin": _("Share my LinkedIn profile"),
                "reminders": _("Reminders"),
            },
        ),
    ]


def erase_contacts(db: Db, participant_id: int) -> None:
    """Sharing choices go; contacts stay as counts, without either side's private note."""
    db.execute(
        delete(ParticipantPreferences).where(
            ParticipantPreferences.participant_id == participant_id
        )
    )
    db.execute(
        update(FollowUpContact)
        .where(
            or_(
                FollowUpContact.requester_id == participant_id,
                FollowUpContact.recipient_id == participant_id,
            )
        )
        .values(requester_note="", recipient_note="")
        .execution_options(synchronize_session="fetch")
    )


def identifying_contacts(db: Db, participant_id: int) -> list[str]:
    """The phone number, website and LinkedIn address they may have shared."""
    preferences = db.get(ParticipantPreferences, participant_id)
    if preferences is None:
        return []
    return [preferences.phone, preferences.website, preferences.linkedin]


def stop_sharing(db: Db, participant_id: int) -> None:
    """The consent to share contact details was withdrawn: nothing is shared any more."""
    preferences = db.get(ParticipantPreferences, participant_id)
    if preferences is not None:
        preferences.share_email = False
        preferences.share_phone = False
        preferences.share_website = False
        preferences.share_linkedin = False
        preferences.updated_at = utcnow()
        db.flush()


register_personal_data(
    "contacts",
    tables=("follow_up_contact", "participant_preferences"),
    export_participant=export_contacts,
    erase_participant=erase_contacts,
    identifying_texts=identifying_contacts,
    withdraw_consent={"contact_sharing": stop_sharing},
)

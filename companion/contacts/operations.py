"""Follow-up contacts, mutual consent and shared details; participants' preferences.

Rules: a participant may mark someone they share a group with (so they met in its sessions).
The other person accepts or declines. Only when both agreed do they see each other's details,
and only what each chose to share in their preferences. Either may withdraw, which deletes the
contact. Facilitators see counts by kind, never names or private notes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from companion.config import Config
from companion.contacts.models import (
    ContactKind,
    ContactStatus,
    FollowUpContact,
    ParticipantPreferences,
)
from companion.contacts.schemas import (
    ContactCountsOut,
    ContactDetails,
    ContactIn,
    ContactOut,
    ContactsOut,
    KindCount,
    PersonOut,
    PreferencesIn,
    PreferencesOut,
)
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotFound
from companion.core.mail import queue_mail
from companion.privacy.models import Consent
from companion.programmes.models import Participant, Programme
from companion.programmes.operations import record_consent
from companion.sessions.models import Session, SessionStatus

#: Names of the kinds, in the order pages list them.
KIND_LABELS = {
    ContactKind.LUNCH: _l("Lunch companion"),
    ContactKind.SPARRING: _l("Sparring partner"),
    ContactKind.BUSINESS: _l("Business partner"),
    ContactKind.CUSTOMER: _l("Customer"),
    ContactKind.OTHER: _l("Other"),
}
#: Version of the text on the preferences page about sharing details with contacts.
SHARING_CONSENT_VERSION = "2026-11-contacts-v1"


def kind_label(kind: str) -> str:
    """The kind's name in the current language."""
    try:
        return str(KIND_LABELS[ContactKind(kind)])
    except ValueError:
        return kind


# --- preferences ------------------------------------------------------------------------------


def preferences_of(db: Db, participant: Participant) -> ParticipantPreferences:
    """The participant's preferences (defaults, not yet stored, if never saved)."""
    preferences = db.get(ParticipantPreferences, participant.id)
    if preferences is None:
        preferences = ParticipantPreferences(
            participant_id=participant.id,
            phone=participant.phone,
            share_email=False,
            share_phone=False,
            share_website=False,
            share_linkedin=False,
            website="",
            linkedin="",
            reminders=True,
        )
    return preferences


def preferences_for(db: Db, participant_ids: Iterable[int]) -> dict[int, ParticipantPreferences]:
    """Stored preferences of many participants at once (missing ones mean the defaults)."""
    ids = list(participant_ids)
    if not ids:
        return {}
    rows = db.scalars(
        select(ParticipantPreferences).where(ParticipantPreferences.participant_id.in_(ids))
    )
    return {row.participant_id: row for row in rows}


def preferences_out(
    participant: Participant, preferences: ParticipantPreferences
) -> PreferencesOut:
    """Preferences with the language of emails."""
    return PreferencesOut(
        share_email=preferences.share_email,
        phone=preferences.phone,
        share_phone=preferences.share_phone,
        website=preferences.website,
        share_website=preferences.share_website,
        linkedin=preferences.linkedin,
        share_linkedin=preferences.share_linkedin,
        reminders=preferences.reminders,
        language=participant.effective_language,
    )


def shares_anything(preferences: ParticipantPreferences) -> bool:
    """Whether a mutual contact would see any detail at all."""
    return bool(
        preferences.share_email
        or (preferences.share_phone and preferences.phone)
        or (preferences.share_website and preferences.website)
        or (preferences.share_linkedin and preferences.linkedin)
    )


def update_preferences(
    db: Db, participant: Participant, data: PreferencesIn
) -> ParticipantPreferences:
    """Store what the participant shares and whether they get reminders; record the consent."""
    stored = db.get(ParticipantPreferences, participant.id)
    was_sharing = stored is not None and shares_anything(stored)
    preferences = stored or preferences_of(db, participant)
    if stored is None:
        db.add(preferences)
    for key in (
        "share_email",
        "phone",
        "share_phone",
        "website",
        "share_website",
        "linkedin",
        "share_linkedin",
        "reminders",
    ):
        setattr(preferences, key, getattr(data, key))
    preferences.updated_at = utcnow()
    if data.language:
        participant.language = data.language
    db.flush()
    sharing = shares_anything(preferences)
    if sharing and not was_sharing:
        record_consent(
            db,
            participant,
            "contact_sharing",
            source="preferences",
            text_version=SHARING_CONSENT_VERSION,
        )
    elif was_sharing and not sharing:
        for consent in db.scalars(
            select(Consent).where(
                Consent.participant_id == participant.id,
                Consent.purpose == "contact_sharing",
                Consent.withdrawn_at.is_(None),
            )
        ):
            consent.withdrawn_at = utcnow()
    db.flush()
    return preferences


def set_reminders(db: Db, participant: Participant, enabled: bool) -> ParticipantPreferences:
    """Turn reminder emails on or off."""
    preferences = preferences_of(db, participant)
    preferences.reminders = enabled
    preferences.updated_at = utcnow()
    if db.get(ParticipantPreferences, participant.id) is None:
        db.add(preferences)
    db.flush()
    return preferences


def shared_details(
    participant: Participant, preferences: ParticipantPreferences | None
) -> ContactDetails:
    """The details the participant chose to share (none by default)."""
    if preferences is None:
        return ContactDetails()
    return ContactDetails(
        email=participant.email if preferences.share_email else None,
        phone=preferences.phone or None if preferences.share_phone else None,
        website=preferences.website or None if preferences.share_website else None,
        linkedin=preferences.linkedin or None if preferences.share_linkedin else None,
    )


# --- contacts ---------------------------------------------------------------------------------


def _shared_group_ids(a: Participant, b: Participant) -> set[int]:
    return {m.group_id for m in a.memberships} & {m.group_id for m in b.memberships}


def contact_candidates(db: Db, participant: Participant) -> list[Participant]:
    """Everyone the participant shares a group with (they meet in its sessions), by name."""
    group_ids = {m.group_id for m in participant.memberships}
    people: dict[int, Participant] = {}
    for membership in participant.memberships:
        for other in membership.group.memberships:
            if other.participant_id != participant.id and other.group_id in group_ids:
                people[other.participant_id] = other.participant
    return sorted(people.values(), key=lambda p: p.name.lower())


def sessions_together(participant: Participant, other: Participant) -> list[Session]:
    """Sessions of groups both belong to that have started, newest first (not cancelled)."""
    now = utcnow()
    shared = _shared_group_ids(participant, other)
    sessions = [
        s
        for m in participant.memberships
        if m.group_id in shared
        for s in m.group.sessions
        if not s.is_cancelled and s.starts_at <= now
    ]
    return sorted(sessions, key=lambda s: s.starts_at, reverse=True)


def record_contact(db: Db, participant: Participant, data: ContactIn) -> FollowUpContact:
    """Mark someone as a follow-up contact; if they already asked for the same, it is mutual."""
    other = db.get(Participant, data.person_id)
    if (
        other is None
        or other.id == participant.id
        or other.programme_id != participant.programme_id
        or not _shared_group_ids(participant, other)
    ):
        raise Invalid(errors={"person_id": _("Choose a person from your group.")})
    session: Session | None = None
    if data.session_id is not None:
        session = db.get(Session, data.session_id)
        if session is None or session.group_id not in _shared_group_ids(participant, other):
            raise Invalid(errors={"session_id": _("Choose a session you both took part in.")})
    else:
        together = sessions_together(participant, other)
        session = together[0] if together else None

    existing = db.scalar(
        select(FollowUpContact).where(
            FollowUpContact.requester_id == participant.id,
            FollowUpContact.recipient_id == other.id,
            FollowUpContact.kind == data.kind,
        )
    )
    if existing is not None:
        raise Conflict(
            _(
                "You have already marked %(name)s as %(kind)s.",
                name=other.name,
                kind=kind_label(data.kind).lower(),
            ),
            field="person_id",
        )
    reverse = db.scalar(
        select(FollowUpContact).where(
            FollowUpContact.requester_id == other.id,
            FollowUpContact.recipient_id == participant.id,
            FollowUpContact.kind == data.kind,
        )
    )
    if reverse is not None:
        # They asked for the same already: marking them back is consent.
        reverse.status = ContactStatus.ACCEPTED
        reverse.responded_at = utcnow()
        if data.note:
            reverse.recipient_note = data.note
        db.flush()
        return reverse
    contact = FollowUpContact(
        programme_id=participant.programme_id,
        session_id=session.id if session else None,
        requester_id=participant.id,
        recipient_id=other.id,
        kind=data.kind,
        status=ContactStatus.PENDING,
        requester_note=data.note,
        created_at=utcnow(),
    )
    try:
        with db.begin_nested():
            db.add(contact)
            db.flush()
    except IntegrityError:
        raise Conflict(
            _(
                "You have already marked %(name)s as %(kind)s.",
                name=other.name,
                kind=kind_label(data.kind).lower(),
            ),
            field="person_id",
        ) from None
    return contact


def contact_for(db: Db, participant: Participant, contact_id: int) -> FollowUpContact:
    """A contact the participant is part of; NotFound for anyone else's."""
    contact = db.get(FollowUpContact, contact_id)
    if contact is None or participant.id not in (contact.requester_id, contact.recipient_id):
        raise NotFound(_("No such contact."))
    return contact


def respond(
    db: Db, participant: Participant, contact_id: int, *, accept: bool, note: str = ""
) -> FollowUpContact:
    """The recipient accepts or declines (and may change their mind later)."""
    contact = contact_for(db, participant, contact_id)
    if contact.recipient_id != participant.id:
        raise NotFound(_("No such contact."))
    contact.status = ContactStatus.ACCEPTED if accept else ContactStatus.DECLINED
    contact.responded_at = utcnow()
    if note:
        contact.recipient_note = note
    db.flush()
    return contact


def withdraw(db: Db, participant: Participant, contact_id: int) -> None:
    """Either side ends the contact; it disappears for both, with the private notes."""
    contact = contact_for(db, participant, contact_id)
    db.delete(contact)
    db.flush()


def set_note(db: Db, participant: Participant, contact_id: int, note: str) -> FollowUpContact:
    """Change one's own private note on a contact."""
    contact = contact_for(db, participant, contact_id)
    if contact.requester_id == participant.id:
        contact.requester_note = note
    else:
        contact.recipient_note = note
    db.flush()
    return contact


def contact_out(
    contact: FollowUpContact,
    me: Participant,
    preferences: dict[int, ParticipantPreferences],
) -> ContactOut:
    """The contact from `me`'s side: the other person, my note, their details if mutual."""
    sent = contact.requester_id == me.id
    other = contact.recipient if sent else contact.requester
    details = (
        shared_details(other, preferences.get(other.id))
        if contact.status == ContactStatus.ACCEPTED
        else ContactDetails()
    )
    return ContactOut(
        id=contact.id,
        kind=ContactKind(contact.kind),
        kind_label=kind_label(contact.kind),
        status=contact.status,
        direction="sent" if sent else "received",
        person=PersonOut(
            id=other.id, name=other.name, company=other.company, industry=other.industry
        ),
        my_note=contact.requester_note if sent else contact.recipient_note,
        details=details,
        session_id=contact.session_id,
        session_title=contact.session.title if contact.session else "",
        created_at=contact.created_at,
        responded_at=contact.responded_at,
    )


def contacts_of(db: Db, participant: Participant) -> ContactsOut:
    """The participant's contacts in three lists: waiting for them, sent by them, mutual."""
    rows = list(
        db.scalars(
            select(FollowUpContact)
            .where(
                or_(
                    FollowUpContact.requester_id == participant.id,
                    FollowUpContact.recipient_id == participant.id,
                )
            )
            .order_by(FollowUpContact.created_at.desc(), FollowUpContact.id.desc())
        )
    )
    others = {c.recipient_id if c.requester_id == participant.id else c.requester_id for c in rows}
    preferences = preferences_for(db, others)
    waiting, sent, mutual = [], [], []
    for contact in rows:
        out = contact_out(contact, participant, preferences)
        if contact.status == ContactStatus.ACCEPTED:
            mutual.append(out)
        elif out.direction == "received":
            if contact.status == ContactStatus.PENDING:
                waiting.append(out)
            # A declined request stays out of the recipient's sight; they can still be asked
            # again only by the requester withdrawing and asking anew.
        else:
            sent.append(out)
    return ContactsOut(waiting=waiting, sent=sent, mutual=mutual)


def contact_counts(
    db: Db, programme: Programme, session: Session | None = None
) -> ContactCountsOut:
    """Counts by kind for facilitators (optionally of contacts made in one session)."""
    query = select(FollowUpContact.kind, FollowUpContact.status).where(
        FollowUpContact.programme_id == programme.id
    )
    if session is not None:
        query = query.where(FollowUpContact.session_id == session.id)
    counts = Counter((kind, status) for kind, status in db.execute(query))
    connected_rows = db.execute(
        select(FollowUpContact.requester_id, FollowUpContact.recipient_id).where(
            FollowUpContact.programme_id == programme.id,
            FollowUpContact.status == ContactStatus.ACCEPTED,
        )
    )
    connected = {pid for row in connected_rows for pid in row}
    return ContactCountsOut(
        by_kind=[
            KindCount(
                kind=kind,
                label=str(label),
                mutual=counts[(kind.value, ContactStatus.ACCEPTED.value)],
                pending=counts[(kind.value, ContactStatus.PENDING.value)],
            )
            for kind, label in KIND_LABELS.items()
        ],
        # From the table: an erased person's anonymous row still counts (their contacts do).
        participants=db.scalar(
            select(func.count(Participant.id)).where(Participant.programme_id == programme.id)
        )
        or 0,
        with_mutual_contact=len(connected),
    )


# --- telling the other person -----------------------------------------------------------------


def notify_request(db: Db, config: Config, contact: FollowUpContact) -> bool:
    """Email the recipient about a request made after its session's summary went out.

    Requests made before that (during the session, or while its summary waits for review)
    reach the recipient in that session's summary instead.
    """
    session = contact.session
    if contact.status != ContactStatus.PENDING or (
        session is not None and session.status != SessionStatus.SUMMARY_SENT
    ):
        return False
    from companion.digest.links import personal_url
    from companion.sessions.join_links import join_link_for

    recipient = contact.recipient
    link = join_link_for(db, recipient)
    with force_locale(recipient.effective_language):
        context = {
            "recipient": recipient,
            "requester": contact.requester,
            "kind": kind_label(contact.kind).lower(),
            "programme": recipient.programme,
            "contacts_url": personal_url(config, link, "contacts"),
            "preferences_url": personal_url(config, link, "preferences"),
        }
        subject = _("%(name)s would like to keep in touch", name=contact.requester.name)
        text_body = render_template("contacts/email/request.txt", **context)
        html_body = render_template("contacts/email/request.html", **context)
    message = queue_mail(
        db,
        to_address=recipient.email,
        to_name=recipient.name,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        kind="contact",
        programme_id=recipient.programme_id,
        dedupe_key=f"contact-request-{contact.id}",
    )
    return message is not None

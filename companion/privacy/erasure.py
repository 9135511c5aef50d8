"""Erasure: a person's data removed or made anonymous everywhere, the anonymous counts kept.

How it is kept anonymous, and why this way: the participant's row stays as a *tombstone*
(`programmes.models.ERASED`): its name becomes the words "former participant", its email an
address that cannot exist, everything else they told us is blanked, and it leaves every group.
What the person took part in keeps pointing at that row: the session's presence facts, their
dot votes, their seats in breakout groups, the contacts others made with them, the topics and
notes they wrote (shown as by a former participant). So every figure (sessions held with N
present, votes per topic, contacts by kind, pairs who met) stays exactly as it was, without
any schema holding nullable references, and no unique rule (one vote row per topic and voter,
one presence report per source) can collide. Someone who took part in nothing is deleted
outright, leaving no row at all.

The steps, in one transaction (`erase_participants`):
1. what identifies the person is collected (name, email, and each package's
   `identifying_texts`: a shared phone number, a website);
2. every package's `erase_participant` runs (registry): owned rows deleted, private notes
   blanked, authorship on the board replaced;
3. stored emails: those to the person are deleted (still queued) or stripped of address,
   subject and body; others' emails that mention them get the mention replaced;
4. live events (kept two days for reconnecting clients) that mention them are dropped
   (a client that was that far behind gets a fresh snapshot);
5. the row becomes the tombstone (its consents marked withdrawn), or goes if nothing refers
   to it;
6. a keyed hash of their email is kept for the programme (`companion.privacy.erased`), so an
   import of a form export that still lists them does not add them again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import delete, func, literal, or_, select, update

from companion.accounts.models import Facilitator
from companion.core.db import Base, Db, utcnow
from companion.core.events import LiveEvent
from companion.core.mail import OutboxMessage
from companion.privacy.audit import record_audit
from companion.privacy.erased import remember_erased
from companion.privacy.models import Consent
from companion.privacy.registry import contributions
from companion.programmes.models import ERASED, Membership, Participant, Programme

#: The domain of a tombstone's address (RFC 2606: `.invalid` never resolves).
ERASED_DOMAIN = "erased.invalid"
#: Shorter texts are not replaced in stored emails: "Oy" or "Ali" would match everywhere.
MIN_MARKER = 4
#: Tables the erasure handles itself, left out of the "does anything refer to them" check.
_OWN_TABLES = frozenset({"participant", "membership", "consent"})


def former_participant_name(language: str) -> str:
    """How an erased person is named on pages and in emails, in `language`."""
    with force_locale(language or "fi"):
        return str(_("Former participant"))


@dataclass(frozen=True)
class _Person:
    """What identifies one person, gathered before anything of theirs is erased."""

    id: int
    programme_id: int
    email: str
    language: str
    #: Their name, email and other identifying texts, longest first.
    markers: tuple[str, ...]


def _markers(texts: Iterable[str]) -> tuple[str, ...]:
    found = {t.strip() for t in texts if t and len(t.strip()) >= MIN_MARKER}
    return tuple(sorted(found, key=lambda t: (-len(t), t)))


def _person(db: Db, participant: Participant) -> _Person:
    texts = [participant.name, participant.email]
    for entry in contributions():
        if entry.identifying_texts is not None:
            texts += entry.identifying_texts(db, participant.id)
    return _Person(
        id=participant.id,
        programme_id=participant.programme_id,
        email=participant.email,
        language=participant.programme.language,
        markers=_markers(texts),
    )


# --- stored emails ------------------------------------------------------------------------------


def _strip(message: OutboxMessage) -> None:
    """Keep only that a message of this kind went out when (the outbox's counts stay)."""
    message.to_address = ""
    message.to_name = ""
    message.subject = ""
    message.text_body = ""
    message.html_body = ""
    message.attachments = []
    message.last_error = ""


def _replace(text: str, markers: Sequence[str], label: str, *, html: bool) -> str:
    for marker in markers:
        variants = {marker, str(escape(marker))} if html else {marker}
        replacement = "" if "@" in marker else label
        for variant in variants:
            text = re.sub(re.escape(variant), replacement, text, flags=re.IGNORECASE)
    return text


def _erase_from_outbox(db: Db, person: _Person) -> None:
    to_them = db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.programme_id == person.programme_id,
            func.lower(OutboxMessage.to_address) == person.email.lower(),
        )
    )
    for message in to_them:
        if message.status == "queued":
            db.delete(message)  # not sent yet: nothing to keep a record of
        else:
            _strip(message)
    if not person.markers:
        return
    mentions = []
    for marker in person.markers:
        for variant in {marker, str(escape(marker))}:
            mentions += [
                OutboxMessage.subject.contains(variant, autoescape=True),
                OutboxMessage.text_body.contains(variant, autoescape=True),
                OutboxMessage.html_body.contains(variant, autoescape=True),
            ]
    label = former_participant_name(person.language)
    for message in db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.programme_id == person.programme_id, or_(*mentions)
        )
    ):
        message.subject = _replace(message.subject, person.markers, label, html=False)
        message.text_body = _replace(message.text_body, person.markers, label, html=False)
        message.html_body = _replace(message.html_body, person.markers, label, html=True)


# --- live events ----------------------------------------------------------------------------------


def _drop_live_events(db: Db, people: Sequence[_Person]) -> int:
    """Delete the kept live events that mention any of the people; returns how many."""
    needles: set[str] = set()
    for person in people:
        for marker in person.markers:
            needles.add(marker.casefold())
            needles.add(json.dumps(marker, ensure_ascii=False)[1:-1].casefold())
    if not needles:
        return 0
    doomed = [
        event_id
        for event_id, data in db.execute(select(LiveEvent.id, LiveEvent.data))
        if any(n in json.dumps(data, ensure_ascii=False).casefold() for n in needles)
    ]
    for start in range(0, len(doomed), 500):
        db.execute(delete(LiveEvent).where(LiveEvent.id.in_(doomed[start : start + 500])))
    return len(doomed)


# --- the row itself -------------------------------------------------------------------------------


def took_part(db: Db, participant_id: int) -> bool:
    """Whether anything still refers to the person (after the packages erased what is theirs).

    Any row with a foreign key to them (presence, contacts, notes, breakout seats...), or a
    package's own say (`took_part` in the registry: the board's votes are keyed by text).
    """
    for table in Base.metadata.sorted_tables:
        if table.name in _OWN_TABLES:
            continue
        for key in table.foreign_keys:
            if key.column.table.name != "participant":
                continue
            query = select(literal(1)).select_from(table).where(key.parent == participant_id)
            if db.execute(query.limit(1)).first() is not None:
                return True
    return any(
        entry.took_part(db, participant_id)
        for entry in contributions()
        if entry.took_part is not None
    )


def _tombstone(db: Db, participant: Participant, language: str) -> None:
    participant.name = former_participant_name(language)
    participant.email = f"erased-{participant.id}@{ERASED_DOMAIN}"
    participant.phone = ""
    participant.company = ""
    participant.industry = ""
    participant.region = ""
    participant.years_as_entrepreneur = None
    participant.interests = ""
    participant.goals = ""
    participant.language = ""
    participant.source = ERASED
    db.execute(
        update(Consent)
        .where(Consent.participant_id == participant.id, Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow())
    )


def erase_participants(
    db: Db, participants: Sequence[Participant], *, remember: bool = True
) -> int:
    """Erase these people (see the module's description); returns how many were erased.

    Runs in the caller's transaction; already erased rows are skipped. `remember=False`
    keeps no mark of their emails (a whole programme's data going: nobody asked).
    """
    people = [p for p in participants if not p.is_erased]
    if not people:
        return 0
    found = [_person(db, p) for p in people]
    for participant in people:
        for entry in contributions():
            if entry.erase_participant is not None:
                entry.erase_participant(db, participant.id)
    db.flush()
    for person in found:
        _erase_from_outbox(db, person)
    _drop_live_events(db, found)
    programmes: set[Programme] = set()
    for participant, person in zip(people, found, strict=True):
        programmes.add(participant.programme)
        if remember and person.email:
            remember_erased(db, person.programme_id, person.email)
        db.execute(delete(Membership).where(Membership.participant_id == participant.id))
        db.expire(participant, ["memberships"])
        if took_part(db, participant.id):
            _tombstone(db, participant, person.language)
        else:
            db.delete(participant)
    db.flush()
    for programme in programmes:
        db.expire(programme, ["participants"])
    return len(people)


def erase_participant(
    db: Db, participant: Participant, *, facilitator: Facilitator | None = None
) -> None:
    """Erase one person: at their own request (no facilitator) or a facilitator's (removal).

    The audit log gets the ids only.
    """
    programme = participant.programme
    record_audit(
        db,
        "participant.remove" if facilitator is not None else "participant.erase",
        organisation_id=programme.organisation_id,
        facilitator=facilitator,
        participant_id=participant.id,
        programme_id=programme.id,
    )
    erase_participants(db, [participant])


def erase_programme_data(db: Db, programme: Programme) -> int:
    """Erase every participant of the programme and what its packages hold of others (experts);
    strip every stored email of it. Returns how many people were erased."""
    people = list(
        db.scalars(
            select(Participant).where(
                Participant.programme_id == programme.id, Participant.source != ERASED
            )
        )
    )
    # Nobody asked to be forgotten here (the programme ends or goes): no marks are kept.
    erased = erase_participants(db, people, remember=False)
    for entry in contributions():
        if entry.erase_programme is not None:
            entry.erase_programme(db, programme.id)
    for message in db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.programme_id == programme.id,
            or_(OutboxMessage.text_body != "", OutboxMessage.html_body != ""),
        )
    ):
        message.text_body = ""
        message.html_body = ""
        message.attachments = []
    db.flush()
    return erased

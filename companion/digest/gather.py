"""Read one session's digest material from the database into plain data, in a few queries.

Everything shared by the session (notes, topics, the next session) is read once; each
participant's own things (action items, contacts, links) are read for all of them at once,
so a digest run costs the same handful of queries for 12 participants or 1,000.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from companion.config import Config
from companion.contacts.models import ContactStatus, FollowUpContact, ParticipantPreferences
from companion.contacts.operations import preferences_for, shared_details
from companion.core.db import Db
from companion.digest.content import (
    ActionLine,
    ContactLine,
    DigestInput,
    HintLine,
    NextSession,
    NoteLine,
    Recipient,
    SessionFacts,
    SpaceNotes,
    TalkLine,
)
from companion.digest.links import personal_urls
from companion.digest.topics import topics_for_digest
from companion.experts.materials import materials_of
from companion.experts.models import Material
from companion.experts.public import material_target
from companion.needs.operations import hints_for, showing
from companion.notes import membership
from companion.notes.markdown import render_markdown
from companion.notes.models import ActionItem, NoteItem, NoteSpace
from companion.programmes.models import Participant
from companion.sessions.attendance import attended as attended_ids
from companion.sessions.join_links import join_link_for, join_url
from companion.sessions.models import AgendaItem, AgendaKind, JoinLink, Session
from companion.sessions.operations import next_session_after

#: The order details are listed in.
DETAIL_ORDER = ("email", "phone", "website", "linkedin")


def session_facts(session: Session) -> SessionFacts:
    """The session's facts for the digest."""
    programme = session.group.programme
    return SessionFacts(
        id=session.id,
        title=session.title,
        programme_name=programme.name,
        organisation_name=programme.organisation.name,
        group_name=session.group.name,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=programme.timezone,
    )


def session_notes(db: Db, session: Session) -> list[SpaceNotes]:
    """The plenary and breakout notes of the session, with each group's members if known."""
    spaces = list(
        db.scalars(
            select(NoteSpace)
            .where(NoteSpace.session_id == session.id)
            .options(
                selectinload(NoteSpace.items).selectinload(NoteItem.author_participant),
                selectinload(NoteSpace.items).selectinload(NoteItem.author_facilitator),
            )
        )
    )
    numbers = sorted(s.breakout_group_id for s in spaces if s.breakout_group_id is not None)
    notes = []
    for space in sorted(spaces, key=lambda s: (s.breakout_group_id is not None, s.id)):
        members = (
            membership.group_members_of(db, session, space.breakout_group_id)
            if space.breakout_group_id is not None
            else None
        )
        notes.append(
            SpaceNotes(
                label=space.label,
                breakout_group_id=space.breakout_group_id,
                shared=space.shared_to_plenary,
                summary_html=render_markdown(space.summary),
                summary_text=space.summary,
                items=tuple(_note_line(item) for item in space.items),
                members=frozenset(members) if members is not None else None,
                number=numbers.index(space.breakout_group_id) + 1
                if space.breakout_group_id is not None
                else None,
            )
        )
    return notes


def _note_line(item: NoteItem) -> NoteLine:
    author = item.author_participant or item.author_facilitator
    return NoteLine(author=author.name if author else "", html=item.html, text=item.body)


def next_session_of(session: Session) -> Session | None:
    """The group's real next session: after this one and still coming (not cancelled, not
    held), so a summary sent late never points at a session that has passed."""
    return next_session_after(session)


def _previous_session_end(session: Session) -> datetime | None:
    earlier = [
        s
        for s in session.group.sessions
        if s.id != session.id and not s.is_cancelled and s.starts_at < session.starts_at
    ]
    if not earlier:
        return None
    previous = max(earlier, key=lambda s: s.starts_at)
    return previous.ended_at or previous.ends_at


def _contact_line(
    other: Participant, kind: str, preferences: ParticipantPreferences | None
) -> ContactLine:
    details = shared_details(other, preferences).model_dump()
    return ContactLine(
        name=other.name,
        company=other.company,
        kind=kind,
        details=tuple((key, details[key]) for key in DETAIL_ORDER if details.get(key)),
    )


def digest_inputs(
    db: Db,
    config: Config,
    session: Session,
    participants: Iterable[Participant] | None = None,
    *,
    attended_override: bool | None = None,
) -> list[DigestInput]:
    """One DigestInput per participant of the session's group (or of `participants`)."""
    people = (
        list(participants)
        if participants is not None
        else [m.participant for m in session.group.memberships]
    )
    if not people:
        return []
    ids = [p.id for p in people]
    facts = session_facts(session)
    spaces = session_notes(db, session)
    topics = topics_for_digest(db, session)
    # The session's one presence fact (facilitator's mark, platform, join link, breakouts).
    attended = attended_ids(db, session)
    actions: dict[int, list[ActionItem]] = defaultdict(list)
    for action in db.scalars(
        select(ActionItem)
        .where(ActionItem.owner_id.in_(ids))
        .options(selectinload(ActionItem.session))
    ):
        if not action.done:
            actions[action.owner_id].append(action)

    since = _previous_session_end(session)
    contacts = list(
        db.scalars(
            select(FollowUpContact)
            .where(
                or_(
                    FollowUpContact.recipient_id.in_(ids),
                    FollowUpContact.requester_id.in_(ids),
                ),
                FollowUpContact.status.in_([ContactStatus.PENDING, ContactStatus.ACCEPTED]),
            )
            .options(
                selectinload(FollowUpContact.requester), selectinload(FollowUpContact.recipient)
            )
        )
    )
    referenced = {c.requester_id for c in contacts} | {c.recipient_id for c in contacts}
    preferences = preferences_for(db, referenced)
    waiting: dict[int, list[ContactLine]] = defaultdict(list)
    mutual: dict[int, list[ContactLine]] = defaultdict(list)
    wanted = set(ids)
    for contact in contacts:
        if contact.status == ContactStatus.PENDING:
            if contact.recipient_id in wanted:
                waiting[contact.recipient_id].append(
                    _contact_line(contact.requester, contact.kind, None)
                )
            continue
        if since is not None and (contact.responded_at is None or contact.responded_at <= since):
            continue  # agreed before the previous session: that digest told them already
        for me, other in (
            (contact.requester_id, contact.recipient),
            (contact.recipient_id, contact.requester),
        ):
            if me in wanted:
                mutual[me].append(_contact_line(other, contact.kind, preferences.get(other.id)))

    links = _join_links(db, people)
    shown = showing(db, ids)
    upcoming = next_session_of(session)
    agenda = (
        tuple(_agenda_title(item) for item in upcoming.agenda if item.title) if upcoming else ()
    )
    talk_items = [item for item in session.agenda if item.kind == AgendaKind.EXPERT_TALK]
    files = materials_of(db, talk_items)
    inputs = []
    for person in people:
        link = links[person.id]
        preferences_url, notes_url, contacts_url, feedback_url, *file_urls = personal_urls(
            config,
            link,
            "preferences",
            f"notes-{session.id}",
            "contacts",
            f"feedback-{session.id}",
            *(material_target(m) for m in files),
        )
        next_session = (
            NextSession(
                id=upcoming.id,
                title=upcoming.title,
                starts_at=upcoming.starts_at,
                ends_at=upcoming.ends_at,
                timezone=facts.timezone,
                join_url=join_url(config, link),
                agenda=agenda,
                sequence=upcoming.calendar_sequence,
            )
            if upcoming is not None
            else None
        )
        inputs.append(
            DigestInput(
                session=facts,
                recipient=Recipient(
                    participant_id=person.id,
                    name=person.name,
                    email=person.email,
                    language=person.effective_language,
                    attended=attended_override
                    if attended_override is not None
                    else person.id in attended,
                ),
                topics=topics,
                spaces=spaces,
                actions=[
                    ActionLine(
                        text=a.text,
                        due_on=a.due_on,
                        done=a.done,
                        session_title=a.session.title,
                        new=a.session_id == session.id,
                    )
                    for a in sorted(
                        actions[person.id],
                        key=lambda a: (a.due_on is None, a.due_on, a.created_at),
                    )
                ],
                contacts_waiting=waiting[person.id],
                new_contacts=mutual[person.id],
                next_session=next_session,
                preferences_url=preferences_url,
                notes_url=notes_url,
                contacts_url=contacts_url,
                talks=_talks(talk_items, files, file_urls),
                talk_hints=_hint_lines(db, session, person) if person.id in shown else [],
                feedback_url=feedback_url,
            )
        )
    return inputs


def _agenda_title(item: AgendaItem) -> str:
    """A slot of the next session as the email lists it: its title and speaker."""
    return f"{item.title} · {item.speaker_name}" if item.speaker_name else item.title


def _talks(items: list[AgendaItem], files: list[Material], urls: list[str]) -> list[TalkLine]:
    """The session's expert talks (those with a speaker or material), each file at the
    recipient's own address."""
    by_item: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for material, url in zip(files, urls, strict=True):
        by_item[material.agenda_item_id].append((material.filename, url))
    talks = []
    for item in items:
        links = list(by_item[item.id])
        if item.material_url:
            links.append((item.material_url, item.material_url))
        if item.speaker_name or links:
            talks.append(
                TalkLine(item.title, item.speaker_name, item.duration_minutes, tuple(links))
            )
    return talks


def _hint_lines(db: Db, session: Session, person: Participant) -> list[HintLine]:
    """Whom of the person's breakout groups in the session they might talk with about what
    (only people who, like them, chose to show their offers and needs)."""
    ids: set[int] = set()
    for group_id in membership.own_breakout_groups(db, session, person.id):
        ids |= membership.group_members_of(db, session, group_id)
    ids.discard(person.id)
    if not ids:
        return []
    others = db.scalars(
        select(Participant).where(Participant.id.in_(ids)).order_by(Participant.name)
    ).all()
    return [HintLine(name=h.name, themes=h.themes) for h in hints_for(db, person, others)]


def _join_links(db: Db, people: list[Participant]) -> dict[int, JoinLink]:
    """Everyone's join link, made for those who have none yet."""
    found = {
        link.participant_id: link
        for link in db.scalars(
            select(JoinLink).where(JoinLink.participant_id.in_([p.id for p in people]))
        )
    }
    for person in people:
        if person.id not in found:
            found[person.id] = join_link_for(db, person)
    return found

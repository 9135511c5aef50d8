"""What one participant's digest says: plain functions over plain data (no Flask, no SQL).

`gather.py` reads the database into these dataclasses once per session; `build_digest`
decides, per person, what goes in: the plenary notes, their own breakout group's notes (other
groups' only when shared to the plenary), their action items, contact requests waiting for
them, new mutual contacts with the details the other chose to share, whom in their breakout
groups they might talk with about what, and the next session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from companion.notes.plain_text import html_to_text


@dataclass(frozen=True)
class SessionFacts:
    """The session the digest is about."""

    id: int
    title: str
    programme_name: str
    organisation_name: str
    group_name: str
    starts_at: datetime
    ends_at: datetime
    timezone: str


@dataclass(frozen=True)
class NoteLine:
    """One note item: its author, sanitised HTML and Markdown source (for the text part)."""

    author: str
    html: str
    text: str

    @property
    def plain(self) -> str:
        """The note as readable plain text (the email's text part): no Markdown, no tags."""
        return html_to_text(self.html)


@dataclass(frozen=True)
class SpaceNotes:
    """The notes of the plenary (`breakout_group_id` None) or of one breakout group."""

    #: The group's own name if it has one ("" otherwise: the email names it by `number`).
    label: str
    breakout_group_id: int | None
    shared: bool
    summary_html: str
    summary_text: str
    items: tuple[NoteLine, ...]
    #: Participant ids of the breakout group; None when not known (then only if shared).
    members: frozenset[int] | None = None
    #: Its place among the session's small groups (1, 2, ...), for "Small group 2".
    number: int | None = None

    @property
    def summary_plain(self) -> str:
        """The summary as readable plain text (the email's text part)."""
        return html_to_text(self.summary_html)

    @property
    def is_empty(self) -> bool:
        """Nothing was written."""
        return not self.items and not self.summary_text.strip()


@dataclass(frozen=True)
class TopicLine:
    """A topic of the board and the votes it got."""

    title: str
    votes: int
    status: str = ""


@dataclass(frozen=True)
class ActionLine:
    """One of the recipient's action items."""

    text: str
    due_on: date | None
    done: bool
    session_title: str
    new: bool = False


@dataclass(frozen=True)
class ContactLine:
    """A person in a contact request or a mutual contact, with what they share."""

    name: str
    company: str
    #: A ContactKind value; the email names it in the recipient's language.
    kind: str
    #: Shared details by kind ("email", "phone", "website", "linkedin"); empty for requests.
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TalkLine:
    """An expert talk of the session: its speaker and material (addresses personal to the
    recipient: they open through their personal link)."""

    title: str
    speaker: str
    minutes: int
    #: (label, address) of each file and link.
    materials: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HintLine:
    """ "You might talk with `name` about `themes`": someone of the recipient's breakout group
    whose offers and needs fit theirs, both having chosen to show them (`companion.needs`)."""

    name: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class NextSession:
    """The recipient's next session, with their personal join link."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    join_url: str
    agenda: tuple[str, ...] = ()
    #: Its calendar SEQUENCE, so the invitation updates the entry the person already has.
    sequence: int = 0


@dataclass(frozen=True)
class Recipient:
    """Who the digest is for."""

    participant_id: int
    name: str
    email: str
    language: str
    attended: bool


@dataclass(frozen=True)
class DigestInput:
    """Everything known about one session, plus one recipient's own things."""

    session: SessionFacts
    recipient: Recipient
    topics: Sequence[TopicLine]
    spaces: Sequence[SpaceNotes]
    actions: Sequence[ActionLine] = ()
    contacts_waiting: Sequence[ContactLine] = ()
    new_contacts: Sequence[ContactLine] = ()
    next_session: NextSession | None = None
    preferences_url: str = ""
    notes_url: str = ""
    contacts_url: str = ""
    talks: Sequence[TalkLine] = ()
    talk_hints: Sequence[HintLine] = ()
    #: The rating page's personal link; the email adds "&rating=1".."5" (outcomes package).
    feedback_url: str = ""


@dataclass(frozen=True)
class DigestContent:
    """What one person's email says, ready for the templates."""

    variant: Literal["summary", "missed"]
    session: SessionFacts
    recipient: Recipient
    topics: tuple[TopicLine, ...]
    plenary: SpaceNotes | None
    own_groups: tuple[SpaceNotes, ...]
    shared_groups: tuple[SpaceNotes, ...]
    actions: tuple[ActionLine, ...]
    contacts_waiting: tuple[ContactLine, ...]
    new_contacts: tuple[ContactLine, ...]
    next_session: NextSession | None
    preferences_url: str
    notes_url: str
    contacts_url: str
    #: The session's expert talks with their material.
    talks: tuple[TalkLine, ...] = ()
    talk_hints: tuple[HintLine, ...] = ()
    feedback_url: str = ""

    @property
    def has_notes(self) -> bool:
        """Whether any notes are in it."""
        return bool(self.plenary or self.own_groups or self.shared_groups)


def build_digest(data: DigestInput) -> DigestContent:
    """Choose what goes into one person's digest (their own group's notes only)."""
    me = data.recipient.participant_id
    plenary = next((s for s in data.spaces if s.breakout_group_id is None and not s.is_empty), None)
    own: list[SpaceNotes] = []
    shared: list[SpaceNotes] = []
    for space in data.spaces:
        if space.breakout_group_id is None or space.is_empty:
            continue
        if space.members is not None and me in space.members:
            own.append(space)
        elif space.shared:
            shared.append(space)
    open_actions = tuple(a for a in data.actions if not a.done)
    topics = tuple(sorted(data.topics, key=lambda t: -t.votes))
    return DigestContent(
        variant="summary" if data.recipient.attended else "missed",
        session=data.session,
        recipient=data.recipient,
        topics=topics,
        plenary=plenary,
        own_groups=tuple(own),
        shared_groups=tuple(shared),
        actions=open_actions,
        contacts_waiting=tuple(data.contacts_waiting),
        new_contacts=tuple(data.new_contacts),
        next_session=data.next_session,
        preferences_url=data.preferences_url,
        notes_url=data.notes_url,
        contacts_url=data.contacts_url,
        talks=tuple(data.talks),
        talk_hints=tuple(data.talk_hints),
        feedback_url=data.feedback_url,
    )

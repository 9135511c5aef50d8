"""Request and response models for follow-up contacts and preferences (pages and API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from companion.contacts.models import ContactKind
from companion.core.schema_types import (
    Checkbox,
    DbId,
    HttpsUrl,
    Language,
    NoControl,
    OptionalDbId,
)

PrivateNote = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), NoControl]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), NoControl]


class ContactIn(BaseModel):
    """Mark a person met in a session as a follow-up contact."""

    model_config = ConfigDict(extra="forbid")

    person_id: DbId
    kind: ContactKind
    #: Seen by the writer only.
    note: PrivateNote = ""
    #: Where they met; the latest session both were in when left out.
    session_id: OptionalDbId = None


class ContactNoteIn(BaseModel):
    """One's own private note on a contact (also given when accepting)."""

    model_config = ConfigDict(extra="forbid")

    note: PrivateNote = ""


class PreferencesIn(BaseModel):
    """The details one shares with mutual contacts, reminders, and the language of emails."""

    model_config = ConfigDict(extra="forbid")

    share_email: Checkbox = False
    phone: Phone = ""
    share_phone: Checkbox = False
    website: HttpsUrl = ""
    share_website: Checkbox = False
    linkedin: HttpsUrl = ""
    share_linkedin: Checkbox = False
    reminders: Checkbox = False
    language: Language | None = None


class PreferencesOut(BaseModel):
    """A participant's current preferences."""

    model_config = ConfigDict(from_attributes=True)

    share_email: bool
    phone: str
    share_phone: bool
    website: str
    share_website: bool
    linkedin: str
    share_linkedin: bool
    reminders: bool
    language: str


class PersonOut(BaseModel):
    """Another participant as a contact sees them before any details are shared."""

    id: int
    name: str
    company: str
    industry: str


class ContactDetails(BaseModel):
    """What the other person chose to share (only after both agreed)."""

    email: str | None = None
    phone: str | None = None
    website: str | None = None
    linkedin: str | None = None


class ContactOut(BaseModel):
    """A follow-up contact from one participant's side."""

    id: int
    kind: ContactKind
    kind_label: str
    status: str
    #: "sent" (I asked) or "received" (they asked).
    direction: str
    person: PersonOut
    #: My own private note.
    my_note: str
    #: Their shared details; empty unless both agreed.
    details: ContactDetails
    session_id: int | None
    session_title: str
    created_at: datetime
    responded_at: datetime | None


class ContactsOut(BaseModel):
    """My contacts: requests waiting for me, my requests, and mutual contacts."""

    waiting: list[ContactOut]
    sent: list[ContactOut]
    mutual: list[ContactOut]


class KindCount(BaseModel):
    """Contacts of one kind: agreed by both, and still waiting."""

    kind: ContactKind
    label: str
    mutual: int
    pending: int


class ContactCountsOut(BaseModel):
    """What facilitators see: counts only, never who noted what."""

    by_kind: list[KindCount]
    participants: int
    #: Participants with at least one mutual contact (the programme's stated outcome).
    with_mutual_contact: int

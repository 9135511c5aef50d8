"""Request and response models for experts, their material and the agenda participants see."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from companion.core.schema_types import (
    Checkbox,
    Email,
    HttpsUrl,
    Language,
    LongText,
    RequiredText,
    TimeZoneName,
)


class ExpertIn(BaseModel):
    """The facilitator's invitation of an expert to a talk slot."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    email: Email
    #: The language of the invitation, reminders and their page.
    language: Language = "fi"


class MaterialLinkIn(BaseModel):
    """A link to the talk's material, given instead of (or beside) a file; empty removes it."""

    model_config = ConfigDict(extra="forbid")

    material_url: HttpsUrl = ""


class AnswerIn(BaseModel):
    """The expert's answer to the invitation."""

    model_config = ConfigDict(extra="forbid")

    answer: Literal["confirm", "decline"]


class TalkIn(BaseModel):
    """What the expert tells about their talk: its title, an abstract and a short bio."""

    model_config = ConfigDict(extra="forbid")

    title: RequiredText
    abstract: LongText = ""
    bio: LongText = ""


class TimeZoneIn(BaseModel):
    """The zone the expert reads times in."""

    model_config = ConfigDict(extra="forbid")

    timezone: TimeZoneName


class RemindersIn(BaseModel):
    """Whether the expert gets the session's reminders."""

    model_config = ConfigDict(extra="forbid")

    reminders: Checkbox = False


class ExpertOut(BaseModel):
    """An invited expert as the facilitators' API shows them (never their link)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    agenda_item_id: int
    name: str
    #: Null for a role that may not see contact details (an observer).
    email: str | None
    language: str
    reminders: bool
    #: "invited", "confirmed" or "declined".
    status: str
    responded_at: datetime | None
    bio: str
    timezone: str
    invited_at: datetime | None
    seen_at: datetime | None
    active: bool


class MaterialOut(BaseModel):
    """One file of a talk's material."""

    id: int
    filename: str
    content_type: str
    size: int
    #: Where people of the session (and its facilitators) open it.
    url: str


class AgendaLineOut(BaseModel):
    """One slot of a session's agenda as its participants see it."""

    number: int
    kind: str
    title: str
    duration_minutes: int
    starts_at: datetime
    ends_at: datetime
    speaker_name: str
    speaker_bio: str = ""
    description: str
    material_url: str
    materials: list[MaterialOut] = Field(default_factory=list)


class AgendaOut(BaseModel):
    """A session's agenda for its participants and facilitators."""

    session_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    agenda_minutes: int
    items: list[AgendaLineOut]

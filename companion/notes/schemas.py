"""Request and response models for notes, summaries and action items (pages and API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from companion.core.schema_types import (
    Checkbox,
    DbId,
    Int,
    NoControl,
    OptionalDate,
    OptionalDbId,
    RedirectTarget,
    no_control_characters,
)

__all__ = ["DbId", "OptionalDbId", "no_control_characters"]  # (also used by contacts)

#: Max length of one note item: notes are short; longer text belongs in the summary.
ITEM_MAX = 2000
#: Max length of a group summary.
SUMMARY_MAX = 20000


NoteText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ITEM_MAX), NoControl
]
SummaryText = Annotated[str, StringConstraints(max_length=SUMMARY_MAX), NoControl]
ActionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoControl
]


class NoteItemIn(BaseModel):
    """A note item as written: short Markdown."""

    model_config = ConfigDict(extra="forbid")

    body: NoteText


class SummaryIn(BaseModel):
    """A new summary text and the revision the writer started from."""

    model_config = ConfigDict(extra="forbid")

    text: SummaryText = ""
    base_revision: Int = Field(ge=0, le=2**31 - 1)


class ShareIn(BaseModel):
    """Share a breakout group's notes with the whole session (or stop sharing)."""

    model_config = ConfigDict(extra="forbid")

    shared: Checkbox = False


class ActionIn(BaseModel):
    """A new action item: what, who, by when."""

    model_config = ConfigDict(extra="forbid")

    text: ActionText
    owner_id: DbId
    due_on: OptionalDate = None


class ActionPatch(BaseModel):
    """Fields of an action item to change; missing fields stay."""

    model_config = ConfigDict(extra="forbid")

    text: ActionText | None = None
    owner_id: DbId | None = None
    due_on: OptionalDate = None
    done: Checkbox | None = None


class AuthorOut(BaseModel):
    """Who wrote something, as others see it."""

    name: str
    participant_id: int | None = None
    is_facilitator: bool = False


class NoteItemOut(BaseModel):
    """A note item with its sanitised HTML."""

    id: int
    space_id: int
    body: str
    html: str
    author: AuthorOut
    created_at: datetime
    updated_at: datetime


class SummaryOut(BaseModel):
    """The current summary of a space."""

    text: str
    html: str
    revision: int
    updated_at: datetime | None = None
    updated_by: AuthorOut | None = None


class RevisionOut(BaseModel):
    """One saved version of a summary."""

    number: int
    text: str
    author: AuthorOut
    created_at: datetime


class ActionOut(BaseModel):
    """An action item."""

    id: int
    session_id: int
    session_title: str
    space_id: int | None
    owner_id: int
    owner_name: str
    text: str
    due_on: date | None
    done: bool
    done_at: datetime | None
    created_at: datetime


class OwnerOut(BaseModel):
    """A person an action item can be given to."""

    id: int
    name: str


class ViewerOut(BaseModel):
    """Who is looking, so a client knows which notes it may change."""

    participant_id: int | None = None
    is_facilitator: bool = False
    can_write: bool = False
    #: Who action items can be given to (the session's participants), when the viewer may write.
    owners: list[OwnerOut] = []


class SpaceOut(BaseModel):
    """A notes space: its items, summary and action items, and its live channel."""

    id: int
    session_id: int
    breakout_group_id: int | None
    label: str
    channel: str
    #: The programme's time zone, in which times are shown.
    timezone: str
    shared_to_plenary: bool
    items: list[NoteItemOut]
    summary: SummaryOut
    actions: list[ActionOut]
    #: The channel's sequence number this state includes (API answers; live snapshots carry
    #: their own).
    seq: int | None = None
    #: The caller (API answers only; live events and snapshots are the same for everyone).
    viewer: ViewerOut | None = None


class SpaceEventsOut(BaseModel):
    """What happened after `seq`: the events, or (when too far behind) a fresh snapshot."""

    seq: int
    events: list[dict[str, Any]] | None = None
    snapshot: SpaceOut | None = None


class EventsQuery(BaseModel):
    """The last sequence number the client saw."""

    after: Int = Field(default=0, ge=0, le=2**31 - 1)


class SpaceQuery(BaseModel):
    """Which space of a session: the plenary, or a breakout group's; with `mine` and no group,
    the participant's group in the round running now (the plenary when there is none)."""

    group: OptionalDbId = None
    mine: bool = False


class PanelQuery(BaseModel):
    """The notes side panel: a breakout group's notes, or (without) the participant's own."""

    group: OptionalDbId = None


class ActionTick(BaseModel):
    """Ticking an action item on a page, and the page to return to."""

    done: Checkbox = False
    back: RedirectTarget = ""

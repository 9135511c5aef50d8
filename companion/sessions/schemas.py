"""Request and response models for sessions, the schedule, the agenda and attendance."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from companion.core.schema_types import (
    Checkbox,
    Date,
    DbId,
    HttpsUrl,
    Int,
    LongText,
    OptionalDbId,
    RedirectTarget,
    RequiredText,
    Text,
    TimeOfDay,
)
from companion.sessions.models import AgendaKind


class SessionIn(BaseModel):
    """One session, its start given as local date and time in the programme's zone."""

    model_config = ConfigDict(extra="forbid")

    group_id: DbId
    title: RequiredText
    date: Date
    start_time: TimeOfDay
    duration_minutes: Int = Field(default=120, ge=15, le=8 * 60)
    #: Confirms a date outside the programme's start and end dates (refused without it).
    outside_dates_ok: Checkbox = False


class SessionMove(BaseModel):
    """A new time (and optionally title or length) for one session."""

    model_config = ConfigDict(extra="forbid")

    title: RequiredText | None = None
    date: Date
    start_time: TimeOfDay
    duration_minutes: Int | None = Field(default=None, ge=15, le=8 * 60)
    #: Confirms a date outside the programme's start and end dates (refused without it).
    outside_dates_ok: Checkbox = False


class ScheduleIn(BaseModel):
    """A series of sessions: `count` sessions every `every_weeks` weeks at a local time."""

    model_config = ConfigDict(extra="forbid")

    group_id: DbId
    first_date: Date
    start_time: TimeOfDay = time(9, 0)
    count: Int = Field(default=6, ge=1, le=52)
    every_weeks: Int = Field(default=3, ge=1, le=12)
    duration_minutes: Int = Field(default=120, ge=15, le=8 * 60)
    title: Text = ""
    #: Add the usual agenda (welcome, topic board, breakouts, closing) to each session.
    with_agenda: bool = True
    #: Confirms a date outside the programme's start and end dates (refused without it).
    outside_dates_ok: Checkbox = False


class AgendaItemIn(BaseModel):
    """An agenda slot; an expert talk names its speaker (set by inviting the expert, or by
    hand) and may link to material (https)."""

    model_config = ConfigDict(extra="forbid")

    kind: AgendaKind = AgendaKind.OTHER
    title: Text = ""
    duration_minutes: Int = Field(default=15, ge=1, le=8 * 60)
    speaker_name: Text = ""
    speaker_email: Text = ""
    material_url: HttpsUrl = ""
    description: LongText = ""


class NewSessionQuery(BaseModel):
    """The group a new session is for (the programme's first when left out)."""

    group_id: OptionalDbId = None


class InvitationsIn(BaseModel):
    """Send invitations to everyone, or to one participant; then go back to a page of ours."""

    participant_id: OptionalDbId = None
    back: RedirectTarget = ""


class JoinLinkActionIn(BaseModel):
    """Renew a join link (a new address) or revoke it."""

    action: Literal["renew", "revoke"] = "renew"


class AgendaItemPatch(BaseModel):
    """A change to an agenda slot: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    kind: AgendaKind | None = None
    title: Text | None = None
    duration_minutes: Int | None = Field(default=None, ge=1, le=8 * 60)
    speaker_name: Text | None = None
    speaker_email: Text | None = None
    material_url: HttpsUrl | None = None
    description: LongText | None = None


class AgendaOrderIn(BaseModel):
    """The session's agenda items in their new order (every item once)."""

    model_config = ConfigDict(extra="forbid")

    item_ids: list[DbId] = Field(max_length=100)


class AgendaItemOut(BaseModel):
    """An agenda slot as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    kind: str
    title: str
    duration_minutes: int
    speaker_name: str
    material_url: str
    description: str
    #: When the slot begins if the session keeps to time.
    starts_at: datetime | None = None


class SessionOut(BaseModel):
    """A session as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    group_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    status: str
    #: Where the session is in its life now: scheduled, open (its join window), running,
    #: ended (the summary waits for review), summary_sent or cancelled.
    state: str = ""
    platform: str
    join_url: str | None = None
    agenda: list[AgendaItemOut] = Field(default_factory=list)
    #: The minutes the agenda's items take together (never more than `duration_minutes`).
    agenda_minutes: int = 0


class PresenceReportOut(BaseModel):
    """What one source reported about one person."""

    source: Literal["facilitator", "platform", "link", "breakout"]
    present: bool
    first_seen_at: datetime | None = None
    minutes: int | None = None


class PresenceOut(BaseModel):
    """One participant's presence at a session: the one fact and the reports behind it."""

    participant_id: int
    #: True present, False absent, null while the session has not begun (expected).
    present: bool | None
    #: The source the fact comes from, strongest first: facilitator, platform, link, breakout.
    source: Literal["facilitator", "platform", "link", "breakout"] | None
    first_seen_at: datetime | None
    minutes: int | None
    reports: list[PresenceReportOut]


class PresenceMarkIn(BaseModel):
    """The facilitator's correction of one person's presence."""

    model_config = ConfigDict(extra="forbid")

    participant_id: int = Field(ge=1, le=2**31 - 1)
    #: "present" or "absent" overrides every other source; "clear" takes the mark back.
    mark: Literal["present", "absent", "clear"]

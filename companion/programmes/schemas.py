"""Request and response models for programmes, groups and participants (pages and API)."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from companion.accounts.roles import Role
from companion.core.schema_types import (
    Checkbox,
    DbId,
    Email,
    Language,
    LongText,
    NoControl,
    OptionalDate,
    OptionalDbId,
    OptionalInt,
    RequiredText,
    Text,
    kollega_error,
)
from companion.core.schema_types import TimeZoneName as _TimeZoneName
from companion.meetings.platform import platform_names
from companion.needs.schemas import NeedsFields

#: C0 control characters except tab and line breaks; PostgreSQL refuses NUL in text columns.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _known_zone(value: Any) -> Any:
    # Checked against the list first: ZoneInfo() itself raises OSError for names such as
    # "Europe" (a folder) or very long strings, which would otherwise end as a 500.
    if isinstance(value, str) and value.strip() not in _zone_names():
        raise kollega_error(_("Choose a time zone such as Europe/Helsinki."))
    return value


#: An IANA zone name this machine knows.
TimeZoneName = Annotated[_TimeZoneName, BeforeValidator(_known_zone)]
#: Lengths of the participant columns that are shorter than `Text`.
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), NoControl]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), NoControl]
RequiredShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), NoControl
]


class Input(BaseModel):
    """Base of request models: text may not carry control characters (NUL and the like)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if isinstance(value, str) and _CONTROL.search(value):
            raise kollega_error(_("Remove the control characters (such as NUL) from this text."))
        return value


class ProgrammeIn(Input):
    """A programme as a facilitator creates or edits it."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    description: LongText = ""
    language: Language = "fi"
    timezone: TimeZoneName = "Europe/Helsinki"
    starts_on: OptionalDate = None
    ends_on: OptionalDate = None
    platform: str = Field(default="jitsi", max_length=40)

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        names = platform_names()
        if value not in names:
            raise kollega_error(_("Choose one of: %(options)s.", options=", ".join(names)))
        return value

    @field_validator("ends_on")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("starts_on")
        if value and starts_on and value < starts_on:
            raise kollega_error(_("The programme cannot end before it starts."))
        return value


class ProgrammePatch(Input):
    """Fields of a programme to change; missing fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText | None = None
    description: LongText | None = None
    language: Language | None = None
    timezone: TimeZoneName | None = None
    starts_on: OptionalDate = None
    ends_on: OptionalDate = None


class ProgrammeCopyIn(Input):
    """A copy of a programme for its next round: a new name and dates."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    starts_on: OptionalDate = None
    ends_on: OptionalDate = None

    @field_validator("ends_on")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("starts_on")
        if value and starts_on and value < starts_on:
            raise kollega_error(_("The programme cannot end before it starts."))
        return value


class ProgrammeOut(BaseModel):
    """A programme as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    language: str
    timezone: str
    starts_on: date | None
    ends_on: date | None
    platform: str
    created_at: datetime
    #: Another organisation's programme shared with the caller (listing only).
    shared: bool = False
    #: The owning organisation's name, given for shared programmes (listing only).
    organisation_name: str = ""


class GroupIn(Input):
    """A group of a programme."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    intake_open: Checkbox = True


class GroupPatch(Input):
    """Fields of a group to change; missing fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText | None = None
    intake_open: Checkbox | None = None


class GroupOut(BaseModel):
    """A group as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    name: str
    intake_open: bool
    member_count: int = 0


class ParticipantIn(Input):
    """A participant as a facilitator enters them."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    email: Email
    phone: Phone = ""
    company: Text = ""
    industry: ShortText = ""
    region: ShortText = ""
    years_as_entrepreneur: OptionalInt = Field(default=None, ge=0, le=80)
    interests: LongText = ""
    goals: LongText = ""
    language: Language | None = None
    group_ids: list[DbId] = Field(default_factory=list, max_length=100)


class ParticipantPatch(Input):
    """Fields of a participant to change."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText | None = None
    email: Email | None = None
    phone: Phone | None = None
    company: Text | None = None
    industry: ShortText | None = None
    region: ShortText | None = None
    years_as_entrepreneur: OptionalInt = Field(default=None, ge=0, le=80)
    interests: LongText | None = None
    goals: LongText | None = None
    language: Language | None = None
    group_ids: list[DbId] | None = Field(default=None, max_length=100)


class ParticipantOut(BaseModel):
    """A participant as the API shows it to the programme's facilitators."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    name: str
    #: Contact details: null for a role that may not see them (an observer).
    email: str | None
    phone: str | None
    company: str
    industry: str
    region: str
    years_as_entrepreneur: int | None
    interests: str
    goals: str
    language: str
    source: str
    group_ids: list[int]
    created_at: datetime


class IntakeIn(NeedsFields, Input):
    """An answer to a group's intake survey (the public form), with what the person offers
    and looks for (`companion.needs`)."""

    model_config = ConfigDict(extra="ignore")

    name: RequiredText
    email: Email
    phone: Phone = ""
    company: Text = ""
    industry: RequiredShortText
    region: RequiredShortText
    years_as_entrepreneur: OptionalInt = Field(default=None, ge=0, le=80)
    interests: LongText = ""
    goals: LongText = ""
    language: Language = "fi"
    consent: Checkbox = Field(default=False, validate_default=True)

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise kollega_error(_("Please give your consent so that we can store your answers."))
        return value


class InterestIn(Input):
    """Someone's interest in a later round (the public form)."""

    model_config = ConfigDict(extra="ignore")

    name: RequiredText
    email: Email
    company: Text = ""
    industry: ShortText = ""
    region: ShortText = ""
    message: LongText = ""
    language: Language = "fi"
    consent: Checkbox = Field(default=False, validate_default=True)

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise kollega_error(_("Please give your consent so that we can store your answers."))
        return value


class SearchQuery(BaseModel):
    """A search of the participant list."""

    q: Text = ""


class IntakeToggle(BaseModel):
    """The group page's "intake survey open" tick (an unticked box sends nothing)."""

    intake_open: Checkbox = False


class RemovalConfirm(BaseModel):
    """The tick that confirms removing a participant and their data."""

    confirm: Checkbox = False


class DeleteProgrammeIn(Input):
    """The programme's name, typed to confirm its deletion."""

    confirm_name: Text = ""


class InviteInterestedIn(Input):
    """Whom of the interest list to invite, and to which group's intake survey."""

    group_id: OptionalDbId = None
    submission: list[DbId] = []


class TeamMemberIn(Input):
    """A facilitator to add to a programme's team: their account's email and role."""

    email: Email
    role: Role = Role.CO_FACILITATOR


class TeamRoleIn(Input):
    """A member's new role in a programme's team."""

    role: Role

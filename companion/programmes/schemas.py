"""Request and response models for programmes, groups and participants (pages and API)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from companion.core.schema_types import (
    Checkbox,
    Email,
    Language,
    LongText,
    OptionalInt,
    RequiredText,
    Text,
    TimeZoneName,
    kollega_error,
)


class ProgrammeIn(BaseModel):
    """A programme as a facilitator creates or edits it."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    description: LongText = ""
    language: Language = "fi"
    timezone: TimeZoneName = "Europe/Helsinki"
    starts_on: date | None = None
    ends_on: date | None = None
    platform: str = "jitsi"

    @field_validator("ends_on")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("starts_on")
        if value and starts_on and value < starts_on:
            raise kollega_error(_("The programme cannot end before it starts."))
        return value


class ProgrammePatch(BaseModel):
    """Fields of a programme to change; missing fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText | None = None
    description: LongText | None = None
    language: Language | None = None
    timezone: TimeZoneName | None = None
    starts_on: date | None = None
    ends_on: date | None = None


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


class GroupIn(BaseModel):
    """A group of a programme."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    intake_open: Checkbox = True


class GroupOut(BaseModel):
    """A group as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    name: str
    intake_open: bool
    member_count: int = 0


class ParticipantIn(BaseModel):
    """A participant as a facilitator enters them."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText
    email: Email
    phone: Text = ""
    company: Text = ""
    industry: Text = ""
    region: Text = ""
    years_as_entrepreneur: OptionalInt = Field(default=None, ge=0, le=80)
    interests: LongText = ""
    goals: LongText = ""
    language: Language | None = None
    group_ids: list[int] = Field(default_factory=list)


class ParticipantPatch(BaseModel):
    """Fields of a participant to change."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredText | None = None
    email: Email | None = None
    phone: Text | None = None
    company: Text | None = None
    industry: Text | None = None
    region: Text | None = None
    years_as_entrepreneur: OptionalInt = Field(default=None, ge=0, le=80)
    interests: LongText | None = None
    goals: LongText | None = None
    language: Language | None = None
    group_ids: list[int] | None = None


class ParticipantOut(BaseModel):
    """A participant as the API shows it to the programme's facilitators."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    name: str
    email: str
    phone: str
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


class IntakeIn(BaseModel):
    """An answer to a group's intake survey (the public form)."""

    model_config = ConfigDict(extra="ignore")

    name: RequiredText
    email: Email
    phone: Text = ""
    company: Text = ""
    industry: RequiredText
    region: RequiredText
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


class InterestIn(BaseModel):
    """Someone's interest in a later round (the public form)."""

    model_config = ConfigDict(extra="ignore")

    name: RequiredText
    email: Email
    company: Text = ""
    industry: Text = ""
    region: Text = ""
    message: LongText = ""
    language: Language = "fi"
    consent: Checkbox = Field(default=False, validate_default=True)

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise kollega_error(_("Please give your consent so that we can store your answers."))
        return value

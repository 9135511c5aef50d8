"""Request and response models of feedback, the survey editor and the outcome figures."""

from __future__ import annotations

from typing import Annotated, Literal

from flask_babel import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from companion.core.schema_types import Checkbox, RequiredText, kollega_error
from companion.notes.schemas import no_control_characters
from companion.outcomes.models import QuestionKind

Comment = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(no_control_characters),
]
QuestionText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(no_control_characters),
]
Intro = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(no_control_characters),
]


class FeedbackIn(BaseModel):
    """A rating of a session (1-5) and an optional comment."""

    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    comment: Comment = ""


class FeedbackQuery(BaseModel):
    """The rating page's address: the rating chosen in the email, and where it came from."""

    rating: Literal["", "1", "2", "3", "4", "5"] = ""
    source: Literal["", "email", "page"] = ""


class FeedbackOut(BaseModel):
    """The caller's own rating of a session, and whether rating is possible now."""

    session_id: int
    session_title: str
    #: Whether the session can be rated now (it is on or has been held).
    open: bool
    rating: int | None = None
    comment: str = ""


class SurveySettingsIn(BaseModel):
    """The survey's title, introduction, anonymity and reminders."""

    model_config = ConfigDict(extra="forbid")

    title: RequiredText
    intro: Intro = ""
    anonymous: Checkbox = False
    reminder_days: int = Field(default=7, ge=1, le=60)
    max_reminders: int = Field(default=2, ge=0, le=5)


def _lines(value: str) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in value.splitlines() if line.strip()))


class QuestionIn(BaseModel):
    """A question: its kind, text and (for a choice) the options, one per line."""

    model_config = ConfigDict(extra="forbid")

    kind: QuestionKind
    text: QuestionText
    choices: Annotated[str, StringConstraints(max_length=3000)] = ""
    multiple: Checkbox = False
    required: Checkbox = False

    @model_validator(mode="after")
    def _choices_for_a_choice(self) -> QuestionIn:
        if self.kind is QuestionKind.CHOICE and len(self.options) < 2:
            raise kollega_error(_("Give at least two options, one per line."))
        if any(len(option) > 200 for option in self.options):
            raise kollega_error(_("Keep each option under 200 characters."))
        return self

    @property
    def options(self) -> list[str]:
        """The choice's options (empty for other kinds)."""
        return _lines(self.choices) if self.kind is QuestionKind.CHOICE else []


class ShareOut(BaseModel):
    """How many of how many."""

    label: str
    count: int
    total: int


class KindCountOut(BaseModel):
    """Contacts of one kind."""

    kind: str
    mutual: int
    pending: int


class OutcomesOut(BaseModel):
    """A programme's headline figures (counts only, no names)."""

    participants: int
    sessions_held: int
    sessions_cancelled: int
    expert_talks: int
    hours_total: float
    dropped_out: int
    with_contact: list[ShareOut]
    contacts_by_kind: list[KindCountOut]
    pairs_met: int
    pairs_possible: int
    feedback_average: float | None
    feedback_count: int

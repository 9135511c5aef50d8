"""Request models for offers and needs and a programme's themes (pages and forms)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from companion.core.schema_types import Checkbox
from companion.needs.themes import MAX_THEMES, TEXT_LIMIT
from companion.notes.schemas import no_control_characters

ThemeKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
NeedText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=TEXT_LIMIT),
    AfterValidator(no_control_characters),
]
ThemeName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=120),
    AfterValidator(no_control_characters),
]

#: The form fields of offers and needs (the intake survey leaves them out of `Participant`).
NEEDS_FIELDS = frozenset({"offers", "needs", "offer_text", "need_text", "show_needs"})
#: Fields read as lists from HTML forms.
NEEDS_LISTS = ("offers", "needs")


class NeedsFields(BaseModel):
    """What a person can offer others and is looking for: theme keys of the programme's list,
    a short text each, and whether others in their groups may see them."""

    offers: list[ThemeKey] = Field(default_factory=list, max_length=MAX_THEMES)
    needs: list[ThemeKey] = Field(default_factory=list, max_length=MAX_THEMES)
    offer_text: NeedText = ""
    need_text: NeedText = ""
    show_needs: Checkbox = False


class NeedsIn(NeedsFields):
    """The offers-and-needs form on its own (the participant's page, the facilitator's)."""

    model_config = ConfigDict(extra="forbid")


class ThemeIn(BaseModel):
    """One row of the facilitator's theme list; an empty row (both names blank) is dropped."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    name_fi: ThemeName = ""
    name_en: ThemeName = ""
    remove: Checkbox = False


class ThemesIn(BaseModel):
    """A programme's whole theme list, in order."""

    model_config = ConfigDict(extra="forbid")

    themes: list[ThemeIn] = Field(default_factory=list, max_length=MAX_THEMES + 10)

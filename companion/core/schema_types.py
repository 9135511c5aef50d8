"""Field types shared by the packages' schemas (pydantic), with translated messages.

Every request model is built from these, so what reaches operations is bounded by
construction: ids fit the INTEGER columns, numbers read from text are ASCII digits only,
dates lie between MIN_DATE and MAX_DATE (time-zone arithmetic, calendar invitations and the
platforms' APIs all work there), text carries no control characters, and web addresses are
https. Each rule is also in the JSON Schema (`pattern`, `minimum`, `maximum`), so the API's
description shows it.

JSON bodies are validated in strict mode (`validation.parse_json`): `true` is not a number
and `0` is not a date. Forms and query strings are text and validated in lax mode, where the
`Before` validators here refuse what lax parsing would otherwise let through.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from companion.core.i18n import LANGUAGES, valid_timezone

#: Largest row id: the id columns are 32-bit signed INTEGERs.
MAX_DB_ID = 2**31 - 1
#: Earliest and latest dates accepted anywhere (sessions, schedules, due dates, programmes).
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)

#: A whole number as text: ASCII digits only (`str.isdigit()` and `int()` also take "²",
#: "٣" or "１"), an optional minus sign, at most 18 digits so it always fits 64 bits.
WHOLE_NUMBER_TEXT = re.compile(r"-?[0-9]{1,18}")
#: C0 control characters other than tab and line breaks, and DEL. PostgreSQL refuses NUL in
#: text, and none of the others is ever meant in names, notes or addresses.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: The same rule as a JSON Schema pattern (ECMA-262 and Python `re` read it alike).
NO_CONTROL_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_PATTERN = r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"
_TIME_TEXT = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?")
_TIME_PATTERN = r"^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?$"
_DATETIME_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_DATETIME_PATTERN = (
    r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
_HTTPS_PATTERN = r"^(https://[^\s\x00-\x1f\x7f]+)?$"


def kollega_error(message: str) -> PydanticCustomError:
    """A validation error whose message is already in the user's language."""
    return PydanticCustomError("kollega", "{message}", {"message": message})


# --- numbers --------------------------------------------------------------------------------


def whole_number(value: Any, info: ValidationInfo) -> Any:
    """Text (a form field, a query parameter) to int when it is ASCII digits; JSON is left to
    strict validation, which refuses strings and booleans there."""
    if isinstance(value, str) and info.mode != "json":
        text = value.strip()
        if not WHOLE_NUMBER_TEXT.fullmatch(text):
            raise kollega_error(_("Enter a whole number."))
        return int(text)
    return value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


#: A whole number read strictly (bounds go with each use: `Field(ge=..., le=...)`).
Int = Annotated[int, BeforeValidator(whole_number)]
#: The id of a database row: 1 .. 2**31-1, so a huge number is invalid, never an overflow.
DbId = Annotated[int, BeforeValidator(whole_number), Field(ge=1, le=MAX_DB_ID)]
#: An optional id; an empty form field or query parameter is None.
OptionalDbId = Annotated[DbId | None, BeforeValidator(_blank_to_none)]
#: An optional number (bounds go with each use); an empty form field is None.
OptionalInt = Annotated[Int | None, BeforeValidator(_blank_to_none)]


# --- dates and times -----------------------------------------------------------------------


def _parsed(value: Any, pattern: re.Pattern[str], parse: Any, message: str) -> Any:
    """Text in exactly `pattern` parsed by `parse`; numbers refused; other values left to the
    type's own validation. (Parsed here, since after a `Before` validator even JSON input is
    validated as a Python value, and strict mode takes no text for a date.)"""
    if isinstance(value, bool | int | float):
        raise kollega_error(message)
    if isinstance(value, str):
        text = value.strip()
        if not pattern.fullmatch(text):
            raise kollega_error(message)
        try:
            return parse(text)
        except ValueError:
            raise kollega_error(message) from None
    return value


def _date_text(value: Any) -> Any:
    # Lax parsing reads 0 or "0" as 1970-01-01 (a Unix time) and "2025-01-01T10:00" as a date.
    return _parsed(value, _DATE_TEXT, date.fromisoformat, _("Enter a date as YYYY-MM-DD."))


def _date_in_range(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise kollega_error(
            _(
                "Enter a date between %(first)s and %(last)s.",
                first=MIN_DATE.isoformat(),
                last=MAX_DATE.isoformat(),
            )
        )
    return value


def _time_text(value: Any) -> Any:
    return _parsed(value, _TIME_TEXT, time.fromisoformat, _("Enter a time as HH:MM."))


def _datetime_text(value: Any) -> Any:
    return _parsed(
        value,
        _DATETIME_TEXT,
        datetime.fromisoformat,
        _("Enter a date and time as YYYY-MM-DDTHH:MM."),
    )


def _datetime_in_range(value: datetime) -> datetime:
    _date_in_range(value.date())
    return value


#: A calendar date between MIN_DATE and MAX_DATE, written YYYY-MM-DD.
Date = Annotated[
    date,
    BeforeValidator(_date_text),
    AfterValidator(_date_in_range),
    Field(json_schema_extra={"pattern": _DATE_PATTERN}),
]


def _blank_allowed(schema: dict[str, Any]) -> None:
    # What `_blank_to_none` reads as None is also valid input, so the description says so.
    schema.setdefault("anyOf", []).append({"type": "string", "maxLength": 0})


#: An optional date; an empty form field (or "") is None.
OptionalDate = Annotated[
    Date | None, BeforeValidator(_blank_to_none), Field(json_schema_extra=_blank_allowed)
]
#: A time of day, HH:MM (seconds allowed).
TimeOfDay = Annotated[
    time, BeforeValidator(_time_text), Field(json_schema_extra={"pattern": _TIME_PATTERN})
]
#: A date and time (ISO 8601) whose date lies between MIN_DATE and MAX_DATE.
DateTime = Annotated[
    datetime,
    BeforeValidator(_datetime_text),
    AfterValidator(_datetime_in_range),
    Field(json_schema_extra={"pattern": _DATETIME_PATTERN}),
]


# --- text --------------------------------------------------------------------------------------


def no_control_characters(value: str) -> str:
    """Refuse NUL and other control characters (tab and line breaks are fine)."""
    if CONTROL_CHARACTERS.search(value):
        raise kollega_error(_("Remove the invisible control characters from this text."))
    return value


class _NoControlCharacters:
    """Metadata for a text type: refuse control characters, and say so in the JSON Schema."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(no_control_characters, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = NO_CONTROL_PATTERN
        return json_schema


#: Put last in `Annotated[str, StringConstraints(...), NoControl]` (after the constraints).
NoControl = _NoControlCharacters()
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoControl]
RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoControl
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000), NoControl]
#: Where to go next (`next=`, `back=`): text here; `security.safe_next` decides if it is ours.
RedirectTarget = Annotated[str, StringConstraints(max_length=2000), NoControl]


def _email(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise kollega_error(_("Enter a valid email address.")) from None
    return result.normalized.lower()


def _timezone(value: str) -> str:
    if not valid_timezone(value):
        raise kollega_error(_("Choose a time zone such as Europe/Helsinki."))
    return value


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise kollega_error(_("Choose Finnish (fi) or English (en)."))
    return value


def _https_url(value: str) -> str:
    if not value:
        return value
    if CONTROL_CHARACTERS.search(value) or any(c.isspace() for c in value):
        raise kollega_error(_("Enter a web address starting with https://."))
    if not value.lower().startswith("https://") or len(value) <= len("https://"):
        raise kollega_error(_("Enter a web address starting with https://."))
    return value


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
]
TimeZoneName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=64),
    AfterValidator(_timezone),
    Field(
        json_schema_extra={"enum": sorted(n for n in available_timezones() if valid_timezone(n))}
    ),
]
Language = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=5),
    AfterValidator(_language),
    Field(json_schema_extra={"enum": list(LANGUAGES)}),
]
#: A web address that must be https (or empty): links others open from our pages.
HttpsUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    AfterValidator(_https_url),
    Field(json_schema_extra={"pattern": _HTTPS_PATTERN}),
]
#: The former name of HttpsUrl.
HttpUrl = HttpsUrl


def _checkbox(value: Any, info: ValidationInfo) -> Any:
    # HTML checkboxes send "on" (or a chosen value) when ticked and nothing otherwise; JSON
    # says true or false (strict validation refuses anything else there).
    if isinstance(value, str) and info.mode != "json" and value.lower() in _TICKED:
        return True
    return value


_TICKED = ("on", "yes", "1", "true")


Checkbox = Annotated[bool, BeforeValidator(_checkbox)]

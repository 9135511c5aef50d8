"""Field types shared by the packages' schemas (pydantic), with translated messages."""

from __future__ import annotations

from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from pydantic import AfterValidator, BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

from companion.core.i18n import LANGUAGES, valid_timezone


def kollega_error(message: str) -> PydanticCustomError:
    """A validation error whose message is already in the user's language."""
    return PydanticCustomError("kollega", "{message}", {"message": message})


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


def _http_url(value: str) -> str:
    if value and not value.lower().startswith(("https://", "http://")):
        raise kollega_error(_("Enter a web address starting with https://."))
    return value


def _no_control_characters(value: str) -> str:
    # PostgreSQL refuses NUL in text, and other control characters (tabs and line breaks
    # aside) are never meant in names or notes.
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise kollega_error(_("Remove the invisible control characters from this text."))
    return value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


def _checkbox(value: Any) -> Any:
    # HTML checkboxes send "on" (or a chosen value) when ticked and nothing otherwise.
    if isinstance(value, str) and value.lower() in ("on", "yes", "1", "true"):
        return True
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)
]
TimeZoneName = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_timezone)]
Language = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_language)]
HttpUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_http_url)
]
OptionalInt = Annotated[int | None, BeforeValidator(_blank_to_none)]
Checkbox = Annotated[bool, BeforeValidator(_checkbox)]

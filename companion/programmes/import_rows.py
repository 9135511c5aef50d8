"""Checking every row of an imported list and deciding what happens to it: a new participant,
someone already in the programme (skipped or updated), someone who asked to be erased from it,
a row without consent, or a row to fix.
Pure logic, no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flask_babel import gettext as _
from pydantic import ValidationError

from companion.core.validation import errors_of
from companion.needs.themes import Theme, parse_theme_names
from companion.programmes.schemas import ParticipantIn

#: What happens to a row: imported as new, already in the programme and skipped or updated,
#: not imported because the person asked to be erased from the programme, not imported for
#: want of consent, or not imported until fixed.
Status = Literal["new", "skip", "update", "erased", "no_consent", "bad"]
#: What to do with rows whose email is already a participant of the programme.
ExistingMode = Literal["skip", "update"]

#: Fields an update copies from the file (when their column is chosen and the cell is filled).
UPDATABLE = (
    "name",
    "phone",
    "company",
    "industry",
    "region",
    "years_as_entrepreneur",
    "interests",
    "goals",
    "language",
)


@dataclass
class Existing:
    """A participant already in the programme, as far as an import compares them."""

    id: int
    values: dict[str, Any]
    group_ids: set[int]
    offers: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)


@dataclass
class RowCheck:
    """One data row: its line in the file, the values read, what is wrong with it and what
    will happen to it."""

    line: int
    values: dict[str, Any]
    raw: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    group_id: int | None = None
    #: Theme keys of the offers and needs columns (`companion.needs`).
    offers: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    #: The participant this row's email already belongs to.
    existing_id: int | None = None
    #: In update mode: the fields that will change (profile fields, "group", "offers", "needs").
    changes: dict[str, Any] = field(default_factory=dict)
    #: Why the row is not imported for want of consent (empty: consent given or not asked).
    no_consent: str = ""
    #: Why the row is not imported because the person asked to be erased (empty: they did not).
    erased: str = ""
    existing_mode: ExistingMode = "skip"

    @property
    def status(self) -> Status:
        """What the import does with this row."""
        if self.erased:
            return "erased"
        if self.no_consent:
            return "no_consent"
        if self.errors:
            return "bad"
        if self.existing_id is not None:
            return self.existing_mode
        return "new"

    @property
    def ok(self) -> bool:
        """Whether the row is imported (as new or as an update)."""
        return self.status in ("new", "update")

    @property
    def reason(self) -> str:
        """Why the row is not imported, in a sentence, or an empty string."""
        if self.erased:
            return self.erased
        if self.no_consent:
            return self.no_consent
        return "; ".join(self.errors.values())


_YES = {
    "yes", "y", "kyllä", "kylla", "k", "x", "true", "tosi", "1", "checked", "on", "ok", "agree",
    "i agree", "i consent", "hyväksyn", "hyväksytty", "hyväksyy", "suostun", "joo", "juu",
    "valittu", "selected", "✓", "✔", "☑", "✅", "ja",
}  # fmt: skip
_NO = {"no", "n", "ei", "e", "false", "epätosi", "0", "unchecked", "off", "en", "-"}
_YES_STARTS = ("yes", "kyllä", "i agree", "i consent", "hyväksyn", "suostun", "annan suostum")
_NO_STARTS = ("no ", "ei ", "en ", "i do not", "i don't", "i disagree")


def consent_answer(value: str) -> bool | None:
    """Whether a consent cell says yes (form tools write the option's text, "x", 1, TRUE...),
    no (empty, "ei", 0...), or None when the answer is not understood."""
    # Microsoft Forms ends a chosen option with ";"; people add full stops.
    normal = re.sub(r"\s+", " ", value.strip().strip(";.,!").strip().lower())
    if not normal or normal in _NO or normal.startswith(_NO_STARTS):
        return False
    if normal in _YES or normal.startswith(_YES_STARTS):
        return True
    return None


def _language(value: str) -> str | None:
    normal = value.strip().lower()
    if normal in ("fi", "suomi", "finnish", "fin", "suomeksi"):
        return "fi"
    if normal in ("en", "englanti", "english", "eng", "in english"):
        return "en"
    return None


def _years(value: str) -> str | int | None:
    # Answers like "5", "5 vuotta" or "yli 10" give their number; anything else is checked
    # (and reported) as it is.
    if not value.strip():
        return None
    match = re.search(r"\d+", value)
    return int(match.group()) if match and len(match.group()) <= 3 else value


def erased_reason() -> str:
    """Why someone who asked to be erased is not imported, and how they can come back."""
    return _(
        "Asked to be erased from this programme: not imported. They can join again by "
        "signing up themselves through the programme's survey."
    )


def _changes(check: RowCheck, filled: set[str], existing: Existing) -> dict[str, Any]:
    """What an update would change: filled cells that differ from the stored details."""
    changes = {
        key: check.values[key]
        for key in UPDATABLE
        if key in filled
        and check.values.get(key) not in (None, "")
        and check.values[key] != existing.values.get(key)
    }
    if "group" in filled and check.group_id is not None and existing.group_ids != {check.group_id}:
        changes["group"] = check.group_id
    for key in ("offers", "needs"):
        keys = getattr(check, key)
        if key in filled and keys and keys != getattr(existing, key):
            changes[key] = keys
    return changes


def check_rows(
    rows: Sequence[list[str]],
    lines: Sequence[int],
    mapping: dict[str, int],
    *,
    groups: dict[str, int],
    existing: dict[str, Existing],
    default_group_id: int | None,
    themes: Sequence[Theme] = (),
    existing_mode: ExistingMode = "skip",
    was_erased: Callable[[str], bool] | None = None,
) -> list[RowCheck]:
    """Read and check every row: bad email, unknown group or theme, duplicates in the file,
    consent, whether the email is already a participant (`existing`, by lower-case email) and
    whether its person asked to be erased from the programme (`was_erased`, by email)."""
    seen: dict[str, int] = {}
    checks: list[RowCheck] = []
    known = {name.strip().lower(): gid for name, gid in groups.items()}
    for row, line in zip(rows, lines, strict=True):

        def get(field_name: str, row: list[str] = row) -> str:
            index = mapping.get(field_name)
            return row[index].strip() if index is not None and index < len(row) else ""

        filled = {key for key in mapping if get(key)}
        if filled & {"first_name", "last_name"}:
            filled.add("name")
        name = get("name") or " ".join(p for p in (get("first_name"), get("last_name")) if p)
        values: dict[str, Any] = {
            "name": name,
            "email": get("email"),
            "phone": get("phone"),
            "company": get("company"),
            "industry": get("industry"),
            "region": get("region"),
            "years_as_entrepreneur": _years(get("years_as_entrepreneur")),
            "interests": get("interests"),
            "goals": get("goals"),
        }
        check = RowCheck(line=line, values=values, raw=list(row), existing_mode=existing_mode)
        if "consent" in mapping:
            answer = consent_answer(get("consent"))
            if answer is None:
                check.no_consent = _(
                    "The consent answer “%(value)s” is not a yes: not imported.",
                    value=get("consent")[:60],
                )
            elif not answer:
                check.no_consent = _("No consent on this row: not imported.")
        raw_language = get("language")
        if raw_language:
            language = _language(raw_language)
            if language is None:
                check.errors["language"] = _(
                    "Unknown language “%(value)s” (use fi or en).", value=raw_language
                )
            else:
                values["language"] = language
        group_name = get("group")
        if group_name:
            group_id = known.get(group_name.lower())
            if group_id is None:
                check.errors["group"] = _("Unknown group “%(value)s”.", value=group_name)
            check.group_id = group_id
        else:
            check.group_id = default_group_id
        for key in ("offers", "needs"):
            keys, unknown = parse_theme_names(get(key), themes)
            setattr(check, key, keys)
            if unknown:
                check.errors[key] = _(
                    "Unknown themes: %(names)s (use the programme's themes, separated by commas).",
                    names=", ".join(f"“{n}”" for n in unknown),
                )
        try:
            parsed = ParticipantIn.model_validate(values)
        except ValidationError as exc:
            for key, message in errors_of(exc).items():
                check.errors.setdefault(key, message)
        else:
            values["email"] = parsed.email
        email = str(values["email"]).strip().lower()
        if email in seen:
            check.errors["email"] = _("Duplicate of line %(line)s.", line=seen[email])
        elif email and "email" not in check.errors:
            seen[email] = line
        match = existing.get(email) if "email" not in check.errors else None
        if match is not None:
            check.existing_id = match.id
            if existing_mode == "update":
                check.changes = _changes(check, filled, match)
            else:
                # Nothing is done with a skipped row: its other problems do not matter.
                check.errors = {k: v for k, v in check.errors.items() if k == "email"}
        elif email and "email" not in check.errors and was_erased and was_erased(email):
            # Their own wish outweighs the list: only they can undo it, by signing up again.
            check.erased = erased_reason()
        elif check.group_id is None and "group" not in check.errors:
            check.errors["group"] = _("No group given, and no default group chosen.")
        checks.append(check)
    return checks

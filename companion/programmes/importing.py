"""Reading participant lists from CSV and XLSX files and checking every row. No I/O here.

Handles what the usual tools export: Excel (CSV with `;` and a BOM, or XLSX), Google Forms
(CSV with `,`, a timestamp column, question texts as headers), Microsoft Forms (XLSX with
ID / start time / completion time columns) and Webropol (CSV with `;`, sometimes UTF-16).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from companion.core.validation import errors_of
from companion.programmes.schemas import ParticipantIn

MAX_ROWS = 2000

#: Fields a column can be mapped to, with their labels.
FIELDS: dict[str, Any] = {
    "name": _l("Name"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "company": _l("Company"),
    "industry": _l("Industry"),
    "region": _l("Region"),
    "years_as_entrepreneur": _l("Years as entrepreneur"),
    "interests": _l("Interests"),
    "goals": _l("Goals"),
    "language": _l("Language"),
    "group": _l("Group"),
}

#: Header words (Finnish and English, lower-case, accents kept) that suggest a field.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("etunimi", "first name", "firstname", "given name"),
    "last_name": ("sukunimi", "last name", "lastname", "surname", "family name"),
    "name": ("nimi", "name", "full name", "koko nimi", "nimesi", "your name"),
    "email": ("sähköposti", "sahkoposti", "email", "e-mail", "email address", "sähköpostiosoite"),
    "phone": ("puhelin", "puhelinnumero", "phone", "mobile", "matkapuhelin"),
    "company": ("yritys", "yrityksen nimi", "company", "organisation", "organization", "firma"),
    "industry": ("toimiala", "ala", "industry", "sector", "business area"),
    "region": ("alue", "paikkakunta", "kunta", "kotikunta", "region", "municipality", "city"),
    "years_as_entrepreneur": (
        "yrittäjävuodet",
        "vuotta yrittäjänä",
        "years",
        "experience",
        "kokemus",
    ),
    "interests": ("kiinnostuksen kohteet", "kiinnostukset", "interests", "aiheet", "topics"),
    "goals": ("tavoitteet", "tavoite", "goals", "goal", "odotukset", "expectations"),
    "language": ("kieli", "language", "asiointikieli"),
    "group": ("ryhmä", "ryhma", "group", "team"),
}

#: Columns form tools add that are never participant data.
_IGNORED = (
    "timestamp",
    "aikaleima",
    "id",
    "start time",
    "completion time",
    "aloitusaika",
    "valmistumisaika",
    "last modified time",
)


class UnreadableFile(Exception):
    """The file cannot be read at all; the message says why in the user's language."""


@dataclass
class Table:
    """A file's header row and data rows, all as text."""

    headers: list[str]
    rows: list[list[str]]

    def as_dict(self) -> dict[str, Any]:
        """For storing in an import draft."""
        return {"headers": self.headers, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        """From a stored import draft."""
        return cls(list(data.get("headers", [])), [list(r) for r in data.get("rows", [])])


@dataclass
class RowCheck:
    """One data row: its line in the file, the values read, and what is wrong with it."""

    line: int
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    group_id: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the row can be imported."""
        return not self.errors


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The file's text encoding is not recognised. Save it as UTF-8 CSV."))


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    sample = text[:10000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        # One-column files and odd quoting defeat the sniffer; count separators instead.
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        return [[_cell(c) for c in row] for row in reader]
    except csv.Error as exc:
        raise UnreadableFile(
            _("The CSV file could not be read: %(error)s", error=str(exc))
        ) from None


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UnreadableFile(_("The file is not a readable Excel (.xlsx) workbook.")) from None
    sheet = workbook.worksheets[0]
    rows = [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def read_table(filename: str, data: bytes) -> Table:
    """The header and rows of a CSV or XLSX file; UnreadableFile with a readable reason."""
    if not data:
        raise UnreadableFile(_("The file is empty."))
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        rows = _read_xlsx(data)
    elif name.endswith((".csv", ".txt", ".tsv")) or not name:
        rows = _read_csv(data)
    elif name.endswith(".xls"):
        raise UnreadableFile(_("Old .xls files are not supported. Save the file as .xlsx or CSV."))
    else:
        raise UnreadableFile(_("Upload a CSV or Excel (.xlsx) file."))
    rows = [row for row in rows if any(cell for cell in row)]
    if len(rows) < 2:
        raise UnreadableFile(_("The file needs a header row and at least one participant."))
    if len(rows) - 1 > MAX_ROWS:
        raise UnreadableFile(_("At most %(n)s participants can be imported at once.", n=MAX_ROWS))
    width = max(len(row) for row in rows)
    headers = [
        h or _("Column %(n)s", n=i + 1)
        for i, h in enumerate(rows[0] + [""] * (width - len(rows[0])))
    ]
    body = [row + [""] * (width - len(row)) for row in rows[1:]]
    return Table(headers, body)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().strip()
    return re.sub(r"[\s:?*()]+", " ", text).strip()


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """Field -> column index for headers that clearly name a field."""
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        normal = _normalise(header)
        if normal in _IGNORED:
            continue
        for field_name, words in _SYNONYMS.items():
            if field_name in mapping:
                continue
            if normal in words or any(normal.startswith(w + " ") for w in words):
                mapping[field_name] = index
                break
    if "name" in mapping and ("first_name" in mapping or "last_name" in mapping):
        del mapping["name"]
    return mapping


def _language(value: str) -> str | None:
    normal = value.strip().lower()
    if normal in ("fi", "suomi", "finnish", "fin", "suomeksi"):
        return "fi"
    if normal in ("en", "englanti", "english", "eng", "in english"):
        return "en"
    return None


def _years(value: str) -> str | int | None:
    match = re.search(r"\d+", value)
    if not value.strip():
        return None
    return int(match.group()) if match else value


def check_rows(
    table: Table,
    mapping: dict[str, int],
    *,
    groups: dict[str, int],
    existing_emails: set[str],
    default_group_id: int | None,
) -> list[RowCheck]:
    """Read and check every row: bad email, unknown group, duplicates in the file or programme."""
    seen: dict[str, int] = {}
    checks: list[RowCheck] = []
    known = {name.strip().lower(): gid for name, gid in groups.items()}
    for offset, row in enumerate(table.rows):
        line = offset + 2  # the header is line 1, as spreadsheet programs count

        def get(field_name: str, row: list[str] = row) -> str:
            index = mapping.get(field_name)
            return row[index].strip() if index is not None and index < len(row) else ""

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
        check = RowCheck(line=line, values=values)
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
            if default_group_id is None:
                check.errors["group"] = _("No group given, and no default group chosen.")
        try:
            parsed = ParticipantIn.model_validate(values)
        except ValidationError as exc:
            for key, message in errors_of(exc).items():
                check.errors.setdefault(key, message)
        else:
            email = parsed.email
            values["email"] = email
            if email in existing_emails:
                check.errors["email"] = _(
                    "%(email)s is already a participant of this programme.", email=email
                )
            elif email in seen:
                check.errors["email"] = _("Duplicate of line %(line)s.", line=seen[email])
            else:
                seen[email] = line
        checks.append(check)
    return checks

"""Reading participant lists from CSV and XLSX files and checking every row. No I/O here.

Handles what the usual tools export: Excel (CSV with `;` and a BOM, or XLSX), Google Forms
(CSV with `,`, a timestamp column, question texts as headers), Microsoft Forms (XLSX with
ID / start time / completion time columns) and Webropol (CSV with `;`, sometimes UTF-16).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from companion.core.validation import errors_of
from companion.needs.themes import Theme, parse_theme_names
from companion.programmes.schemas import ParticipantIn

log = logging.getLogger(__name__)

MAX_ROWS = 2000
#: Columns read from a file; form exports have a few dozen at most.
MAX_COLUMNS = 100
#: Characters in one cell; the longest field (interests, goals) takes 5,000.
MAX_CELL_CHARS = 5000
#: What an XLSX file (a zip) may unpack to in all, and how many parts it may have: a small
#: file can hold one huge, highly compressible string (a "zip bomb").
MAX_XLSX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_XLSX_PARTS = 500

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
    "offers": _l("Can offer (themes)"),
    "needs": _l("Looking for (themes)"),
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
    "offers": ("voin tarjota", "tarjoan", "osaaminen", "offers", "can offer", "i can offer"),
    "needs": ("tarvitsen", "tarpeet", "etsin", "needs", "looking for", "i am looking for"),
}

#: Word beginnings that suggest a field inside a longer question text, as form tools use the
#: question as the header ("Millä toimialalla yrityksesi toimii?", "What industry are you in?").
#: Finnish inflects words, so these are stems matched against the start of each word.
_STEMS: dict[str, tuple[str, ...]] = {
    "first_name": ("etunim", "firstname"),
    "last_name": ("sukunim", "surname", "lastname"),
    "name": ("nimi", "nimesi", "name"),
    "email": ("sähköpost", "sahkopost", "email", "e-mail"),
    "phone": ("puhelin", "phone", "mobile", "matkapuhelin"),
    "company": ("yritykse", "yrityksen", "company", "firma", "business name"),
    "industry": ("toimiala", "industry", "sector", "branch"),
    "region": ("paikkakun", "kotikun", "kunna", "kunta", "alueel", "region", "municipalit", "city"),
    "years_as_entrepreneur": ("vuotta", "vuosia", "vuode", "years"),
    "interests": (
        "kiinnost",
        "aihe",
        "teema",
        "keskustel",
        "interest",
        "theme",
        "topic",
        "discuss",
    ),
    "goals": ("tavoit", "toivo", "odotu", "odota", "goal", "hope", "expect"),
    "language": ("kieli", "kielell", "language"),
    "group": ("ryhmä", "ryhma", "group"),
    "offers": ("tarjo", "offer"),
    "needs": ("tarvi", "tarpe", "etsi", "need", "looking"),
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
    "viimeksi muokattu",
    "total points",
    "quiz feedback",
    "vastaaja",
    "vastaajan tunnus",
    "vastausaika",
    "respondent",
    "response time",
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
    #: Theme keys of the offers and needs columns (`companion.needs`).
    offers: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the row can be imported."""
        return not self.errors


#: Control characters other than tab and newlines; PostgreSQL refuses NUL in text columns.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _CONTROL.sub("", str(value)).strip()


def _utf16_without_bom(data: bytes) -> str | None:
    # Mostly-ASCII UTF-16 text has a NUL in every other byte; UTF-8 and cp1252 text has none.
    sample = data[:2000]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    encoding = "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableFile(
                _("The file's text encoding is not recognised. Save it as UTF-8 CSV.")
            ) from None
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The file's text encoding is not recognised. Save it as UTF-8 CSV."))


def _delimiter(lines: list[str]) -> str:
    """The separator that splits the header into the most columns and the rows alike."""
    best, best_score = ",", (-1, -1)
    for candidate in (";", ",", "\t"):
        try:
            rows = list(csv.reader(lines, delimiter=candidate))
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(1 for row in rows[1:] if len(row) == width)
        score = (consistent if width > 1 else -1, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _collect(source: Iterable[Iterable[Any]]) -> list[list[str]]:
    """Non-empty rows as text, trailing empty cells dropped; stops once there are too many."""
    rows: list[list[str]] = []
    for raw in source:
        row = [_cell(c) for c in raw]
        if any(len(cell) > MAX_CELL_CHARS for cell in row):
            raise UnreadableFile(_("A cell holds more than %(n)s characters.", n=MAX_CELL_CHARS))
        while row and not row[-1]:
            row.pop()
        if not row:
            continue
        if len(row) > MAX_COLUMNS:
            raise UnreadableFile(_("The file has more than %(n)s columns.", n=MAX_COLUMNS))
        rows.append(row)
        if len(rows) > MAX_ROWS + 1:
            raise UnreadableFile(
                _("At most %(n)s participants can be imported at once.", n=MAX_ROWS)
            )
    return rows


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data).replace("\x00", "")
    first_line, _newline, rest = text.partition("\n")
    declared = re.fullmatch(r"\s*\"?sep=(.)\"?\s*", first_line)
    if declared:
        # Excel writes "sep=;" as the first line of some CSV exports to name the separator.
        delimiter, text = declared.group(1), rest
    else:
        delimiter = _delimiter(text[:20000].splitlines()[:50])
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _collect(reader)
    except csv.Error as exc:
        raise UnreadableFile(
            _("The CSV file could not be read: %(error)s", error=str(exc))
        ) from None


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a workbook that would unpack to more than we read, before anything unpacks it.

    The sizes come from the zip's central directory; Python's zipfile never inflates a part
    beyond its listed size (it stops there and the checksum fails), so they are binding.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnreadableFile(_("The file is not a readable Excel (.xlsx) workbook.")) from None
    if len(parts) > MAX_XLSX_PARTS or (
        sum(part.file_size for part in parts) > MAX_XLSX_UNPACKED_BYTES
    ):
        raise UnreadableFile(
            _(
                "The workbook unpacks to more than %(n)s MB. Keep only the participant list "
                "in it, or save it as CSV.",
                n=MAX_XLSX_UNPACKED_BYTES // (1024 * 1024),
            )
        )


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    _check_unpacked_size(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = _collect(sheet.iter_rows(values_only=True))
        finally:
            workbook.close()
    except Exception as exc:
        # A damaged or foreign file (any zip starts with "PK") is the upload's fault: the
        # person gets a reason to act on, and the log keeps what openpyxl said.
        if isinstance(exc, UnreadableFile):
            raise
        log.info("Unreadable workbook upload: %r", exc)
        raise UnreadableFile(_("The file is not a readable Excel (.xlsx) workbook.")) from None
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
    return re.sub(r"[\s:?*()!.,/]+", " ", text).strip()


def _tier(field_name: str, normal: str) -> int:
    """How clearly a normalised header names a field: 3 exactly, 2 at its start, 1 inside."""
    words = _SYNONYMS[field_name]
    if normal in words:
        return 3
    if any(normal.startswith(w + " ") for w in words):
        return 2
    header_words = normal.split()
    if any(f" {w} " in f" {normal} " for w in words if " " in w) or any(
        word.startswith(stem) for word in header_words for stem in _STEMS[field_name]
    ):
        return 1
    return 0


def _looks_like_emails(rows: list[list[str]], index: int) -> float:
    values = [row[index] for row in rows[:200] if index < len(row) and row[index].strip()]
    if not values:
        return 0.0
    return sum(1 for v in values if "@" in v) / len(values)


def guess_mapping(headers: list[str], rows: list[list[str]] | None = None) -> dict[str, int]:
    """Field -> column index for headers that name a field, in Finnish or English.

    Exact header names win over headers that start with a field's name, which win over
    question texts that merely mention it; each column serves one field. With `rows`, an
    email column that holds no addresses (Microsoft Forms writes "anonymous") gives way to
    one that does.
    """
    normals = {
        index: _normalise(header)
        for index, header in enumerate(headers)
        if _normalise(header) not in _IGNORED
    }
    mapping: dict[str, int] = {}
    for tier in (3, 2, 1):
        for index, normal in normals.items():
            if index in mapping.values():
                continue
            for field_name in _SYNONYMS:
                if field_name not in mapping and _tier(field_name, normal) == tier:
                    mapping[field_name] = index
                    break
    if rows and "email" in mapping and _looks_like_emails(rows, mapping["email"]) < 0.5:
        others = [
            i
            for i, normal in normals.items()
            if i != mapping["email"] and _tier("email", normal) and i not in mapping.values()
        ]
        better = [i for i in others if _looks_like_emails(rows, i) >= 0.5]
        if better:
            mapping["email"] = better[0]
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
    # Answers like "5", "5 vuotta" or "yli 10" give their number; anything else is checked
    # (and reported) as it is.
    if not value.strip():
        return None
    match = re.search(r"\d+", value)
    return int(match.group()) if match and len(match.group()) <= 3 else value


def check_rows(
    table: Table,
    mapping: dict[str, int],
    *,
    groups: dict[str, int],
    existing_emails: set[str],
    default_group_id: int | None,
    themes: Sequence[Theme] = (),
) -> list[RowCheck]:
    """Read and check every row: bad email, unknown group or theme, duplicates in the file or
    programme."""
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
        for name in ("offers", "needs"):
            keys, unknown = parse_theme_names(get(name), themes)
            setattr(check, name, keys)
            if unknown:
                check.errors[name] = _(
                    "Unknown themes: %(names)s (use the programme's themes, separated by commas).",
                    names=", ".join(f"“{n}”" for n in unknown),
                )
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

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
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from companion.programmes.import_columns import find_header_row

log = logging.getLogger(__name__)

MAX_ROWS = 2000
#: Rows at the top of a file searched for the header (title rows may stand above it).
HEADER_SEARCH_ROWS = 10
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
    "consent": _l("Consent (an answer on each row)"),
}


class UnreadableFile(Exception):
    """The file cannot be read at all; the message says why in the user's language."""


@dataclass
class Table:
    """Every non-empty row of a file as text (padded to one width), the line each stands on
    in the spreadsheet, and which of them is the header: title rows may stand above it."""

    cells: list[list[str]]
    lines: list[int]
    header: int = 0

    @property
    def headers(self) -> list[str]:
        """The header row's texts; an empty header is named by its column number."""
        return [h or _("Column %(n)s", n=i + 1) for i, h in enumerate(self.cells[self.header])]

    @property
    def rows(self) -> list[list[str]]:
        """The data rows: every row below the header."""
        return self.cells[self.header + 1 :]

    @property
    def row_lines(self) -> list[int]:
        """The spreadsheet line of each data row, as the person sees it in Excel."""
        return self.lines[self.header + 1 :]

    @property
    def header_line(self) -> int:
        """The spreadsheet line of the header row."""
        return self.lines[self.header]

    def header_choices(self) -> list[tuple[int, list[str]]]:
        """The rows that may be chosen as the header: line and cells of the first few."""
        limit = min(HEADER_SEARCH_ROWS, len(self.cells) - 1)
        return [(self.lines[i], self.cells[i]) for i in range(limit)]

    def with_header_line(self, line: int | None) -> Table:
        """This table read with the header on `line` (one of `header_choices`), or as it is."""
        for index, (choice, _cells) in enumerate(self.header_choices()):
            if choice == line:
                return Table(self.cells, self.lines, index)
        return self

    def as_dict(self) -> dict[str, Any]:
        """For storing in an import draft."""
        return {"cells": self.cells, "lines": self.lines, "header": self.header}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        """From a stored import draft (also one stored before title rows were kept)."""
        if "cells" not in data:
            cells = [list(data.get("headers", [])), *(list(r) for r in data.get("rows", []))]
            return cls(cells, list(range(1, len(cells) + 1)))
        cells = [list(r) for r in data["cells"]]
        lines = [int(n) for n in data.get("lines", range(1, len(cells) + 1))]
        header = int(data.get("header", 0))
        return cls(cells, lines, header if 0 <= header < len(cells) - 1 else 0)


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
        # The widest of the first rows is the header's width: a title row may stand above it.
        width = max(len(row) for row in rows[:HEADER_SEARCH_ROWS])
        consistent = sum(1 for row in rows if len(row) == width) - 1
        score = (consistent if width > 1 else -1, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _collect(source: Iterable[Iterable[Any]]) -> list[tuple[int, list[str]]]:
    """Non-empty rows as text with their line (from 1), trailing empty cells dropped; stops
    once there are too many."""
    rows: list[tuple[int, list[str]]] = []
    for line, raw in enumerate(source, start=1):
        row = [_cell(c) for c in raw]
        if any(len(cell) > MAX_CELL_CHARS for cell in row):
            raise UnreadableFile(_("A cell holds more than %(n)s characters.", n=MAX_CELL_CHARS))
        while row and not row[-1]:
            row.pop()
        if not row:
            continue
        if len(row) > MAX_COLUMNS:
            raise UnreadableFile(_("The file has more than %(n)s columns.", n=MAX_COLUMNS))
        rows.append((line, row))
        if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise UnreadableFile(
                _("At most %(n)s participants can be imported at once.", n=MAX_ROWS)
            )
    return rows


def _read_csv(data: bytes) -> list[tuple[int, list[str]]]:
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


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
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
    width = max(len(row) for _line, row in rows)
    cells = [row + [""] * (width - len(row)) for _line, row in rows]
    table = Table(cells, [line for line, _row in rows], find_header_row(cells))
    if len(table.rows) > MAX_ROWS:
        raise UnreadableFile(_("At most %(n)s participants can be imported at once.", n=MAX_ROWS))
    return table

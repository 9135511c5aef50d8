"""Tables written as CSV for Finnish Excel and as XLSX, safe against formula injection.

CSV: UTF-8 with a byte-order mark and `;` between fields, so Excel set to Finnish opens it
with the letters and columns right; decimals get the language's separator (a comma in
Finnish, which `;` leaves free). XLSX through openpyxl. In both, a text cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a name like
`=HYPERLINK(...)` is shown as text instead of run as a formula (OWASP's CSV injection advice).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font

#: What a cell may hold.
Cell = str | int | float | date | datetime | None
#: Starts that spreadsheet programs read as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Sheet:
    """A table: a title, the header row, the rows, and which rows are headings of a section."""

    title: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    #: Indexes (in `rows`) of section headings, shown bold in XLSX.
    headings: set[int] = field(default_factory=set)

    def add(self, *cells: Cell) -> None:
        """Append a row."""
        self.rows.append(list(cells))

    def heading(self, text: str) -> None:
        """Append a section heading row (the funder report has sections in one sheet)."""
        self.headings.add(len(self.rows))
        self.rows.append([text])


def neutralise(value: str) -> str:
    """Text that no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_cell(value: Cell, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", decimal)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def to_csv(sheet: Sheet, *, decimal: str = ",") -> bytes:
    """The sheet as CSV: UTF-8 with BOM, `;`-separated, CRLF line ends, formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in sheet.header])
    for row in sheet.rows:
        writer.writerow([_csv_cell(cell, decimal) for cell in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _xlsx_cell(value: Cell) -> Cell:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime):
        # Excel has no time zones: write the wall-clock time it was given.
        return value.replace(tzinfo=None)
    return value


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as one XLSX workbook (a sheet each), formulas neutralised."""
    book = Workbook()
    book.remove(book.worksheets[0])
    bold = Font(bold=True)
    for sheet in sheets:
        ws = book.create_sheet(_sheet_title(sheet.title))
        ws.append([neutralise(h) for h in sheet.header])
        for cell in ws[1]:
            cell.font = bold
        for index, row in enumerate(sheet.rows):
            ws.append([_xlsx_cell(c) for c in row])
            if index in sheet.headings:
                for cell in ws[ws.max_row]:
                    cell.font = bold
        for column in ws.columns:
            width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
            ws.column_dimensions[column[0].column_letter].width = min(48, max(8, width + 2))
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    # Excel allows 31 characters and none of []:*?/\ in a sheet's name.
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return cleaned.lstrip("=+-@'")[:31] or "Sheet"

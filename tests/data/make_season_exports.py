"""Writes the sample lists of a form followed over a season: an early export and the grown one
later, each with a consent question, and a Finnish Excel list with a title row above its header.

Run `python -m tests.data.make_season_exports` after changing it; the files are committed so the
tests do not depend on this script. Every person, company and address is invented.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HERE = Path(__file__).parent


def _write_csv(
    path: Path, rows: list[list[str]], *, delimiter: str, encoding: str, quote_all: bool = False
) -> None:
    buffer = io.StringIO(newline="")
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n", quoting=quoting)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


GOOGLE_HEADER = [
    "Timestamp",
    "Email Address",
    "Full name",
    "Company name",
    "Which group would you like to join?",
    "I agree that my details are stored and used to run the programme.",
]
GOOGLE_EARLY = [
    ["2027/01/10 9:15:32 AM EET", "pekka@korhonen.example", "Pekka Korhonen", "Korhonen IT",
     "Ryhmä A", "I agree"],
    ["2027/01/11 7:02:10 PM EET", "riikka@example.fi", "Riikka Laine", "Laine & Co", "Ryhmä B",
     "I agree"],
]  # fmt: skip


def google_forms() -> None:
    """Google Forms' "Download responses (.csv)" in January and again in February: every field
    quoted, the collected address in "Email Address", a one-option checkbox for consent. By
    February Riikka has edited her answer (new company, other group; Google keeps her row),
    and three more people have answered: one left the consent box empty, one mistyped the
    address."""
    _write_csv(
        HERE / "season_google_v1.csv",
        [GOOGLE_HEADER, *GOOGLE_EARLY],
        delimiter=",",
        encoding="utf-8",
        quote_all=True,
    )
    grown = [
        GOOGLE_EARLY[0],
        ["2027/02/02 8:40:00 AM EET", "Riikka@Example.fi", "Riikka Laine", "Laine Design Oy",
         "Ryhmä A", "I agree"],
        ["2027/02/03 1:12:45 PM EET", "olli@virta.example", "Olli Virta", "Virran Vene",
         "Ryhmä B", "I agree"],
        ["2027/02/04 3:30:01 PM EET", "no.consent@example.fi", "Noora Kallio", "Kallio Oy",
         "Ryhmä A", ""],
        ["2027/02/05 6:05:59 PM EET", "maija at example.fi", "Maija Mäki", "Mäen Maja",
         "Ryhmä B", "I agree"],
    ]  # fmt: skip
    _write_csv(
        HERE / "season_google_v2.csv",
        [GOOGLE_HEADER, *grown],
        delimiter=",",
        encoding="utf-8",
        quote_all=True,
    )


def google_forms_finnish() -> None:
    """The Finnish form's download: "Aikaleima", "Sähköpostiosoite", the consent option
    "Hyväksyn" ticked or left empty."""
    header = [
        "Aikaleima",
        "Sähköpostiosoite",
        "Nimi",
        "Yrityksen nimi",
        "Ryhmä",
        "Hyväksyn tietojeni tallentamisen ja käytön ohjelman järjestämiseen",
    ]
    rows = [
        ["10.1.2027 9.15.32", "tiina@example.fi", "Tiina Salminen", "Salmisen Kukka", "Ryhmä B",
         "Hyväksyn"],
        ["11.1.2027 14.02.10", "ville@example.fi", "Ville Nurmi", "Nurmen Nikkarit", "Ryhmä A",
         ""],
    ]  # fmt: skip
    _write_csv(
        HERE / "season_google_fi.csv",
        [header, *rows],
        delimiter=",",
        encoding="utf-8",
        quote_all=True,
    )


MS_HEADER = [
    "ID",
    "Start time",
    "Completion time",
    "Email",
    "Name",
    "Last modified time",
    "Nimi",
    "Sähköpostiosoite",
    "Yrityksen nimi",
    "Ryhmä",
    "Suostun siihen, että tietojani käytetään ohjelman järjestämiseen",
]


def _ms_row(number: int, day: int, person: tuple[str, str, str, str, str]) -> list[object]:
    # An anonymous form (entrepreneurs have no account in the organiser's tenant): "anonymous"
    # in Email, Name empty, the person's own answers in the questions.
    start = datetime(2027, 1, day, 10, 0)
    return [number, start, start.replace(minute=4), "anonymous", None, None, *person]


def microsoft_forms() -> None:
    """Microsoft Forms' "Open results in Excel" in January and February. A chosen option of a
    choice question is written as its text; "Kyllä" or "Ei" here. By February Kari's company
    has a new name (he answered again and the organiser deleted his old response)."""
    kari = ("Kari Lehtonen", "kari.lehtonen@example.fi", "Lehtosen Sähkö", "Ryhmä A", "Kyllä")
    hanna = ("Hanna Koskinen", "hanna.koskinen@example.fi", "Koskinen Kirjanpito", "Ryhmä B",
             "Kyllä")  # fmt: skip
    for name, rows in (
        ("season_microsoft_v1.xlsx", [_ms_row(1, 10, kari), _ms_row(2, 11, hanna)]),
        (
            "season_microsoft_v2.xlsx",
            [
                _ms_row(2, 11, hanna),
                _ms_row(3, 20, ("Jari Aalto", "jari@aalto.example", "Aallon Auto", "Ryhmä B",
                                "Kyllä")),
                _ms_row(4, 21, (" Kari Lehtonen", " KARI.Lehtonen@example.fi ",
                                "Lehtonen Electric Oy", "Ryhmä B", "Kyllä")),
                _ms_row(5, 22, ("Eila Ei", "eila@example.fi", "Eilan Ompelimo", "Ryhmä A", "Ei")),
            ],
        ),
    ):  # fmt: skip
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Sheet1"
        sheet.append(MS_HEADER)
        for row in rows:
            sheet.append(row)
        workbook.save(HERE / name)


def webropol() -> None:
    """Webropol's CSV export: UTF-16 with a byte-order mark, `;`, a respondent id and time,
    and the consent checkbox as 1 (ticked) or 0."""
    header = [
        "Vastaajan tunnus",
        "Vastausaika",
        "Etunimi",
        "Sukunimi",
        "Sähköpostiosoite",
        "Yritys",
        "Ryhmä",
        "Annan suostumukseni tietojeni käsittelyyn",
    ]
    rows = [
        ["2001", "12.1.2027 10:01", "Päivi", "Östman", "paivi.ostman@example.fi",
         "Östmanin Ääni Oy", "Ryhmä A", "1"],
        ["2002", "12.1.2027 11:30", "Jussi", "Ääritalo", "jussi@aaritalo.example",
         "Ääritalo Tmi", "Ryhmä B", "0"],
        ["2003", "13.1.2027 08:12", "Aada", "Öhman", "aada@ohman.example", "Öhmanin Öljy",
         "Ryhmä B", "1"],
    ]  # fmt: skip
    _write_csv(HERE / "season_webropol.csv", [header, *rows], delimiter=";", encoding="utf-16")


TITLE = "Osallistujalista kevät 2027"
LIST_HEADER = ["Etunimi", "Sukunimi", "Sähköposti", "Puhelin", "Yritys", "Ryhmä", "Suostumus"]
LIST_ROWS = [
    ["Aino", "Virtanen", "aino.virtanen@example.fi", "040 123 4567", "Virtasen Puutyö Oy",
     "Ryhmä A", "x"],
    ["Eero", "Mäkelä", "eero.makela@example.fi", "050 765 4321", "Mäkelän Konsultointi",
     "Ryhmä B", "kyllä"],
    ["Sanna", "Järvinen", "sanna@jarvinen.example", "", "Hyvinvointi Järvinen, Tmi",
     "Ryhmä A", "ei"],
]  # fmt: skip


def excel_title_row() -> None:
    """A list kept in Finnish Excel: the title in A1 (bold), an empty row, then the header;
    saved as a workbook and as "CSV UTF-8" (`;`, a BOM, empty cells written for the title's
    row as Excel does)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Osallistujat"
    sheet["A1"] = TITLE
    sheet["A1"].font = Font(bold=True, size=14)
    for column, text in enumerate(LIST_HEADER, start=1):
        sheet.cell(row=3, column=column, value=text).font = Font(bold=True)
    for offset, row in enumerate(LIST_ROWS):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=4 + offset, column=column, value=value)
    workbook.save(HERE / "season_excel_title.xlsx")
    width = len(LIST_HEADER)
    _write_csv(
        HERE / "season_excel_title.csv",
        [[TITLE] + [""] * (width - 1), [""] * width, LIST_HEADER, *LIST_ROWS],
        delimiter=";",
        encoding="utf-8-sig",
    )


def main() -> None:
    """Write every file."""
    google_forms()
    google_forms_finnish()
    microsoft_forms()
    webropol()
    excel_title_row()


if __name__ == "__main__":
    main()

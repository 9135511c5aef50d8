"""Writes the sample participant lists in this folder, shaped like real form-tool exports.

Run `python -m tests.data.make_exports` after changing it; the files are committed so the
tests do not depend on this script. Every person, company and address is invented.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent

FINNISH_PEOPLE = [
    (
        "Aino",
        "Virtanen",
        "aino.virtanen@example.fi",
        "Virtasen Puutyö Oy",
        "Rakentaminen",
        "Turku",
        12,
        "Ryhmä A",
    ),
    (
        "Eero",
        "Mäkelä",
        "eero.makela@example.fi",
        "Mäkelän Konsultointi",
        "Konsultointi",
        "Salo",
        3,
        "Ryhmä B",
    ),
    (
        "Sanna",
        "Järvinen",
        "sanna@jarvinen.example",
        "Hyvinvointi Järvinen, Tmi",
        "Hyvinvointi",
        "Uusikaupunki",
        7,
        "Ryhmä A",
    ),
]


def _write_csv(path: Path, rows: list[list[object]], *, delimiter: str, encoding: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def excel_csv() -> None:
    """Excel's "CSV UTF-8 (comma delimited)" in a Finnish locale: `;`, a BOM, CRLF."""
    header = [
        "Etunimi",
        "Sukunimi",
        "Sähköposti",
        "Yritys",
        "Toimiala",
        "Paikkakunta",
        "Yrittäjävuodet",
        "Ryhmä",
    ]
    _write_csv(
        HERE / "excel_fi.csv",
        [header, *map(list, FINNISH_PEOPLE)],
        delimiter=";",
        encoding="utf-8-sig",
    )


def excel_xlsx() -> None:
    """A workbook saved by Excel with English headers, numbers as numbers, a blank row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Participants"
    sheet.append(
        [
            "Name",
            "Email",
            "Company",
            "Industry",
            "Region",
            "Years as entrepreneur",
            "Group",
            "Language",
        ]
    )
    sheet.append(
        [
            "Laura Nieminen",
            "laura@nieminen.example",
            "Nieminen Design",
            "Design",
            "Turku",
            5,
            "Ryhmä A",
            "English",
        ]
    )
    sheet.append([None] * 8)
    sheet.append(
        [
            "Mikko Heikkinen",
            "MIKKO.HEIKKINEN@example.fi",
            "Heikkisen Leipomo",
            "Food",
            "Loimaa",
            21.0,
            "ryhmä b",
            "suomi",
        ]
    )
    workbook.save(HERE / "excel_en.xlsx")


def google_forms_csv() -> None:
    """Google Forms' "Download responses (.csv)": `,`, a Timestamp column, questions as headers,
    answers with commas and line breaks in quotes."""
    header = [
        "Timestamp",
        "Email address",
        "Full name",
        "Company name",
        "What industry is your business in?",
        "Where is your business based? (municipality)",
        "How many years have you been an entrepreneur?",
        "Which themes would you like to discuss?",
        "What do you hope to get out of the programme?",
        "Which group would you like to join?",
    ]
    rows = [
        [
            "2026/11/20 9:15:32 AM EET",
            "pekka@korhonen.example",
            "Pekka Korhonen",
            "Korhonen IT",
            "IT services",
            "Kaarina",
            "about 8 years",
            "Pricing, time management",
            "New contacts,\nmaybe a business partner",
            "Ryhmä A",
        ],
        [
            "2026/11/21 7:02:10 PM EET",
            "riikka@example.fi",
            "Riikka Laine",
            "Laine & Co",
            "Retail",
            "Naantali",
            "2",
            "Social media; marketing",
            "Someone to talk to",
            "Ryhmä B",
        ],
    ]
    _write_csv(HERE / "google_forms.csv", [header, *rows], delimiter=",", encoding="utf-8")


def google_forms_finnish_csv() -> None:
    """The same export from a Finnish form: Finnish question texts as headers."""
    header = [
        "Aikaleima",
        "Sähköpostiosoite",
        "Nimi",
        "Yrityksen nimi",
        "Millä toimialalla yrityksesi toimii?",
        "Paikkakunta",
        "Kuinka monta vuotta olet toiminut yrittäjänä?",
        "Mistä aiheista haluaisit keskustella?",
        "Mitä toivot saavasi ohjelmasta?",
        "Ryhmä",
    ]
    rows = [
        [
            "20.11.2026 9.15.32",
            "tiina@example.fi",
            "Tiina Salminen",
            "Salmisen Kukka",
            "Kauppa",
            "Raisio",
            "6",
            "Ajanhallinta, hinnoittelu",
            "Uusia yhteistyökumppaneita",
            "Ryhmä B",
        ],
    ]
    _write_csv(HERE / "google_forms_fi.csv", [header, *rows], delimiter=",", encoding="utf-8")


def microsoft_forms_xlsx() -> None:
    """Microsoft Forms' "Open results in Excel": ID, Start time, Completion time, Email, Name,
    then the questions."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(
        [
            "ID",
            "Start time",
            "Completion time",
            "Email",
            "Name",
            "Last modified time",
            "Yrityksen nimi",
            "Toimiala",
            "Kotikunta",
            "Montako vuotta olet ollut yrittäjänä?",
            "Ryhmä",
        ]
    )
    sheet.append(
        [
            1,
            datetime(2026, 11, 20, 9, 14),
            datetime(2026, 11, 20, 9, 16),
            "kari.lehtonen@example.fi",
            "Kari Lehtonen",
            None,
            "Lehtosen Sähkö",
            "Sähköasennus",
            "Parainen",
            15,
            "Ryhmä A",
        ]
    )
    sheet.append(
        [
            2,
            datetime(2026, 11, 21, 12, 0),
            datetime(2026, 11, 21, 12, 5),
            "hanna.koskinen@example.fi",
            "Hanna Koskinen",
            None,
            "Koskinen Kirjanpito",
            "Taloushallinto",
            "Mynämäki",
            4,
            "Ryhmä B",
        ]
    )
    workbook.save(HERE / "microsoft_forms.xlsx")


def webropol_csv() -> None:
    """Webropol's CSV export: UTF-16 with a byte-order mark, `;` between columns."""
    header = [
        "Vastaajan tunnus",
        "Vastausaika",
        "Etunimi",
        "Sukunimi",
        "Sähköpostiosoite",
        "Yritys",
        "Toimiala",
        "Kotikunta",
        "Ryhmä",
    ]
    rows = [
        [
            "1001",
            "20.11.2026 10:01",
            "Päivi",
            "Östman",
            "paivi.ostman@example.fi",
            "Östmanin Ääni Oy",
            "Media",
            "Turku",
            "Ryhmä A",
        ],
        [
            "1002",
            "20.11.2026 11:30",
            "Jussi",
            "Ääritalo",
            "jussi@aaritalo.example",
            "Ääritalo Tmi",
            "Rakentaminen",
            "Lieto",
            "Ryhmä B",
        ],
    ]
    _write_csv(HERE / "webropol.csv", [header, *rows], delimiter=";", encoding="utf-16")


def bad_rows_csv() -> None:
    """A list with one problem per row; `existing@example.fi` is already in the programme."""
    header = ["Nimi", "Sähköposti", "Yritys", "Ryhmä", "Yrittäjävuodet"]
    rows = [
        ["Hyvä Rivi", "hyva@example.fi", "Hyvä Oy", "Ryhmä A", "3"],
        ["Huono Osoite", "huono-osoite", "Huono Oy", "Ryhmä A", "4"],
        ["Väärä Ryhmä", "vaara@example.fi", "Väärä Oy", "Ryhmä Z", "5"],
        ["Tupla Yksi", "tupla@example.fi", "Tupla Oy", "Ryhmä B", "6"],
        ["Tupla Kaksi", "TUPLA@example.fi", "Tupla Oy", "Ryhmä B", "7"],
        ["Jo Mukana", "existing@example.fi", "Vanha Oy", "Ryhmä A", "8"],
        ["", "nimeton@example.fi", "Nimetön Oy", "Ryhmä A", "9"],
        ["Liian Kokenut", "kokenut@example.fi", "Vanha Oy", "Ryhmä A", "120"],
    ]
    _write_csv(HERE / "bad_rows.csv", [header, *rows], delimiter=";", encoding="utf-8-sig")


def main() -> None:
    """Write every file."""
    excel_csv()
    excel_xlsx()
    google_forms_csv()
    google_forms_finnish_csv()
    microsoft_forms_xlsx()
    webropol_csv()
    bad_rows_csv()


if __name__ == "__main__":
    main()

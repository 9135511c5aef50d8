"""Importing participants from real export shapes (Excel, Google Forms, Microsoft Forms,
Webropol) through the upload and preview pages, and choosing their columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import select

from companion.core.db import Db
from companion.privacy.models import AuditEntry
from companion.programmes.models import ImportDraft, Programme
from tests.programmes.importing.conftest import form_of, headers_chosen, people, preview_url

EXPORTS: dict[str, dict[str, dict[str, Any]]] = {
    "excel_fi.csv": {
        "aino.virtanen@example.fi": {
            "name": "Aino Virtanen",
            "company": "Virtasen Puutyö Oy",
            "region": "Turku",
            "years_as_entrepreneur": 12,
            "group": "Ryhmä A",
        },
        "eero.makela@example.fi": {"name": "Eero Mäkelä", "group": "Ryhmä B"},
        "sanna@jarvinen.example": {
            "company": "Hyvinvointi Järvinen, Tmi",
            "years_as_entrepreneur": 7,
        },
    },
    "excel_en.xlsx": {
        "laura@nieminen.example": {"name": "Laura Nieminen", "language": "en", "group": "Ryhmä A"},
        "mikko.heikkinen@example.fi": {
            "name": "Mikko Heikkinen",
            "years_as_entrepreneur": 21,
            "language": "fi",
            "group": "Ryhmä B",
        },
    },
    "google_forms.csv": {
        "pekka@korhonen.example": {
            "name": "Pekka Korhonen",
            "company": "Korhonen IT",
            "industry": "IT services",
            "region": "Kaarina",
            "years_as_entrepreneur": 8,
            "interests": "Pricing, time management",
            "goals": "New contacts,\nmaybe a business partner",
            "group": "Ryhmä A",
        },
        "riikka@example.fi": {"name": "Riikka Laine", "years_as_entrepreneur": 2},
    },
    "google_forms_fi.csv": {
        "tiina@example.fi": {
            "name": "Tiina Salminen",
            "company": "Salmisen Kukka",
            "industry": "Kauppa",
            "region": "Raisio",
            "years_as_entrepreneur": 6,
            "interests": "Ajanhallinta, hinnoittelu",
            "goals": "Uusia yhteistyökumppaneita",
            "group": "Ryhmä B",
        },
    },
    "microsoft_forms.xlsx": {
        "kari.lehtonen@example.fi": {
            "name": "Kari Lehtonen",
            "company": "Lehtosen Sähkö",
            "industry": "Sähköasennus",
            "region": "Parainen",
            "years_as_entrepreneur": 15,
            "group": "Ryhmä A",
        },
        "hanna.koskinen@example.fi": {"name": "Hanna Koskinen", "group": "Ryhmä B"},
    },
    "webropol.csv": {
        "paivi.ostman@example.fi": {
            "name": "Päivi Östman",
            "company": "Östmanin Ääni Oy",
            "region": "Turku",
            "group": "Ryhmä A",
        },
        "jussi@aaritalo.example": {"name": "Jussi Ääritalo", "industry": "Rakentaminen"},
    },
}


@pytest.mark.parametrize("filename", sorted(EXPORTS))
def test_a_real_export_imports_everyone(
    signed_in: FlaskClient,
    programme: Programme,
    fixtures_dir: Path,
    db: Db,
    filename: str,
) -> None:
    expected = EXPORTS[filename]
    url = preview_url(signed_in, programme, fixtures_dir / filename)
    preview = signed_in.get(url)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "Need fixing: 0" in page
    for email in expected:
        assert email in page
    count = len(expected)
    assert f"Import {count} participant" in page
    assert 'value="import"' in page

    response = signed_in.post(url, data={**form_of(page), "action": "import"})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/programmes/{programme.id}/participants"
    imported = people(db, programme)
    assert set(imported) == set(expected)
    for email, fields in expected.items():
        person = imported[email]
        assert person.source == "import"
        for key, value in fields.items():
            actual = [g.name for g in person.groups] if key == "group" else getattr(person, key)
            assert actual == ([value] if key == "group" else value), (email, key)
    listing = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    plural = "participant" if count == 1 else "participants"
    assert f"{count} {plural} imported." in listing
    assert db.scalar(select(ImportDraft)) is None
    audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "participants.import"))
    assert audit.details == {
        "programme_id": programme.id,
        "count": count,
        "updated": 0,
        "left_out": 0,
    }


@pytest.mark.parametrize(
    ("filename", "chosen"),
    [
        (
            "excel_fi.csv",
            {
                "first_name": "Etunimi",
                "last_name": "Sukunimi",
                "email": "Sähköposti",
                "company": "Yritys",
                "industry": "Toimiala",
                "region": "Paikkakunta",
                "years_as_entrepreneur": "Yrittäjävuodet",
                "group": "Ryhmä",
            },
        ),
        (
            "google_forms.csv",
            {
                "name": "Full name",
                "email": "Email address",
                "company": "Company name",
                "industry": "What industry is your business in?",
                "region": "Where is your business based? (municipality)",
                "years_as_entrepreneur": "How many years have you been an entrepreneur?",
                "interests": "Which themes would you like to discuss?",
                "goals": "What do you hope to get out of the programme?",
                "group": "Which group would you like to join?",
            },
        ),
        (
            "google_forms_fi.csv",
            {
                "name": "Nimi",
                "email": "Sähköpostiosoite",
                "company": "Yrityksen nimi",
                "industry": "Millä toimialalla yrityksesi toimii?",
                "region": "Paikkakunta",
                "years_as_entrepreneur": "Kuinka monta vuotta olet toiminut yrittäjänä?",
                "interests": "Mistä aiheista haluaisit keskustella?",
                "goals": "Mitä toivot saavasi ohjelmasta?",
                "group": "Ryhmä",
            },
        ),
    ],
)
def test_columns_are_guessed_from_finnish_and_english_headers(
    signed_in: FlaskClient,
    programme: Programme,
    fixtures_dir: Path,
    filename: str,
    chosen: dict[str, str],
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / filename)
    page = signed_in.get(url).get_data(as_text=True)
    assert headers_chosen(page) == chosen


def test_microsoft_forms_prefers_an_email_column_with_addresses(
    signed_in: FlaskClient, programme: Programme, tmp_path: Path
) -> None:
    # Anonymous Microsoft Forms responses carry "anonymous" in the Email column; the address
    # the person typed is in a question column.
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Start time", "Completion time", "Email", "Name", "Sähköpostiosoite"])
    sheet.append([1, None, None, "anonymous", "", "a@example.fi"])
    sheet.append([2, None, None, "anonymous", "", "b@example.fi"])
    path = tmp_path / "anonymous.xlsx"
    workbook.save(path)
    page = signed_in.get(preview_url(signed_in, programme, path)).get_data(as_text=True)
    assert headers_chosen(page)["email"] == "Sähköpostiosoite"


def test_the_column_choices_can_be_changed(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "google_forms.csv")
    form = form_of(signed_in.get(url).get_data(as_text=True))
    # Point "email" at the name column: every row is now wrong, and says so.
    wrong = {**form, "map_email": form["map_name"], "action": "preview"}
    page = signed_in.post(url, data=wrong).get_data(as_text=True)
    assert "Need fixing: 2" in page
    assert "2 rows are not imported" in page
    # Each row's reason is in the list of rows to fix and again in the table.
    assert page.count("Email: Enter a valid email address.") == 4
    assert headers_chosen(page)["email"] == "Full name"
    # Leave out the company: the rows import without it.
    page = signed_in.post(url, data={**form, "map_company": "", "action": "preview"}).get_data(
        as_text=True
    )
    assert "company" not in headers_chosen(page)
    response = signed_in.post(url, data={**form, "map_company": "", "action": "import"})
    assert response.status_code == 303
    assert {p.company for p in people(db, programme).values()} == {""}


def test_a_missing_name_or_email_column_blocks_the_import(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "google_forms.csv")
    form = form_of(signed_in.get(url).get_data(as_text=True))
    page = signed_in.post(url, data={**form, "map_name": "", "action": "preview"})
    text = page.get_data(as_text=True)
    assert "Choose the columns for: Name." in text
    assert 'value="import"' not in text
    assert "Choose the columns for the name and the email first." in text
    refused = signed_in.post(url, data={**form, "map_name": "", "action": "import"})
    assert refused.status_code == 422
    assert people(db, programme) == {}


def test_rows_without_a_group_take_the_chosen_default(
    signed_in: FlaskClient, programme: Programme, tmp_path: Path, db: Db
) -> None:
    path = tmp_path / "no_groups.csv"
    path.write_text("Nimi;Sähköposti\nAino;aino@example.fi\nEero;eero@example.fi\n")
    url = preview_url(signed_in, programme, path)
    page = signed_in.get(url).get_data(as_text=True)
    assert "2 rows are not imported" in page
    assert page.count("Group: No group given, and no default group chosen.") == 4
    group_b = programme.groups[1]
    form = {**form_of(page), "default_group": str(group_b.id), "action": "import"}
    assert signed_in.post(url, data=form).status_code == 303
    assert {g.name for p in people(db, programme).values() for g in p.groups} == {"Ryhmä B"}

"""Importing participants from real export shapes, through the upload and preview pages."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from companion.accounts.models import Facilitator
from companion.core.db import Db, utcnow
from companion.privacy.models import AuditEntry, Consent
from companion.programmes.models import ImportDraft, Participant, Programme
from companion.programmes.operations import create_group, purge_import_drafts
from companion.programmes.schemas import GroupIn


@pytest.fixture()
def facilitator(make_facilitator: Callable[..., Facilitator]) -> Facilitator:
    return make_facilitator()


@pytest.fixture()
def programme(
    app: Flask, db: Db, make_programme: Callable[..., Programme], facilitator: Facilitator
) -> Programme:
    """A programme with the groups the sample files name: "Ryhmä A" and "Ryhmä B"."""
    programme = make_programme(facilitator=facilitator, groups=0)
    with app.app_context():
        create_group(db, programme, GroupIn(name="Ryhmä A"))
        create_group(db, programme, GroupIn(name="Ryhmä B"))
    db.commit()
    return programme


@pytest.fixture()
def signed_in(
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
) -> FlaskClient:
    return sign_in(client, facilitator)


def upload(client: FlaskClient, programme: Programme, filename: str, data: bytes) -> Any:
    return client.post(
        f"/programmes/{programme.id}/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def preview_url(client: FlaskClient, programme: Programme, path: Path) -> str:
    response = upload(client, programme, path.name, path.read_bytes())
    assert response.status_code == 303, response.get_data(as_text=True)
    location: str = response.headers["Location"]
    assert location.startswith("/imports/")
    return location


def form_of(page: str) -> dict[str, str]:
    """The values a browser would submit from the preview form as it stands."""
    form: dict[str, str] = {}
    for name, options in re.findall(r'<select id="[^"]+" name="(\w+)">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        form[name] = chosen.group(1) if chosen else ""
    if re.search(r'name="consent_collected" checked', page):
        form["consent_collected"] = "on"
    return form


def headers_chosen(page: str) -> dict[str, str]:
    """Field -> the header chosen for it in the preview's column selects."""
    chosen = {}
    for name, options in re.findall(
        r'<select id="[^"]+" name="map_(\w+)">(.*?)</select>', page, re.S
    ):
        match = re.search(r'<option value="\d+" selected>([^<]*)</option>', options)
        if match:  # "Header – first value"
            chosen[name] = html.unescape(match.group(1)).split(" – ")[0]
    return chosen


def people(db: Db, programme: Programme) -> dict[str, Participant]:
    db.expire_all()
    found = db.scalars(select(Participant).where(Participant.programme_id == programme.id))
    return {p.email: p for p in found}


# --- real export shapes -----------------------------------------------------------------------

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
    assert audit.details == {"programme_id": programme.id, "count": count}


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
    assert "2 rows need fixing" in page
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
    assert "The import can start once every row is ready." in text
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
    assert "2 rows need fixing" in page
    assert page.count("Group: No group given, and no default group chosen.") == 4
    group_b = programme.groups[1]
    form = {**form_of(page), "default_group": str(group_b.id), "action": "import"}
    assert signed_in.post(url, data=form).status_code == 303
    assert {g.name for p in people(db, programme).values() for g in p.groups} == {"Ryhmä B"}


# --- bad rows: all or nothing -----------------------------------------------------------------


def test_bad_rows_are_all_listed_and_nothing_is_imported(
    signed_in: FlaskClient,
    programme: Programme,
    fixtures_dir: Path,
    make_participant: Callable[..., Participant],
    db: Db,
) -> None:
    make_participant(programme, email="existing@example.fi", name="Already Here")
    url = preview_url(signed_in, programme, fixtures_dir / "bad_rows.csv")
    page = signed_in.get(url).get_data(as_text=True)
    assert "Ready: 2" in page and "Need fixing: 6" in page
    rows = dict(re.findall(r'<td class="num">(\d+)</td>(.*?)</tr>', page, re.S))
    assert "OK" in rows["2"]
    # Line 5 is fine on its own; its twin on line 6 is the one reported.
    assert "OK" in rows["5"]
    reasons = {
        "3": "Enter a valid email address.",
        "4": "Unknown group “Ryhmä Z”.",
        "6": "Duplicate of line 5.",
        "7": "existing@example.fi is already a participant of this programme.",
        "8": "This field is required.",
        "9": "Enter 80 or less.",
    }
    for line, reason in reasons.items():
        assert reason in rows[line], line
    assert "Nothing is imported while any row has a problem." in page
    assert 'value="import"' not in page

    refused = signed_in.post(url, data={**form_of(page), "action": "import"})
    assert refused.status_code == 422
    assert "6 rows need fixing; nothing was imported." in refused.get_data(as_text=True)
    assert set(people(db, programme)) == {"existing@example.fi"}
    assert db.scalar(select(func.count()).select_from(ImportDraft)) == 1  # can be fixed


def test_consent_collected_by_the_organiser_is_recorded(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "webropol.csv")
    form = form_of(signed_in.get(url).get_data(as_text=True))
    signed_in.post(url, data={**form, "consent_collected": "on", "action": "import"})
    consents = db.scalars(select(Consent)).all()
    assert len(consents) == 2
    assert {(c.purpose, c.source, c.text_version) for c in consents} == {
        ("programme", "import", "organiser-collected")
    }
    assert all(c.given_at is not None for c in consents)


# --- files that cannot be read ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("old.xls", b"\xd0\xcf\x11\xe0 old excel", "Old .xls files are not supported."),
        ("scan.pdf", b"%PDF-1.7", "Upload a CSV or Excel (.xlsx) file."),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a readable Excel (.xlsx)"),
        ("fake.xlsx", b"just text", "not a readable Excel (.xlsx)"),
        ("header.csv", b"Name;Email\n", "a header row and at least one participant"),
        ("binary.csv", bytes(range(128, 256)) * 10, "encoding is not recognised"),
        (
            "huge.csv",
            b"Name;Email\n" + b"".join(b"P%d;p%d@example.fi\n" % (i, i) for i in range(2001)),
            "At most 2000 participants",
        ),
        ("wide.csv", b";".join([b"c"] * 101) + b"\n" + b"x\n", "more than 100 columns"),
        ("cell.csv", b"Name\n" + b"x" * 200_000 + b"\n", "The CSV file could not be read"),
    ],
)
def test_unreadable_files_get_a_reason(
    signed_in: FlaskClient,
    programme: Programme,
    db: Db,
    filename: str,
    data: bytes,
    message: str,
) -> None:
    response = upload(signed_in, programme, filename, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert db.scalar(select(func.count()).select_from(ImportDraft)) == 0


def test_an_xlsx_that_is_some_other_zip(
    signed_in: FlaskClient, programme: Programme, tmp_path: Path
) -> None:
    import zipfile

    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff")
    response = upload(signed_in, programme, path.name, path.read_bytes())
    assert response.status_code == 422
    assert "not a readable Excel (.xlsx) workbook" in response.get_data(as_text=True)


def test_no_file_chosen(signed_in: FlaskClient, programme: Programme) -> None:
    response = signed_in.post(f"/programmes/{programme.id}/import", data={})
    assert response.status_code == 422
    assert "Choose a file to upload." in response.get_data(as_text=True)
    page = signed_in.get(f"/programmes/{programme.id}/import").get_data(as_text=True)
    assert '<label for="f-file">' in page


def test_a_too_large_upload_is_refused_kindly(signed_in: FlaskClient, programme: Programme) -> None:
    # Encoded in memory: the test client would otherwise spool it to a file it never closes.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(b"x" * (11 * 1024 * 1024)), "big.csv")}
    )
    response = signed_in.post(
        f"/programmes/{programme.id}/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "Please send a smaller file." in response.get_data(as_text=True)


def test_control_characters_in_a_file_are_dropped(
    signed_in: FlaskClient, programme: Programme, db: Db
) -> None:
    data = "Nimi;Sähköposti;Ryhmä\nAi\x00no\x07;aino@example.fi;Ryhmä A\n".encode()
    response = upload(signed_in, programme, "nul.csv", data)
    url = response.headers["Location"]
    form = form_of(signed_in.get(url).get_data(as_text=True))
    assert signed_in.post(url, data={**form, "action": "import"}).status_code == 303
    assert people(db, programme)["aino@example.fi"].name == "Aino"


def test_utf16_without_a_byte_order_mark(
    signed_in: FlaskClient, programme: Programme, db: Db
) -> None:
    data = "Nimi;Sähköposti;Ryhmä\r\nÄijä Öörni;aija@example.fi;Ryhmä A\r\n".encode("utf-16-le")
    response = upload(signed_in, programme, "webropol.csv", data)
    url = response.headers["Location"]
    form = form_of(signed_in.get(url).get_data(as_text=True))
    assert signed_in.post(url, data={**form, "action": "import"}).status_code == 303
    assert people(db, programme)["aija@example.fi"].name == "Äijä Öörni"


def test_excel_sep_line_and_windows_1252(
    signed_in: FlaskClient, programme: Programme, db: Db
) -> None:
    data = "sep=;\r\nNimi;Sähköposti;Ryhmä\r\nMäki, Eero;eero@example.fi;Ryhmä B\r\n".encode(
        "cp1252"
    )
    response = upload(signed_in, programme, "excel.csv", data)
    url = response.headers["Location"]
    form = form_of(signed_in.get(url).get_data(as_text=True))
    assert signed_in.post(url, data={**form, "action": "import"}).status_code == 303
    assert people(db, programme)["eero@example.fi"].name == "Mäki, Eero"


@pytest.mark.parametrize("value", ["²", "-1", "999", "1e3", "9" * 5000, "x"])
def test_odd_form_values_on_the_preview_are_ignored(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, value: str
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "excel_fi.csv")
    response = signed_in.post(
        url, data={"map_email": value, "default_group": value, "action": "import"}
    )
    assert response.status_code == 422


# --- whose draft, for how long ----------------------------------------------------------------


def test_a_draft_is_only_its_uploaders(
    signed_in: FlaskClient,
    app: Flask,
    programme: Programme,
    fixtures_dir: Path,
    facilitator: Facilitator,
    make_facilitator: Callable[..., Facilitator],
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "excel_fi.csv")
    colleague = make_facilitator(organisation=facilitator.organisation, admin=True)
    stranger = make_facilitator()
    for other in (colleague, stranger):
        client = sign_in(app.test_client(), other)
        response = client.get(url)
        assert response.status_code == 404
        assert "aino" not in response.get_data(as_text=True).lower()
        assert client.post(url, data={"action": "import"}).status_code == 404
    assert signed_in.get("/imports/not-a-real-token").status_code == 404


def test_old_drafts_expire_and_are_purged(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "excel_fi.csv")
    draft = db.scalar(select(ImportDraft))
    draft.created_at = utcnow() - timedelta(days=2)
    db.commit()
    response = signed_in.get(url)
    assert response.status_code == 404
    assert "This import has expired. Please upload the file again." in response.get_data(
        as_text=True
    )
    purge_import_drafts(db)
    db.commit()
    assert db.scalar(select(func.count()).select_from(ImportDraft)) == 0

"""Imports that follow a form over a season, each from a real export shape: the grown export
skips or updates those already in, a consent column keeps out rows without consent, and a
title row above the header is stepped over."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.core.db import Db
from companion.privacy.models import Consent
from companion.programmes.import_rows import consent_answer
from companion.programmes.models import ImportDraft, Participant, Programme
from tests.programmes.importing.conftest import form_of, headers_chosen, people, preview_url


def rows_of(page: str) -> dict[str, str]:
    """Line -> what the preview says happens to it."""
    return {
        line: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cells)).strip()
        for line, cells in re.findall(
            r'<td class="num">(\d+)</td>(?:.*?<td>){5}(.*?)</td>\s*</tr>', page, re.S
        )
    }


def import_file(
    client: FlaskClient, programme: Programme, path: Path, **changes: str
) -> tuple[str, str]:
    """Upload, take the preview's choices (with `changes`) and import: (url, preview page)."""
    url = preview_url(client, programme, path)
    page = client.get(url).get_data(as_text=True)
    form = {k: v for k, v in form_of(page).items() if k != "consent_collected"}
    response = client.post(url, data={**form, **changes, "action": "import"})
    assert response.status_code == 303, response.get_data(as_text=True)
    return url, page


def groups_of(person: Participant) -> list[str]:
    return sorted(g.name for g in person.groups)


def consent_versions(db: Db, person: Participant) -> list[tuple[str, str]]:
    return [
        (c.source, c.text_version)
        for c in db.scalars(select(Consent).where(Consent.participant_id == person.id))
    ]


def test_google_forms_grown_export_skips_those_already_in(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    import_file(signed_in, programme, fixtures_dir / "season_google_v1.csv")
    before = people(db, programme)
    assert {e: p.company for e, p in before.items()} == {
        "pekka@korhonen.example": "Korhonen IT",
        "riikka@example.fi": "Laine & Co",
    }
    assert consent_versions(db, before["riikka@example.fi"]) == [("import", "form-answer")]

    url = preview_url(signed_in, programme, fixtures_dir / "season_google_v2.csv")
    page = signed_in.get(url).get_data(as_text=True)
    assert headers_chosen(page)["consent"].startswith("I agree that my details")
    rows = rows_of(page)
    assert rows["2"] == "Already in the programme: skipped"
    assert rows["3"] == "Already in the programme: skipped"  # "Riikka@Example.fi"
    assert rows["4"] == "New participant"
    assert rows["5"] == "No consent on this row: not imported."
    assert "Enter a valid email address." in rows["6"]
    assert "New: 1" in page and "Already in, skipped: 2" in page and "No consent: 1" in page
    # A consent column replaces the box for the whole file.
    assert 'name="consent_collected"' not in page

    form = {**form_of(page), "action": "import"}
    del form["consent_collected"]
    response = signed_in.post(url, data=form)
    assert response.status_code == 303
    after = people(db, programme)
    assert set(after) == {*before, "olli@virta.example"}
    riikka = after["riikka@example.fi"]
    assert (riikka.company, groups_of(riikka)) == ("Laine & Co", ["Ryhmä B"])
    assert after["olli@virta.example"].name == "Olli Virta"
    assert groups_of(after["olli@virta.example"]) == ["Ryhmä B"]
    result = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 participant imported." in result
    assert "2 already in the programme, skipped." in result
    assert "2 rows were not imported" in result
    assert "No consent on this row: not imported." in result


def test_google_forms_grown_export_updates_when_chosen(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    import_file(signed_in, programme, fixtures_dir / "season_google_v1.csv")
    url = preview_url(signed_in, programme, fixtures_dir / "season_google_v2.csv")
    form = form_of(signed_in.get(url).get_data(as_text=True))
    page = signed_in.post(url, data={**form, "existing": "update", "action": "preview"})
    rows = rows_of(page.get_data(as_text=True))
    assert rows["2"] == "Already in the programme: nothing to update"
    assert rows["3"] == "Already in the programme: updated Company, Group"
    text = page.get_data(as_text=True)
    assert 'value="update" checked' in text
    assert "To update: 1" in text and "Already in, skipped: 1" in text and "New: 1" in text
    assert "Import 1 new and update 1" in text

    response = signed_in.post(url, data={**form, "existing": "update", "action": "import"})
    assert response.status_code == 303
    riikka = people(db, programme)["riikka@example.fi"]
    assert (riikka.name, riikka.company, groups_of(riikka)) == (
        "Riikka Laine",
        "Laine Design Oy",
        ["Ryhmä A"],
    )
    assert people(db, programme)["pekka@korhonen.example"].company == "Korhonen IT"
    assert len(people(db, programme)) == 3
    result = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 participant updated." in result
    assert "1 already in the programme, skipped." in result  # Pekka: nothing to change


def test_google_forms_finnish_consent_answers(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    url, page = import_file(signed_in, programme, fixtures_dir / "season_google_fi.csv")
    assert headers_chosen(page)["consent"].startswith("Hyväksyn tietojeni")
    assert headers_chosen(page)["email"] == "Sähköpostiosoite"
    landed = people(db, programme)
    assert set(landed) == {"tiina@example.fi"}
    assert landed["tiina@example.fi"].name == "Tiina Salminen"
    assert consent_versions(db, landed["tiina@example.fi"]) == [("import", "form-answer")]
    result = signed_in.get(url).get_data(as_text=True)
    assert "ville@example.fi" in result and "No consent on this row" in result


def test_microsoft_forms_grown_export_matches_case_and_spaces_and_updates(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    _url, page = import_file(signed_in, programme, fixtures_dir / "season_microsoft_v1.xlsx")
    # Anonymous responses: "anonymous" in Email and an empty Name; the answers are used.
    assert headers_chosen(page)["name"] == "Nimi"
    assert headers_chosen(page)["email"] == "Sähköpostiosoite"
    assert {e: p.name for e, p in people(db, programme).items()} == {
        "kari.lehtonen@example.fi": "Kari Lehtonen",
        "hanna.koskinen@example.fi": "Hanna Koskinen",
    }

    url = preview_url(signed_in, programme, fixtures_dir / "season_microsoft_v2.xlsx")
    form = form_of(signed_in.get(url).get_data(as_text=True))
    page = signed_in.post(url, data={**form, "existing": "update", "action": "preview"})
    rows = rows_of(page.get_data(as_text=True))
    assert rows == {
        "2": "Already in the programme: nothing to update",
        "3": "New participant",
        "4": "Already in the programme: updated Company, Group",
        "5": "No consent on this row: not imported.",
    }
    signed_in.post(url, data={**form, "existing": "update", "action": "import"})
    landed = people(db, programme)
    assert set(landed) == {
        "kari.lehtonen@example.fi",
        "hanna.koskinen@example.fi",
        "jari@aalto.example",
    }
    kari = landed["kari.lehtonen@example.fi"]
    assert (kari.name, kari.company, groups_of(kari)) == (
        "Kari Lehtonen",
        "Lehtonen Electric Oy",
        ["Ryhmä B"],
    )
    assert landed["hanna.koskinen@example.fi"].company == "Koskinen Kirjanpito"


def test_webropol_consent_checkbox(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    _url, page = import_file(signed_in, programme, fixtures_dir / "season_webropol.csv")
    assert headers_chosen(page)["consent"] == "Annan suostumukseni tietojeni käsittelyyn"
    landed = people(db, programme)
    assert {e: (p.name, p.company) for e, p in landed.items()} == {
        "paivi.ostman@example.fi": ("Päivi Östman", "Östmanin Ääni Oy"),
        "aada@ohman.example": ("Aada Öhman", "Öhmanin Öljy"),
    }


@pytest.mark.parametrize("filename", ["season_excel_title.xlsx", "season_excel_title.csv"])
def test_finnish_excel_list_with_a_title_row(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db, filename: str
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / filename)
    page = signed_in.get(url).get_data(as_text=True)
    assert '<option value="3" selected>Line 3: Etunimi · Sukunimi' in page
    assert "Osallistujalista kevät 2027" not in rows_of(page).values()
    assert set(rows_of(page)) == {"4", "5", "6"}  # the lines as Excel numbers them
    assert headers_chosen(page)["consent"] == "Suostumus"
    form = {**form_of(page), "action": "import"}
    del form["consent_collected"]
    assert signed_in.post(url, data=form).status_code == 303
    landed = people(db, programme)
    assert {e: (p.name, p.phone, groups_of(p)) for e, p in landed.items()} == {
        "aino.virtanen@example.fi": ("Aino Virtanen", "040 123 4567", ["Ryhmä A"]),
        "eero.makela@example.fi": ("Eero Mäkelä", "050 765 4321", ["Ryhmä B"]),
    }
    result = signed_in.get(url).get_data(as_text=True)
    assert re.search(r'<td class="num">6</td><td>Sanna Järvinen</td>', result)


def test_another_header_row_can_be_chosen(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "season_excel_title.csv")
    form = form_of(signed_in.get(url).get_data(as_text=True))
    assert form["header_line"] == "3"
    # The title row as the header: its columns are guessed anew, and nothing fits.
    page = signed_in.post(
        url, data={**form, "header_line": "1", "mapped_header": "3", "action": "preview"}
    ).get_data(as_text=True)
    assert '<option value="1" selected>Line 1: Osallistujalista kevät 2027' in page
    assert headers_chosen(page) == {}
    assert "Choose the columns for: Email, Name." in page
    # And back: the columns of line 3 again.
    page = signed_in.post(
        url, data={**form_of(page), "header_line": "3", "mapped_header": "1", "action": "preview"}
    ).get_data(as_text=True)
    assert headers_chosen(page)["email"] == "Sähköposti"
    assert set(rows_of(page)) == {"4", "5", "6"}


def test_without_a_consent_column_the_box_is_needed(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "season_excel_title.csv")
    form = {**form_of(signed_in.get(url).get_data(as_text=True)), "map_consent": ""}
    del form["consent_collected"]
    refused = signed_in.post(url, data={**form, "action": "import"})
    assert refused.status_code == 422
    assert "Confirm that these people agreed" in refused.get_data(as_text=True)
    assert people(db, programme) == {}
    response = signed_in.post(url, data={**form, "consent_collected": "on", "action": "import"})
    assert response.status_code == 303
    landed = people(db, programme)
    assert len(landed) == 3  # the consent column's "ei" is not read: the box covers the list
    assert consent_versions(db, landed["sanna@jarvinen.example"]) == [
        ("import", "organiser-collected")
    ]


@pytest.mark.parametrize(
    ("value", "answer"),
    [
        ("I agree", True),
        ("Hyväksyn", True),
        ("Hyväksyn;", True),
        ("Suostun", True),
        ("kyllä", True),
        ("Yes", True),
        ("x", True),
        ("X", True),
        ("TRUE", True),
        ("1", True),
        ("checked", True),
        ("", False),
        ("ei", False),
        ("En hyväksy", False),
        ("No", False),
        ("0", False),
        ("FALSE", False),
        ("maybe later", None),
    ],
)
def test_consent_answers(value: str, answer: bool | None) -> None:
    assert consent_answer(value) is answer


def test_a_draft_from_before_title_rows_still_reads(
    signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "excel_fi.csv")
    draft = db.scalar(select(ImportDraft))
    cells = draft.table["cells"]
    draft.table = {"headers": cells[0], "rows": cells[1:]}
    db.commit()
    page = signed_in.get(url).get_data(as_text=True)
    assert "New: 3" in page

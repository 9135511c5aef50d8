"""An import with bad rows imports the good ones and lists the rest to fix, also as a CSV file;
consent the organiser collected is recorded."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select

from companion.core.db import Db
from companion.privacy.models import AuditEntry, Consent
from companion.programmes.models import ImportDraft, Participant, Programme
from tests.programmes.importing.conftest import form_of, people, preview_url


def test_good_rows_land_and_bad_rows_are_listed_to_fix(
    signed_in: FlaskClient,
    programme: Programme,
    fixtures_dir: Path,
    make_participant: Callable[..., Participant],
    db: Db,
) -> None:
    make_participant(programme, email="existing@example.fi", name="Already Here")
    url = preview_url(signed_in, programme, fixtures_dir / "bad_rows.csv")
    page = signed_in.get(url).get_data(as_text=True)
    assert "New: 2" in page and "Already in, skipped: 1" in page and "Need fixing: 5" in page
    rows = dict(re.findall(r'<td class="num">(\d+)</td>(.*?)</tr>', page, re.S))
    assert "New participant" in rows["2"]
    # Line 5 is fine on its own; its twin on line 6 is the one reported.
    assert "New participant" in rows["5"]
    assert "Already in the programme: skipped" in rows["7"]
    reasons = {
        "3": "Enter a valid email address.",
        "4": "Unknown group “Ryhmä Z”.",
        "6": "Duplicate of line 5.",
        "8": "This field is required.",
        "9": "Enter 80 or less.",
    }
    for line, reason in reasons.items():
        assert reason in rows[line], line
    assert "Import 2 participants" in page

    response = signed_in.post(url, data={**form_of(page), "action": "import"})
    assert response.status_code == 303
    assert response.headers["Location"] == url
    assert set(people(db, programme)) == {
        "existing@example.fi",
        "hyva@example.fi",
        "tupla@example.fi",
    }
    assert people(db, programme)["existing@example.fi"].name == "Already Here"
    result = signed_in.get(url).get_data(as_text=True)
    assert "2 participants imported." in result
    assert "1 already in the programme, skipped." in result
    assert "5 rows were not imported" in result
    left = dict(re.findall(r'<td class="num">(\d+)</td>(.*?)</tr>', result, re.S))
    assert set(left) == set(reasons)
    for line, reason in reasons.items():
        assert reason in left[line], line

    download = signed_in.get(url + "?download=csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    lines = download.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == "Line;Reason;Nimi;Sähköposti;Yritys;Ryhmä;Yrittäjävuodet"
    assert lines[1].startswith("3;")
    assert lines[1].endswith(";Huono Osoite;huono-osoite;Huono Oy;Ryhmä A;4")
    assert [line.split(";")[0] for line in lines[1:]] == ["3", "4", "6", "8", "9"]

    # The import is done: sending the form again imports nothing twice.
    again = signed_in.post(url, data={**form_of(page), "action": "import"})
    assert again.status_code == 200
    assert len(people(db, programme)) == 3
    audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "participants.import"))
    assert audit.details == {
        "programme_id": programme.id,
        "count": 2,
        "updated": 0,
        "left_out": 5,
    }


def test_nothing_to_import_is_refused(
    signed_in: FlaskClient,
    programme: Programme,
    fixtures_dir: Path,
    db: Db,
) -> None:
    url = preview_url(signed_in, programme, fixtures_dir / "excel_fi.csv")
    form = form_of(signed_in.get(url).get_data(as_text=True))
    assert signed_in.post(url, data={**form, "action": "import"}).status_code == 303
    again = preview_url(signed_in, programme, fixtures_dir / "excel_fi.csv")
    page = signed_in.get(again).get_data(as_text=True)
    assert "Already in, skipped: 3" in page and "New: 0" in page
    assert 'value="import"' not in page
    refused = signed_in.post(again, data={**form, "action": "import"})
    assert refused.status_code == 422
    assert "No row of the file is to be imported or updated." in refused.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(ImportDraft)) == 1


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

"""An import with bad rows lists every one and imports nothing; consent the organiser collected
is recorded."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import func, select

from companion.core.db import Db
from companion.privacy.models import Consent
from companion.programmes.models import ImportDraft, Participant, Programme
from tests.programmes.importing.conftest import form_of, people, preview_url


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

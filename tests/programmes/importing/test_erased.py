"""Someone who asked to be erased is not brought back by importing the grown form export that
still lists them: the preview says why, in both languages, and the others import."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

from companion.core.db import Db
from companion.privacy.erasure import erase_participant
from companion.privacy.models import AuditEntry, ErasedAddress
from companion.programmes.import_rows import erased_reason
from companion.programmes.models import ERASED, ImportDraft, Participant, Programme
from tests.programmes.importing.conftest import form_of, people, preview_url
from tests.programmes.importing.test_season import import_file, rows_of

REASON = (
    "Asked to be erased from this programme: not imported. They can join again by signing up "
    "themselves through the programme's survey."
)


def _erase_pekka(app: Flask, db: Db, programme: Programme) -> None:
    pekka = people(db, programme)["pekka@korhonen.example"]
    with app.app_context():
        erase_participant(db, pekka)
    db.commit()


def test_the_grown_export_does_not_bring_back_someone_erased(
    app: Flask, signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    import_file(signed_in, programme, fixtures_dir / "season_google_v1.csv")
    _erase_pekka(app, db, programme)
    assert db.scalar(select(ErasedAddress.programme_id)) == programme.id

    url = preview_url(signed_in, programme, fixtures_dir / "season_google_v2.csv")
    page = signed_in.get(url).get_data(as_text=True)
    rows = rows_of(page)
    assert rows["2"] == REASON.replace("'", "&#39;")
    assert rows["3"] == "Already in the programme: skipped"
    assert rows["4"] == "New participant"
    assert "Asked to be erased: 1" in page and "New: 1" in page
    assert 'data-status="erased"' in page

    form = {**form_of(page), "action": "import"}
    del form["consent_collected"]
    response = signed_in.post(url, data=form)
    assert response.status_code == 303
    after = people(db, programme)
    assert "pekka@korhonen.example" not in after
    assert "olli@virta.example" in after
    assert sum(1 for p in after.values() if p.source == ERASED) <= 1
    # Their row is counted, not kept in the list of rows to fix.
    db.expire_all()
    draft = db.scalar(select(ImportDraft).where(ImportDraft.programme_id == programme.id))
    assert draft is not None
    done = draft.table["done"]
    assert done["erased"] == 1
    assert all(row["email"] != "pekka@korhonen.example" for row in done["left_out"])
    audit = db.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "participants.import")
        .order_by(AuditEntry.id.desc())
    )
    assert audit is not None and audit.details["erased"] == 1
    result = signed_in.get(url).get_data(as_text=True)
    assert "1 asked to be erased from the programme: not imported." in result


def test_only_the_erased_row_stays_out_when_all_else_is_in(
    app: Flask, signed_in: FlaskClient, programme: Programme, fixtures_dir: Path, db: Db
) -> None:
    import_file(signed_in, programme, fixtures_dir / "season_google_v1.csv")
    _erase_pekka(app, db, programme)
    url = preview_url(signed_in, programme, fixtures_dir / "season_google_v1.csv")
    page = signed_in.get(url).get_data(as_text=True)
    assert rows_of(page)["2"].startswith("Asked to be erased from this programme")
    assert "No row of the file is to be imported or updated." in page
    assert (
        db.scalar(select(Participant).where(Participant.email == "pekka@korhonen.example")) is None
    )


def test_the_reason_is_in_finnish_too(app: Flask) -> None:
    with app.test_request_context():
        with force_locale("en"):
            english = erased_reason()
        with force_locale("fi"):
            finnish = erased_reason()
    assert english == REASON
    assert finnish != english and "poist" in finnish.lower()

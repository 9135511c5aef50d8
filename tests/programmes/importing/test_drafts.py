"""An import draft belongs to its uploader and expires."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from companion.accounts.models import Facilitator
from companion.core.db import Db, utcnow
from companion.programmes.import_drafts import purge_import_drafts
from companion.programmes.models import ImportDraft, Programme
from tests.programmes.importing.conftest import preview_url


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

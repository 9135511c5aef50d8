"""A programme cannot be created on a platform that is not set up (Zoom without its app's
credentials): the form says what is missing and does not offer it, and a posted form or an
API call naming it is refused with the same words."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from companion.core.db import Db
from companion.programmes.models import Programme
from tests.integrations.zoom.conftest import zoom_config  # noqa: F401

MISSING = (
    "Zoom is not set up on this Kollega yet: an administrator must set "
    "COMPANION_ZOOM_CLIENT_ID, COMPANION_ZOOM_CLIENT_SECRET (see the installation guide)."
)
FORM = {"name": "Autumn round", "language": "en", "timezone": "Europe/Helsinki"}


def _count(db: Db) -> int:
    return int(db.scalar(select(func.count()).select_from(Programme)) or 0)


def test_zoom_without_credentials_is_explained_and_refused(
    client: FlaskClient, db: Db, sign_in: Any, make_facilitator: Any
) -> None:
    sign_in(client, make_facilitator())
    page = client.get("/programmes/new?lang=en").get_data(as_text=True)
    assert '<option value="zoom"' not in page
    assert '<option value="jitsi"' in page
    assert MISSING in page

    posted = client.post("/programmes/new?lang=en", data={**FORM, "platform": "zoom"})
    assert posted.status_code == 422
    assert MISSING in posted.get_data(as_text=True)
    api = client.post("/api/v1/programmes?lang=en", json={**FORM, "platform": "zoom"})
    assert api.status_code == 422
    assert api.get_json()["errors"] == [{"field": "platform", "message": MISSING}]
    assert _count(db) == 0

    finnish = client.get("/programmes/new?lang=fi").get_data(as_text=True)
    assert "Zoom ei ole vielä käytössä tässä Kollegassa" in finnish


def test_zoom_with_credentials_is_offered(
    app: Flask,
    client: FlaskClient,
    db: Db,
    sign_in: Any,
    make_facilitator: Any,
    zoom_config: Any,  # noqa: F811
) -> None:
    zoom_config(zoom_client_id="client-id", zoom_client_secret="client-secret")
    sign_in(client, make_facilitator())
    page = client.get("/programmes/new?lang=en").get_data(as_text=True)
    assert '<option value="zoom"' in page
    assert "Zoom is not set up on this Kollega" not in page  # (Teams, not configured, is)
    created = client.post("/programmes/new?lang=en", data={**FORM, "platform": "zoom"})
    assert created.status_code == 303
    assert db.scalar(select(Programme.platform)) == "zoom"

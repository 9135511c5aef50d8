"""A programme with the groups the sample exports name, its facilitator signed in, and helpers
that drive the import pages: upload a file, read the preview form, list who was imported."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.programmes.models import Participant, Programme
from companion.programmes.operations import create_group
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
    """The values a browser would submit from the preview form as it stands, with the box
    confirming the consents ticked (nothing is imported without it)."""
    form: dict[str, str] = {"consent_collected": "on"}
    for name, options in re.findall(
        r'<select id="[^"]+" name="(\w+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        form[name] = chosen.group(1) if chosen else ""
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

"""An observer of the programme sees the expert of a talk by name, not their address
(Capability.CONTACT_DETAILS): neither on the talk's page nor in the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.operations import grant_programme
from companion.accounts.roles import Role
from companion.core.db import Db
from companion.programmes.models import Programme
from tests.conftest import _Client
from tests.experts.conftest import Talk

EMAIL = "eeva@asiantuntija.fi"


def _observer(
    app: Flask,
    db: Db,
    talk: Talk,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> FlaskClient:
    programme = talk.world.programme
    observer = make_facilitator(organisation=programme.organisation, name="Otto Observer")
    with app.app_context():
        held = db.get(Programme, programme.id)
        assert held is not None
        grant_programme(db, db.merge(observer), held, Role.OBSERVER)
        db.commit()
    app.test_client_class = _Client
    made = app.test_client()
    made.test_db = db  # type: ignore[attr-defined]
    return sign_in(made, db.merge(observer))


def test_an_observer_sees_the_expert_without_their_address(
    app: Flask,
    db: Db,
    talk: Talk,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    talk.invite(EMAIL)
    owner = talk.world.client("facilitator")
    page_url, api_url = f"/agenda/{talk.item.id}/expert", f"/api/v1/agenda/{talk.item.id}/expert"
    assert EMAIL in owner.get(page_url).get_data(as_text=True)
    assert owner.get(api_url).get_json()["email"] == EMAIL
    observer = _observer(app, db, talk, make_facilitator, sign_in)
    page = observer.get(page_url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Eeva Asiantuntija" in text and EMAIL not in text
    shown = observer.get(api_url)
    assert shown.status_code == 200
    assert shown.get_json()["name"] == "Eeva Asiantuntija"
    assert shown.get_json()["email"] is None

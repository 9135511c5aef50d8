"""The team page: who has access to what, and closing an account ends its access at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.identity import AccountsIdentity, Actor, facilitator_token
from companion.accounts.models import Facilitator
from companion.core.db import Db
from tests.factories import PASSWORD


def test_the_team_page_shows_who_has_access_to_what(
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    admin = make_facilitator(admin=True, name="Ada Admin")
    fia = make_facilitator(organisation=admin.organisation, name="Fia Facilitator")
    make_programme(facilitator=fia, name="Kasvupolku 2027")
    outsider = make_facilitator(name="Oscar Outside")
    make_programme(facilitator=outsider, name="Not theirs")
    sign_in(client, admin)
    page = client.get("/team").get_data(as_text=True)
    assert "Ada Admin" in page and "Fia Facilitator" in page
    assert "Kasvupolku 2027" in page
    assert "Oscar Outside" not in page and "Not theirs" not in page
    assert "All programmes of the organisation" in page
    assert 'href="/team"' in page  # the admin's menu


def test_deactivation_ends_access_everywhere(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    admin = make_facilitator(admin=True)
    fia = make_facilitator(organisation=admin.organisation, email="fia@example.org")
    browser = sign_in(app.test_client(), fia)
    with app.app_context():
        bearer = {"Authorization": f"Bearer {facilitator_token(fia)}"}
    assert browser.get("/programmes").status_code == 200
    assert app.test_client().get("/api/v1/programmes", headers=bearer).status_code == 200
    # What a live connection was opened with (the live server checks it on every message).
    live = AccountsIdentity()
    with app.app_context():
        reference = live.reference(db, Actor(facilitator=fia))
        assert live.resolve(db, reference) is not None

    sign_in(client, admin)
    assert client.post(f"/team/{fia.id}/deactivate").status_code == 303
    assert browser.get("/programmes").status_code == 302
    assert app.test_client().get("/api/v1/programmes", headers=bearer).status_code == 401
    db.rollback()
    with app.app_context():
        assert live.resolve(db, reference) is None
    signing_in = {"email": "fia@example.org", "password": PASSWORD}
    assert app.test_client().post("/sign-in", data=signing_in).status_code == 401
    assert "Deactivated" in client.get("/team").get_data(as_text=True)

    # Reactivated, they sign in anew; the old cookie and token stay dead.
    assert client.post(f"/team/{fia.id}/reactivate").status_code == 303
    assert browser.get("/programmes").status_code == 302
    assert app.test_client().get("/api/v1/programmes", headers=bearer).status_code == 401
    assert app.test_client().post("/sign-in", data=signing_in).status_code == 303


def test_admins_manage_only_their_own_team(
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    admin = make_facilitator(admin=True)
    outsider = make_facilitator()
    sign_in(client, admin)
    assert client.post(f"/team/{outsider.id}/deactivate").status_code == 404
    assert client.post(f"/team/{admin.id}/deactivate").status_code == 409
    db.rollback()
    assert db.get(Facilitator, outsider.id).active  # type: ignore[union-attr]
    assert db.get(Facilitator, admin.id).active  # type: ignore[union-attr]


def test_non_admins_cannot_deactivate(
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    admin = make_facilitator(admin=True)
    fia = make_facilitator(organisation=admin.organisation)
    sign_in(client, fia)
    assert client.post(f"/team/{admin.id}/deactivate").status_code == 403
    assert 'href="/team"' not in client.get("/programmes").get_data(as_text=True)
    db.rollback()
    assert db.get(Facilitator, admin.id).active  # type: ignore[union-attr]

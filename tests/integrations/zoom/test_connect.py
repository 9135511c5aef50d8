"""Connecting a facilitator's Zoom account: the browser's round trip, sign-in, disconnect."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from companion.core.crypto import decrypt_secret
from companion.core.db import Db
from integrations.zoom.models import ConnectionStatus, ZoomConnection
from tests.factories import PASSWORD
from tests.fakes.zoom import FakeZoom


def _follow_to_zoom_and_back(client: FlaskClient, response: Any) -> Any:
    """The browser's hops: our redirect to Zoom's authorise page, Zoom's redirect back."""
    assert response.status_code == 303
    at_zoom = requests.get(response.headers["Location"], allow_redirects=False, timeout=5)
    assert at_zoom.status_code == 302, at_zoom.text
    back = urlsplit(at_zoom.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_connect_flow_through_the_browser_redirects(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
) -> None:
    facilitator = make_facilitator()
    sign_in(client, facilitator)
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "Connect Zoom" in page
    answer = _follow_to_zoom_and_back(client, client.post("/integrations/zoom/connect"))
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/integrations/zoom/connection")
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "Zoom is connected as host@example.com" in page and "Disconnect Zoom" in page

    # PKCE (NOTES §1.1): S256 challenge at authorise, verifier at the token endpoint; the fake
    # checks they match and would have answered invalid_grant otherwise.
    authorise = zoom.requests_to("GET", "/oauth/authorize")[0]
    assert authorise.query["code_challenge_method"] == ["S256"]
    assert authorise.query["state"][0]
    token_request = zoom.requests_to("POST", "/oauth/token")[0]
    assert token_request.form["grant_type"] == "authorization_code"
    assert token_request.form["code_verifier"]
    assert token_request.auth_scheme == "basic"
    assert zoom.token_log[0]["status"] == 200

    row = db.query(ZoomConnection).one()
    assert row.facilitator_id == facilitator.id
    assert row.zoom_user_id == zoom.default_user.id and row.zoom_email == "host@example.com"
    assert row.status == ConnectionStatus.CONNECTED
    assert zoom.token_is_valid(decrypt_secret(app.extensions["companion.config"], row.access_token))


def test_a_callback_with_another_state_is_refused(
    app: Flask, db: Db, client: FlaskClient, sign_in: Any, zoom: FakeZoom, make_facilitator: Any
) -> None:
    sign_in(client, make_facilitator())
    started = client.post("/integrations/zoom/connect")
    at_zoom = requests.get(started.headers["Location"], allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(at_zoom.headers["Location"]).query)
    answer = client.get(f"/integrations/zoom/callback?code={query['code'][0]}&state=forged")
    assert answer.status_code == 422
    assert "could not be matched" in answer.get_data(as_text=True)
    assert db.query(ZoomConnection).count() == 0
    assert zoom.token_requests["authorization_code"] == 0


def test_a_cancelled_authorisation_connects_nothing(
    app: Flask, db: Db, client: FlaskClient, sign_in: Any, zoom: FakeZoom, make_facilitator: Any
) -> None:
    sign_in(client, make_facilitator())
    zoom.deny_next_authorization = True
    answer = _follow_to_zoom_and_back(client, client.post("/integrations/zoom/connect"))
    assert answer.status_code == 303
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "the authorisation was cancelled" in page
    assert db.query(ZoomConnection).count() == 0


def test_sign_in_with_zoom(
    app: Flask,
    db: Db,
    client: FlaskClient,
    zoom: FakeZoom,
    make_facilitator: Any,
    connect_zoom: Any,
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    sign_in_page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with Zoom" in sign_in_page
    answer = _follow_to_zoom_and_back(client, client.get("/integrations/zoom/sign-in"))
    assert answer.status_code == 303 and answer.headers["Location"] == "/programmes"
    with client.session_transaction() as cookie:
        assert cookie["fid"] == facilitator.id


def test_sign_in_with_an_unknown_zoom_account_is_refused_and_revoked(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, make_facilitator: Any
) -> None:
    stranger = zoom.add_user(email="stranger@example.com")
    zoom.next_authorizing_user = stranger
    answer = _follow_to_zoom_and_back(client, client.get("/integrations/zoom/sign-in"))
    assert answer.status_code == 303 and "/sign-in" in answer.headers["Location"]
    page = client.get("/sign-in").get_data(as_text=True)
    assert "No Kollega account is connected to this Zoom account" in page
    with client.session_transaction() as cookie:
        assert "fid" not in cookie
    assert zoom.count("POST", "/oauth/revoke") == 1


def test_no_zoom_button_without_zoom(client: FlaskClient, app: Flask) -> None:
    assert "Sign in with Zoom" not in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/integrations/zoom/sign-in").status_code == 404


def test_disconnect_revokes_the_grant(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
    connect_zoom: Any,
) -> None:
    facilitator = make_facilitator()
    row = connect_zoom(facilitator)
    config = app.extensions["companion.config"]
    access = decrypt_secret(config, row.access_token)
    refresh = decrypt_secret(config, row.refresh_token)
    sign_in(client, facilitator)
    answer = client.post("/integrations/zoom/disconnect")
    assert answer.status_code == 303
    revoke = zoom.requests_to("POST", "/oauth/revoke")
    assert len(revoke) == 1 and revoke[0].form["token"] == access
    # NOTES §1.4: revoking ends the whole grant.
    assert not zoom.token_is_valid(access) and not zoom.token_is_valid(refresh)
    assert db.query(ZoomConnection).count() == 0
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "revoked at Zoom" in page and "Connect Zoom" in page


def test_one_zoom_account_belongs_to_one_facilitator(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
    connect_zoom: Any,
) -> None:
    connect_zoom(make_facilitator())
    other = make_facilitator()
    sign_in(client, other)
    answer = _follow_to_zoom_and_back(client, client.post("/integrations/zoom/connect"))
    assert answer.status_code == 303
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "already connected to another Kollega account" in page
    assert db.query(ZoomConnection).count() == 1


def test_connection_page_needs_sign_in_and_explains_a_missing_setup(
    app: Flask, client: FlaskClient, sign_in: Any, make_facilitator: Any
) -> None:
    answer = client.get("/integrations/zoom/connection")
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    sign_in(client, make_facilitator(admin=True))
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "Zoom is not set up on this Kollega yet" in page
    assert "/integrations/zoom/callback" in page  # the admin sees the addresses to register


@pytest.mark.browser
def test_connect_in_chromium(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    live_server: str,
    browser: Any,
) -> None:
    facilitator = make_facilitator()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(8000)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/sign-in?lang=en")
        page.fill("#f-email", facilitator.email)
        page.fill("#f-password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server}/integrations/zoom/connection")
        page.click("text=Connect Zoom")
        page.wait_for_selector("text=Zoom is connected as host@example.com")
        assert page.url.endswith("/integrations/zoom/connection")
        assert page.is_visible("text=Disconnect Zoom")
    finally:
        context.close()
    assert db.query(ZoomConnection).one().facilitator_id == facilitator.id

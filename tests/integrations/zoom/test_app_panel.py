"""The Zoom App side panel: the encrypted context, the headers Zoom requires, who opens what."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db
from companion.core.security import unsign_timed
from integrations.zoom.appcontext import AppContextError, read_app_context
from integrations.zoom.configuration import app_home_url
from integrations.zoom.models import ZoomIdentity
from tests.fakes.zoom import FakeZoom

APP = "/integrations/zoom/app"


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    make_participant: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> dict[str, Any]:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    programme = zoom_programme(facilitator)
    aino = make_participant(programme, name="Aino Aalto", email="aino@example.fi")
    session = zoom_session(programme.groups[0], facilitator)
    uuid = zoom.meeting(session.room.external_id)["uuid"]
    db.commit()
    return {"facilitator": facilitator, "session": session, "aino": aino, "uuid": uuid}


# --- decrypting the context (NOTES §5.1) ----------------------------------------------------------


def test_context_made_like_zoom_decrypts(zoom: FakeZoom) -> None:
    header = zoom.make_app_context(mid="mtg/uuid==", aad=b"zoom-aad")
    context = read_app_context(header, zoom.client_id, zoom.client_secret)
    assert context.uid == zoom.default_user.id and context.mid == "mtg/uuid=="
    assert context.typ == "panel" and context.role == "host"
    urlsafe = zoom.make_app_context(urlsafe=True, extra={"pid": "main=="}, mid="breakout==")
    assert read_app_context(urlsafe, zoom.client_id, zoom.client_secret).meeting_uuids == [
        "main==",
        "breakout==",
    ]


def test_expired_context_is_refused(zoom: FakeZoom) -> None:
    now_ms = int(time.time() * 1000)
    header = zoom.make_app_context(ts_ms=now_ms - 300_000, exp_ms=now_ms - 60_000)
    with pytest.raises(AppContextError) as caught:
        read_app_context(header, zoom.client_id, zoom.client_secret)
    assert caught.value.reason == "expired"


def test_context_with_the_wrong_key_is_refused(zoom: FakeZoom) -> None:
    header = zoom.make_app_context(client_secret="another-apps-secret")
    with pytest.raises(AppContextError) as caught:
        read_app_context(header, zoom.client_id, zoom.client_secret)
    assert caught.value.reason == "key"


def test_foreign_and_broken_contexts_are_refused(zoom: FakeZoom) -> None:
    foreign = zoom.make_app_context(aud="someone-elses-client-id")
    with pytest.raises(AppContextError) as caught:
        read_app_context(foreign, zoom.client_id, zoom.client_secret)
    assert caught.value.reason == "foreign"
    for broken in ("", "not base64!", "AAAA"):
        with pytest.raises(AppContextError):
            read_app_context(broken, zoom.client_id, zoom.client_secret)


# --- the page -------------------------------------------------------------------------------------


def _assert_zoom_headers(response: Any) -> None:
    # NOTES §5.2: all four, on every page of the app, or Zoom shows nothing.
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self' https://appssdk.zoom.us" in csp
    assert "frame-ancestors 'self' https://*.zoom.us" in csp
    assert "X-Frame-Options" not in headers


def test_side_panel_headers(
    app: Flask, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    good = client.get(APP, headers={"x-zoom-app-context": zoom.make_app_context(mid=world["uuid"])})
    assert good.status_code == 200
    _assert_zoom_headers(good)
    assert "https://appssdk.zoom.us/sdk.min.js" in good.get_data(as_text=True)
    assert "/static/zoom/app.js" in good.get_data(as_text=True)
    for bad in (
        client.get(APP),
        client.get(APP, headers={"x-zoom-app-context": zoom.make_app_context(aud="x")}),
        client.get(APP, headers={"x-zoom-app-context": zoom.make_app_context(mid="unknown==")}),
    ):
        assert bad.status_code in (403, 404, 422) and bad.mimetype == "text/html"
        _assert_zoom_headers(bad)


def test_host_facilitator_opens_the_panel_as_facilitator(
    app: Flask, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    header = zoom.make_app_context(mid=world["uuid"])
    page = client.get(APP, headers={"x-zoom-app-context": header}).get_data(as_text=True)
    prefix = f'data-panel-url="/panel/sessions/{world["session"].id}#token='
    assert prefix in page
    token = page.split(prefix, 1)[1].split('"', 1)[0]
    with app.test_request_context():
        assert unsign_timed(token, "facilitator", 60)["f"] == world["facilitator"].id


def test_known_participant_opens_the_panel_as_themselves(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    db.add(ZoomIdentity(zoom_user_id="zoomUserAino", participant_id=world["aino"].id))
    db.commit()
    header = zoom.make_app_context(mid=world["uuid"], uid="zoomUserAino", attendrole="attendee")
    page = client.get(APP, headers={"x-zoom-app-context": header}).get_data(as_text=True)
    token = page.split("#token=", 1)[1].split('"', 1)[0]
    with app.test_request_context():
        assert unsign_timed(token, "participant", 60)["p"] == world["aino"].id


def test_in_a_breakout_room_the_main_meeting_counts(
    app: Flask, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    header = zoom.make_app_context(mid="breakout-uuid==", extra={"pid": world["uuid"]})
    page = client.get(APP, headers={"x-zoom-app-context": header}).get_data(as_text=True)
    assert f"/panel/sessions/{world['session'].id}#token=" in page


def test_guest_is_told_to_use_the_personal_link(
    app: Flask, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    header = zoom.make_app_context(mid=world["uuid"], uid=None)
    page = client.get(APP, headers={"x-zoom-app-context": header}).get_data(as_text=True)
    assert "as a guest" in page and "#token=" not in page


def test_unknown_user_identifies_with_in_client_oauth(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    zoom_user = zoom.add_user(email="Aino@Example.fi")
    header = zoom.make_app_context(mid=world["uuid"], uid=zoom_user.id, attendrole="attendee")
    page = client.get(APP, headers={"x-zoom-app-context": header}).get_data(as_text=True)
    assert "data-identify" in page and "#token=" not in page

    started = client.post(f"{APP}/authorize", json={"context": header})
    assert started.status_code == 200
    challenge, state = started.get_json()["codeChallenge"], started.get_json()["state"]
    # What zoomSdk.authorize does inside the client (NOTES §5.4: PKCE method plain).
    zoom.next_authorizing_user = zoom_user
    home = app_home_url(app.extensions["companion.config"])
    query = {
        "response_type": "code",
        "client_id": zoom.client_id,
        "redirect_uri": home,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "plain",
    }
    at_zoom = requests.get(
        f"{zoom.oauth_url}/oauth/authorize?{urlencode(query)}", allow_redirects=False, timeout=5
    )
    code = parse_qs(urlsplit(at_zoom.headers["Location"]).query)["code"][0]
    done = client.post(
        f"{APP}/authorized",
        json={"context": header, "code": code, "state": state, "redirectUri": home},
    )
    assert done.status_code == 200, done.get_json()
    url = done.get_json()["panel_url"]
    assert url.startswith(f"/panel/sessions/{world['session'].id}#token=")
    assert db.query(ZoomIdentity).one().zoom_user_id == zoom_user.id
    # Next time the panel opens straight away.
    page = client.get(APP, headers={"x-zoom-app-context": header}).get_data(as_text=True)
    assert "data-panel-url" in page


def test_in_client_oauth_of_a_non_member_is_refused(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    zoom_user = zoom.add_user(email="outsider@example.com")
    header = zoom.make_app_context(mid=world["uuid"], uid=zoom_user.id)
    started = client.post(f"{APP}/authorize", json={"context": header}).get_json()
    zoom.next_authorizing_user = zoom_user
    home = app_home_url(app.extensions["companion.config"])
    query = {
        "response_type": "code",
        "client_id": zoom.client_id,
        "redirect_uri": home,
        "state": started["state"],
        "code_challenge": started["codeChallenge"],
        "code_challenge_method": "plain",
    }
    at_zoom = requests.get(
        f"{zoom.oauth_url}/oauth/authorize?{urlencode(query)}", allow_redirects=False, timeout=5
    )
    code = parse_qs(urlsplit(at_zoom.headers["Location"]).query)["code"][0]
    done = client.post(
        f"{APP}/authorized",
        json={"context": header, "code": code, "state": started["state"], "redirectUri": home},
    )
    assert done.status_code == 403 and done.mimetype == "application/problem+json"
    assert "outsider@example.com" in done.get_json()["detail"]
    forged = client.post(
        f"{APP}/authorized",
        json={"context": header, "code": "x", "state": "forged", "redirectUri": home},
    )
    assert forged.status_code == 403
    assert db.query(ZoomIdentity).count() == 0


def test_panel_endpoints_refuse_a_context_that_is_not_zoom(
    app: Flask, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    wrong = zoom.make_app_context(client_secret="nope")
    answer = client.post(f"{APP}/authorize", json={"context": wrong})
    assert answer.status_code == 403 and answer.mimetype == "application/problem+json"

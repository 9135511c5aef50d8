"""The Zoom App page in Chromium, with a stand-in for Zoom's Apps SDK.

Zoom serves the SDK from appssdk.zoom.us; here that address answers a small script with the
same methods (`config`, `getAppContext`, `authorize`, `addEventListener`), so the page's own
module (static/zoom/app.js) runs as it would inside the Zoom client.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask

from companion.core.db import Db
from integrations.zoom.configuration import app_home_url
from integrations.zoom.models import ZoomIdentity
from tests.fakes.zoom import FakeZoom
from tests.services import wait_until

pytestmark = pytest.mark.browser

SDK_STUB = """
window.__zoom = { authorized: null, listeners: {} };
window.zoomSdk = {
  config: async () => ({ runningContext: "inMeeting", auth: { status: "authenticated" } }),
  getAppContext: async () => ({ context: window.__zoomContext }),
  authorize: async (args) => { window.__zoom.authorized = args; return { message: "ok" }; },
  addEventListener: (name, handler) => { window.__zoom.listeners[name] = handler; },
};
"""


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
    db.commit()
    return {
        "session": session,
        "aino": aino,
        "uuid": zoom.meeting(session.room.external_id)["uuid"],
    }


def _panel(browser: Any, header: str) -> Any:
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, extra_http_headers={"x-zoom-app-context": header}
    )
    context.set_default_timeout(8000)
    context.route(
        "https://appssdk.zoom.us/**",
        lambda route: route.fulfill(body=SDK_STUB, content_type="text/javascript"),
    )
    # The board's panel itself is tested with the board; here only arriving there counts.
    context.route(
        "**/panel/sessions/**",
        lambda route: route.fulfill(body="<p>board panel</p>", content_type="text/html"),
    )
    return context


def test_identified_facilitator_is_taken_to_the_board_panel(
    app: Flask, zoom: FakeZoom, world: dict[str, Any], live_server: str, browser: Any
) -> None:
    context = _panel(browser, zoom.make_app_context(mid=world["uuid"]))
    try:
        page = context.new_page()
        page.goto(f"{live_server}/integrations/zoom/app?lang=en")
        page.wait_for_url(f"{live_server}/panel/sessions/{world['session'].id}*")
        # The panel gets a bearer token in the fragment (no third-party cookies in Zoom), and
        # it opens the session's board through the API.
        token = page.url.split("#token=", 1)[1]
        board = app.test_client().get(
            f"/api/v1/sessions/{world['session'].id}/board",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert board.status_code == 200, board.get_json()
    finally:
        context.close()


def test_show_my_board_identifies_through_zoom(
    app: Flask, db: Db, zoom: FakeZoom, world: dict[str, Any], live_server: str, browser: Any
) -> None:
    zoom_user = zoom.add_user(email="aino@example.fi")
    header = zoom.make_app_context(mid=world["uuid"], uid=zoom_user.id, attendrole="attendee")
    context = _panel(browser, header)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.add_init_script(f"window.__zoomContext = {header!r};")
        page.goto(f"{live_server}/integrations/zoom/app?lang=en")
        page.get_by_role("button", name="Show my board").click()
        wait_until(page, "window.__zoom.authorized !== null")
        asked = page.evaluate("window.__zoom.authorized")
        # What the Zoom client does with zoomSdk.authorize (NOTES §5.4, PKCE plain).
        zoom.next_authorizing_user = zoom_user
        home = app_home_url(app.extensions["companion.config"])
        query = {
            "response_type": "code",
            "client_id": zoom.client_id,
            "redirect_uri": home,
            "state": asked["state"],
            "code_challenge": asked["codeChallenge"],
            "code_challenge_method": "plain",
        }
        answer = requests.get(
            f"{zoom.oauth_url}/oauth/authorize?{urlencode(query)}",
            allow_redirects=False,
            timeout=5,
        )
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        page.evaluate(
            "([code, state, home]) => window.__zoom.listeners.onAuthorized("
            "{ code, state, redirectUri: home, result: true, timestamp: Date.now() })",
            [code, asked["state"], home],
        )
        page.wait_for_url(f"{live_server}/panel/sessions/{world['session'].id}*")
    finally:
        context.close()
    assert errors == []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not db.query(ZoomIdentity).count():
        db.rollback()
        time.sleep(0.05)
    assert db.query(ZoomIdentity).one().participant_id == world["aino"].id

"""The Teams meeting tab in Chromium, inside a stand-in for the Teams client.

Teams hosts a tab in an iframe and answers TeamsJS over `postMessage`: the library sends
`{id, uuidAsString, func, args}` and takes `{id, uuidAsString, args}` back (see
`communication.ts` in the vendored bundle). The stand-in host page is served at
https://teams.microsoft.com (Playwright answers that address, nothing leaves the machine),
an origin TeamsJS accepts messages from; it answers `initialize`, `getContext`,
`authentication.getAuthToken` and the stage-sharing calls as the Teams web client does, and
embeds Kollega's real tab page, which then opens the real board panel.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from companion.core.db import Db
from tests.fakes.microsoft_identity import TEAMS_WEB, FakeMicrosoftIdentity, MicrosoftAccount
from tests.services import wait_until

pytestmark = pytest.mark.browser

THREAD = "19:meeting_MzQ1NjE2ZGQtZjI4Ni00@thread.v2"
HOST_URL = "https://teams.microsoft.com/kollega-test/host.html"

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Teams (stand-in)</title></head>
<body>
<iframe id="app" src="%(tab_url)s" style="width: 380px; height: 720px; border: 0"></iframe>
<script>
const host = window.__host = {
  calls: [], shared: null, token: %(token)s, context: %(context)s, frame: %(frame)s,
};
// What the Teams client tells TeamsJS it supports (runtime config, apiVersion 4).
const runtime = {
  apiVersion: 4, isLegacyTeams: false,
  supports: {
    app: {}, appEntity: {}, authentication: {}, meeting: { stage: {} },
    pages: { appButton: {}, config: {}, tabs: {} }, teamsCore: {},
  },
};
window.addEventListener("message", (event) => {
  const message = event.data;
  if (!message || typeof message.func !== "string" || typeof message.id !== "number") {
    return;
  }
  host.calls.push(message.func);
  const reply = (args) => event.source.postMessage(
    { id: message.id, uuidAsString: message.uuidAsString, args }, event.origin);
  switch (message.func) {
    case "initialize":
      reply([host.frame, "web", JSON.stringify(runtime), "2.58.0"]);
      break;
    case "getContext":
      reply([host.context]);
      break;
    case "authentication.getAuthToken":
      reply(host.token ? [true, host.token] : [false, "resourceDisabled"]);
      break;
    case "meeting.getAppContentStageSharingCapabilities":
      reply([null, { doesAppHaveSharePermission: true }]);
      break;
    case "meeting.shareAppContentToStage":
      host.shared = message.args[0];
      reply([null, true]);
      break;
    default:
      break;  // one-way messages (registerHandler, ...)
  }
});
</script>
</body></html>
"""


@pytest.fixture()
def world(
    db: Db,
    make_facilitator: Any,
    make_programme: Any,
    make_participant: Any,
    thread_session: Any,
    connect_teams: Any,
    microsoft: FakeMicrosoftIdentity,
) -> dict[str, Any]:
    facilitator = make_facilitator(email="fiona@kollega.example")
    connect_teams(facilitator)
    programme = make_programme(facilitator=facilitator)
    make_participant(programme, name="Aino Aalto", email="aino@contoso.example")
    session = thread_session(programme.groups[0], THREAD, title="Pricing and time")
    return {"session": session}


def _legacy_context(account: MicrosoftAccount, frame: str) -> dict[str, Any]:
    """`getContext`'s answer in the shape the Teams client sends (TeamsJS maps it)."""
    return {
        "locale": "en-us",
        "frameContext": frame,
        "hostClientType": "web",
        "theme": "default",
        "userObjectId": account.object_id,
        "userPrincipalName": account.upn,
        "loginHint": account.upn,
        "tid": account.tenant_id,
        "chatId": THREAD,
        "meetingId": "MCMxOTptZWV0aW5nX016UTFOakUyWkdRdFpqSTROaTAwQHRocmVhZC52MiMw",
        "entityId": "kollega-board",
    }


def _teams(
    browser: Any, live_server: str, *, token: str | None, context: dict[str, Any], frame: str
) -> Any:
    # The stand-in host is a public origin and Kollega runs on 127.0.0.1 here: Chromium's
    # Local Network Access checks block such frames unless permitted (a real Kollega is public).
    page_context = browser.new_context(
        viewport={"width": 420, "height": 800}, permissions=["local-network-access"]
    )
    page_context.set_default_timeout(10000)
    html = HOST_PAGE % {
        "tab_url": f"{live_server}/integrations/teams/tab?lang=en",
        "token": json.dumps(token),
        "context": json.dumps(context),
        "frame": json.dumps(frame),
    }
    page_context.route(HOST_URL, lambda route: route.fulfill(body=html, content_type="text/html"))
    return page_context


def test_the_facilitator_sees_the_board_and_can_share_it_to_the_stage(
    world: dict[str, Any], microsoft: FakeMicrosoftIdentity, live_server: str, browser: Any
) -> None:
    account = microsoft.default_account
    token = microsoft.sso_token(account, client=TEAMS_WEB)
    context = _teams(
        browser, live_server, token=token, context=_legacy_context(account, "sidePanel"),
        frame="sidePanel",
    )  # fmt: skip
    try:
        page = context.new_page()
        page.goto(HOST_URL)
        tab = page.frame_locator("#app")
        panel = tab.frame_locator("[data-panel]")
        # The real board panel, opened with the facilitator's bearer token.
        panel.locator("[data-board]:not([aria-busy])").wait_for()
        assert "No topics yet" in panel.locator("[data-board]").inner_text()
        assert tab.locator("[data-title]").inner_text() == "Pricing and time"
        calls = page.evaluate("window.__host.calls")
        assert calls[:3] == ["initialize", "getContext", "authentication.getAuthToken"]

        share = tab.get_by_role("button", name="Show on the meeting stage")
        share.click()
        wait_until(page, "window.__host.shared !== null")
        assert page.evaluate("window.__host.shared") == f"{live_server}/integrations/teams/tab"
        assert "on the meeting stage" in tab.locator("[data-status]").inner_text()
    finally:
        context.close()


def test_a_participant_on_the_stage_sees_the_board_without_the_share_button(
    world: dict[str, Any], microsoft: FakeMicrosoftIdentity, live_server: str, browser: Any
) -> None:
    aino = microsoft.add_account(name="Aino Aalto", upn="aino@contoso.example")
    context = _teams(
        browser, live_server, token=microsoft.sso_token(aino),
        context=_legacy_context(aino, "meetingStage"), frame="meetingStage",
    )  # fmt: skip
    try:
        page = context.new_page()
        page.goto(HOST_URL)
        tab = page.frame_locator("#app")
        tab.frame_locator("[data-panel]").locator("[data-board]:not([aria-busy])").wait_for()
        assert tab.locator("[data-share]").is_hidden()
    finally:
        context.close()


def test_a_guest_without_a_token_is_told_to_use_the_personal_link(
    world: dict[str, Any], microsoft: FakeMicrosoftIdentity, live_server: str, browser: Any
) -> None:
    guest = microsoft.add_account(name="Guest")
    context = _teams(
        browser, live_server, token=None, context=_legacy_context(guest, "sidePanel"),
        frame="sidePanel",
    )  # fmt: skip
    try:
        page = context.new_page()
        page.goto(HOST_URL)
        tab = page.frame_locator("#app")
        tab.locator("[data-teams-tab][data-state='guest']").wait_for()
        assert tab.locator("[data-heading]").inner_text() == "Who are you?"
        assert "personal link in your email" in tab.locator("[data-detail]").inner_text()
        assert tab.locator("[data-panel]").is_hidden()
    finally:
        context.close()


def test_outside_teams_the_tab_explains_where_the_board_is(
    microsoft: FakeMicrosoftIdentity, live_server: str, browser: Any
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server}/integrations/teams/tab?lang=en")
        page.locator("[data-teams-tab][data-state='outside']").wait_for()
        assert "works inside Microsoft Teams" in page.locator("[data-detail]").inner_text()
    finally:
        context.close()

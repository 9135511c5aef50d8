"""Shared notes in Chromium: a note written in one browser appears in another, live; two
summary edits on one version end in the merge view; without WebSockets the page polls."""

from __future__ import annotations

import os
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.live import LiveServer
from tests.notes.conftest import World
from tests.services import signed_in_context, wait_until

pytestmark = pytest.mark.browser

#: Set NOTES_SCREENSHOTS=<folder> to keep a screenshot of the side panel.
SHOTS = os.environ.get("NOTES_SCREENSHOTS", "")


def _context(app: Flask, browser: Any, client: FlaskClient, width: int = 390) -> Any:
    return signed_in_context(app, browser, client, width, 844)


def test_a_note_written_in_one_browser_appears_in_the_other(
    app: Flask, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    url = f"{live_server}/sessions/{world.session.id}/notes?lang=en"
    alice_context = _context(app, browser, world.client("alice"))
    bob_context = _context(app, browser, world.client("bob"), width=1200)
    try:
        alice = alice_context.new_page()
        bob = bob_context.new_page()
        alice.goto(url)
        bob.goto(url)
        alice.wait_for_selector("[data-live-status][data-state='live']")
        bob.wait_for_selector("[data-live-status][data-state='live']")

        alice.fill("#note-body", "Lunch on **Friday**?")
        alice.click("[data-add-item] button[type=submit]")
        bob.wait_for_selector("[data-items] strong:text('Friday')", timeout=3000)
        assert "Alice Aho" in bob.inner_text("[data-items]")
        # Alice's box is emptied when her request returns (no reload); that may be after Bob saw it.
        wait_until(alice, "document.querySelector('#note-body').value === ''")

        # Both open the summary on version 0; Alice saves first, Bob's save offers the merge.
        for page, words in ((alice, "Alice: pricing"), (bob, "Bob: marketing")):
            page.click("[data-summary-editor] > summary")
            page.fill("#summary-text", words)
        alice.click("[data-summary-form] button[type=submit]")
        bob.wait_for_selector("[data-summary-html] >> text=Alice: pricing", timeout=3000)
        bob.click("[data-summary-form] button[type=submit]")
        bob.wait_for_selector("[data-merge-panel]:not([hidden])")
        assert bob.inner_text("[data-merge-theirs]") == "Alice: pricing"
        assert bob.inner_text("[data-merge-mine]") == "Bob: marketing"
        assert bob.input_value("#summary-text") == "Alice: pricing\n\nBob: marketing"
        bob.click("[data-summary-form] button[type=submit]")
        alice.wait_for_selector("[data-summary-html] >> text=Bob: marketing", timeout=3000)
    finally:
        alice_context.close()
        bob_context.close()


def test_without_the_live_server_the_page_polls(
    app: Flask, world: World, live_server: str, browser: Any
) -> None:
    url = f"{live_server}/sessions/{world.session.id}/notes?lang=en"
    context = _context(app, browser, world.client("bob"))
    try:
        page = context.new_page()
        page.goto(url)
        world.client("alice").post(
            f"/api/v1/notes/{world.space_id()}/items", json={"body": "heard by polling"}
        )
        page.wait_for_selector("text=heard by polling", timeout=20000)
        assert page.get_attribute("[data-live-status]", "data-state") in ("polling", "offline")
    finally:
        context.close()


def test_the_side_panel_works_with_a_bearer_token_and_no_cookie(
    app: Flask, db: Any, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    from companion.accounts.identity import participant_token
    from companion.sessions.join_links import join_link_for

    with app.app_context():
        token = participant_token(world.bob, join_link_for(db, world.bob))
        db.commit()
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.set_default_timeout(5000)
    try:
        panel = context.new_page()
        panel.goto(f"{live_server}/panel/sessions/{world.session.id}/notes?lang=en#token={token}")
        panel.wait_for_selector("[data-live-status][data-state='live']")
        assert "token=" not in panel.url  # taken out of the address
        world.client("alice").post(
            f"/api/v1/notes/{world.space_id()}/items", json={"body": "seen in the panel"}
        )
        panel.wait_for_selector("text=seen in the panel")
        panel.fill("#note-body", "written in the panel")
        panel.click("[data-add-item] button[type=submit]")
        panel.wait_for_selector("text=written in the panel")
        bodies = [
            i["body"] for i in world.client("alice").get(world.notes_url()).get_json()["items"]
        ]
        assert bodies == ["seen in the panel", "written in the panel"]

        # An action item for Alice, from the panel; "Who does it?" starts at Bob himself.
        panel.click("[data-add-action-box] > summary")
        assert (
            panel.eval_on_selector("[data-action-owner]", "s => s.options[s.selectedIndex].text")
            == world.bob.name
        )
        panel.fill("#action-text", "Send Alice the price list")
        panel.select_option("[data-action-owner]", label=world.alice.name)
        panel.fill("#action-due", "2026-12-04")
        panel.click("[data-add-action] button[type=submit]")
        panel.wait_for_selector("[data-actions] >> text=Send Alice the price list")
        assert panel.input_value("#action-text") == ""
        assert panel.evaluate("document.documentElement.scrollWidth") <= 320
        if SHOTS:
            panel.screenshot(path=f"{SHOTS}/notes-panel-320.png", full_page=True)
        mine = world.client("alice").get("/api/v1/me/actions").get_json()
        assert [(a["text"], a["due_on"]) for a in mine] == [
            ("Send Alice the price list", "2026-12-04")
        ]
    finally:
        context.close()


def test_the_side_panel_in_a_plain_browser_saves_with_the_join_link_cookie(
    app: Flask,
    db: Any,
    world: World,
    live: LiveServer,
    live_server: str,
    browser: Any,
    csrf_on: None,
) -> None:
    """The board link's notes tab opened in an ordinary browser: no bearer token, so the
    writes ride on the join-link cookie and carry the page's CSRF token (CSRF stays on)."""
    from companion.sessions import join_links

    with app.app_context():
        token = join_links.join_token(join_links.join_link_for(db, world.bob))
        db.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.set_default_timeout(5000)
    try:
        # Bob opens his personal link (it forwards to the meeting room) in this browser ...
        opened = context.request.get(f"{live_server}/j/{token}", max_redirects=0)
        assert opened.status == 303
        # ... and then the notes tab of the side panel, with no token in the address.
        panel = context.new_page()
        panel.goto(f"{live_server}/panel/sessions/{world.session.id}/notes?lang=en")
        panel.wait_for_selector("[data-live-status][data-state='live']")
        assert panel.inner_text("[data-space-label]") == "Whole group"

        panel.click("[data-summary-editor] > summary")
        # Nobody else saved anything: no claim that someone did.
        assert not panel.is_visible("[data-merge-panel]")
        panel.fill("#summary-text", "We agreed to share **price lists**.")
        panel.click("[data-summary-form] button[type=submit]")
        panel.wait_for_selector("[data-summary-html] strong:text('price lists')")
        panel.fill("#note-body", "Bob brings the list on Friday")
        panel.click("[data-add-item] button[type=submit]")
        panel.wait_for_selector("[data-items] >> text=Bob brings the list on Friday")
        body = panel.inner_text("body")
        assert "expired" not in body
        assert not panel.is_visible("[data-merge-panel]")
        assert panel.locator("[data-form-error]").count() == 0
    finally:
        context.close()

    seen = world.client("facilitator").get(world.notes_url()).get_json()
    assert seen["summary"]["text"] == "We agreed to share **price lists**."
    assert seen["summary"]["updated_by"]["name"] == world.bob.name
    assert [i["body"] for i in seen["items"]] == ["Bob brings the list on Friday"]


def test_a_failed_save_says_why_and_claims_no_conflict(
    app: Flask, world: World, live: LiveServer, live_server: str, browser: Any
) -> None:
    """A save refused for another reason than someone else's save (here: the join link was
    revoked meanwhile) shows that reason, not the merge view."""
    context = _context(app, browser, world.client("alice"))
    try:
        page = context.new_page()
        page.goto(f"{live_server}/sessions/{world.session.id}/notes?lang=en")
        page.wait_for_selector("[data-live-status][data-state='live']")
        page.click("[data-summary-editor] > summary")
        assert not page.is_visible("[data-merge-panel]")
        page.fill("#summary-text", "Never saved")
        context.clear_cookies()
        page.click("[data-summary-form] button[type=submit]")
        page.wait_for_selector("[data-summary-form] [data-form-error]")
        assert not page.is_visible("[data-merge-panel]")
        assert "Someone saved" not in page.inner_text("[data-summary-form]")
    finally:
        context.close()
    assert world.client("facilitator").get(world.notes_url()).get_json()["summary"]["text"] == ""

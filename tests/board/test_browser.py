"""The board in Chromium: a facilitator's full board and a participant's side panel, live."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from companion.core.live import LiveServer
from tests.board.conftest import BoardWorld

pytestmark = pytest.mark.browser


def _facilitator_cookie(app: Flask, world: BoardWorld) -> dict[str, Any]:
    client = world.facilitator_client
    client.get("/")  # the signed-in session cookie exists once a response sets it
    cookie = client.get_cookie("kollega_session")
    assert cookie is not None
    port = app.config["TEST_PORT"]
    return {"name": "kollega_session", "value": cookie.value, "url": f"http://127.0.0.1:{port}"}


def _wait_live(page: Any) -> None:
    page.wait_for_selector("[data-live-state][data-state='live']", timeout=5000)


def test_proposal_and_vote_appear_in_the_other_browser_within_a_second(
    app: Flask,
    world: BoardWorld,
    live: LiveServer,
    live_server: str,
    browser: Any,
    tmp_path: Path,
) -> None:
    session_id = world.session.id
    facilitator = browser.new_context(viewport={"width": 1200, "height": 900})
    facilitator.add_cookies([_facilitator_cookie(app, world)])
    participant = browser.new_context(viewport={"width": 320, "height": 640})
    facilitator.set_default_timeout(5000)
    participant.set_default_timeout(5000)
    try:
        board = facilitator.new_page()
        board.goto(f"{live_server}/sessions/{session_id}/board?lang=en")
        panel = participant.new_page()
        panel.goto(
            f"{live_server}/panel/sessions/{session_id}?lang=en#token={world.tokens['alice']}"
        )
        _wait_live(board)
        _wait_live(panel)
        assert "token=" not in panel.url  # taken out of the address

        # A proposal in the panel appears on the facilitator's board.
        panel.click("details.propose > summary")
        panel.fill("#topic-title", "Pricing my work")
        panel.click(".propose-form button[type=submit]")
        board.wait_for_selector(".topic:not(.pending) .topic-title:text('Pricing my work')")

        # A vote on the facilitator's board appears in the panel.
        board.click(".column-to_discuss .vote-up")
        panel.wait_for_selector(".topic-queue .vote-count:text-is('1')")

        # And back: the participant's vote reaches the board.
        panel.click(".topic-queue .vote-up")
        board.wait_for_selector(".column-to_discuss .vote-count:text-is('2')")

        # The facilitator starts discussing it with a timer: the panel shows it at the top.
        board.click(".column-to_discuss button:text('Discuss now')")
        board.click("button[data-key=timer-start]")
        panel.wait_for_selector(".current-title:text('Pricing my work')", timeout=2000)
        panel.wait_for_selector(".timer", timeout=2000)
        if panel.locator("details.propose[open]").count() == 0:
            panel.click("details.propose > summary")
        panel.fill("#topic-title", "Finding the first customers")
        panel.click(".propose-form button[type=submit]")
        panel.wait_for_selector(".topic:not(.pending) .topic-title:text('Finding the first')")
        panel.keyboard.press("Tab")

        shot_dir = Path(os.environ.get("KOLLEGA_SCREENSHOTS", str(tmp_path)))
        shot_dir.mkdir(parents=True, exist_ok=True)
        panel.screenshot(path=str(shot_dir / "panel-320.png"), full_page=False)
        board.screenshot(path=str(shot_dir / "board-full.png"), full_page=True)
        width = panel.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"the panel scrolls sideways ({width}px)"
        # The current topic and a vote button are above the fold.
        fold = 640
        assert panel.locator(".current-title").bounding_box()["y"] < fold
        vote_box = panel.locator(".topic-queue .vote-up").first.bounding_box()
        assert vote_box is not None and vote_box["y"] + vote_box["height"] < fold
    finally:
        facilitator.close()
        participant.close()


def test_panel_without_access_says_so(
    world: BoardWorld, live: LiveServer, live_server: str, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        page.goto(
            f"{live_server}/panel/sessions/{world.session.id}?lang=en#token={world.tokens['outsider']}"
        )
        page.wait_for_selector(".board-error:text('not available')", timeout=5000)
    finally:
        context.close()

"""The facilitator's full board says "Discussing now" once (the card at the top, with the
topic's tools), and once a topic is done it no longer says nothing was discussed "yet"."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from companion.core.live import LiveServer
from tests.board.conftest import BoardWorld
from tests.board.test_browser import _facilitator_cookie, _wait_live

pytestmark = pytest.mark.browser


def test_discussing_now_once_and_no_yet_after_a_topic_is_done(
    app: Flask, world: BoardWorld, live: LiveServer, live_server: str, browser: Any
) -> None:
    board = world.facilitator_client.get(world.board_url).get_json()["board"]
    world.alice_client.post(f"/api/v1/boards/{board['id']}/topics", json={"title": "Pricing"})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5000)
    context.add_cookies([_facilitator_cookie(app, world)])
    try:
        page = context.new_page()
        page.goto(f"{live_server}/sessions/{world.session.id}/board?lang=en")
        _wait_live(page)
        current = page.locator(".current")
        assert "No topic is being discussed yet." in current.inner_text()

        page.click(".column-to_discuss button:text('Discuss now')")
        page.wait_for_selector(".current .current-title:text('Pricing')")
        assert page.get_by_text("Discussing now", exact=False).count() == 1
        assert page.locator(".column-discussing").count() == 0

        page.click(".current button:text('Done')")  # the topic's tools are in the card
        page.wait_for_selector(".column-done .topic-title:text('Pricing')")
        assert "No topic is being discussed right now." in current.inner_text()
        assert "yet" not in current.inner_text()
    finally:
        context.close()

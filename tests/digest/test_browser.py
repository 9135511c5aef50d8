"""The facilitator's digest preview in Chromium at phone and desktop width: the email shows in
its sandboxed frame, and a long address wraps instead of widening the page."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from companion.core.db import Db
from tests.digest.conftest import Held
from tests.services import signed_in_context

pytestmark = pytest.mark.browser

#: No space or hyphen to break the line at.
LONG_ADDRESS = "alice.aho.at.her.company@entrepreneursofsouthwestfinland.example"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_preview_fits_the_window(
    app: Flask, db: Db, held: Held, live_server: str, browser: Any, width: int
) -> None:
    world = held.world
    with app.app_context():
        alice = db.merge(world.alice)
        alice.email = LONG_ADDRESS
        db.commit()
    context = signed_in_context(app, browser, world.client("facilitator"), width)
    try:
        page = context.new_page()
        page.goto(
            f"{live_server}/sessions/{world.session.id}/digest?participant={world.alice.id}&lang=en"
        )
        assert LONG_ADDRESS in page.inner_text("dl.facts")
        frame = page.frame_locator("iframe.mail-frame")
        assert "A-ONLY" in frame.locator("body").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()

"""The outcomes page in Chromium on a phone: readable without sideways scrolling, each chart
with its text alternative and table, and a print stylesheet that hides the site's chrome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.core.db import Db
from companion.outcomes.models import SessionFeedback
from tests.outcomes.conftest import Outcomes, World
from tests.services import signed_in_context

pytestmark = pytest.mark.browser

#: Elements wider than the viewport, outside the scrollable table regions.
OVERFLOWING = """
() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                && !el.closest('.table-wrap'))
  .slice(0, 5).map(el => el.tagName + '.' + el.className)
"""

#: Every chart: its accessible name and description, and whether a table follows it.
CHARTS = """
() => [...document.querySelectorAll('svg.chart')].map(svg => ({
  title: svg.querySelector('title')?.textContent || '',
  desc: svg.querySelector('desc')?.textContent || '',
  width: svg.getBoundingClientRect().width,
  table: !!svg.closest('section').querySelector('table'),
}))
"""


def test_outcomes_page_on_a_phone(
    app: Flask,
    browser: Any,
    live_server: str,
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    outcomes_world: Outcomes,
) -> None:
    sign_in(client, outcomes_world.facilitator)
    client.get("/programmes")  # the cookie jar gets the signed-in session
    context = signed_in_context(app, browser, client, 390, 844)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/programmes/{outcomes_world.programme.id}/outcomes")
        assert page.locator("h1").inner_text() == "Outcomes"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(
            OVERFLOWING
        )
        charts = page.evaluate(CHARTS)
        assert len(charts) >= 5
        for chart in charts:
            assert chart["title"] and chart["desc"], chart
            assert chart["table"], chart
            assert 0 < chart["width"] <= 390
        # The goal line is drawn, and the key figure says 3 of 6.
        assert page.locator("#chart-contacts .chart-goal").count() == 1
        assert page.get_by_text("3 / 6", exact=True).first.is_visible()
        # Text in the bar charts stays readable: at least 11 px on the phone.
        smallest = page.evaluate(
            "Math.min(...[...document.querySelectorAll('#chart-contacts text')]"
            ".map(t => t.getBoundingClientRect().height))"
        )
        assert smallest >= 11
        # The export links are there.
        assert page.locator("a[href$='/outcomes/funder.xlsx']").count() == 1
        # Printed, the site's header is hidden and the charts stay.
        page.emulate_media(media="print")
        assert page.locator(".site-header").first.is_hidden()
        box = page.evaluate(
            "JSON.stringify([document.querySelectorAll('#chart-attendance').length, "
            "document.querySelector('#chart-attendance')?.getBoundingClientRect()])"
        )
        assert page.locator("#chart-attendance").is_visible(), box
    finally:
        context.close()


def test_one_tap_rating_at_the_end_of_the_side_panel(
    app: Flask, db: Db, browser: Any, live_server: str, world: World
) -> None:
    alice = world.client("alice")
    alice.get("/me")  # the cookie jar gets the join-link session
    context = signed_in_context(app, browser, alice, 320, 640)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/panel/sessions/{world.session.id}?lang=en")
        section = page.locator("[data-feedback]")
        section.wait_for(state="visible")
        page.get_by_role("button", name="4 out of 5").click()
        page.get_by_text("Thank you! You can change your rating.").wait_for()
        assert page.get_by_role("button", name="4 out of 5").get_attribute("aria-pressed") == (
            "true"
        )
        page.get_by_label("Anything you want to say? (optional)").fill("Useful round")
        page.get_by_role("button", name="Send the comment").click()
        page.get_by_text("Comment saved.").wait_for()
    finally:
        context.close()
    db.rollback()
    rows = list(db.scalars(select(SessionFeedback)))
    assert [(r.participant_id, r.rating, r.comment, r.source) for r in rows] == [
        (world.alice.id, 4, "Useful round", "panel")
    ]

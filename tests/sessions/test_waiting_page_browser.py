"""The waiting page in a real browser: phone width, countdown, the reader's own time zone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from companion.core.db import utcnow
from companion.sessions import join_links
from tests.services import wait_until

pytestmark = pytest.mark.browser


def test_waiting_page_on_a_phone(
    app: Flask,
    db,
    make_programme,
    make_participant,
    make_session,
    live_server: str,
    browser,
    tmp_path: Path,
) -> None:
    programme = make_programme(timezone="Europe/Helsinki", language="fi")
    group = programme.groups[0]
    make_session(group, starts_at=utcnow() + timedelta(days=2), title="Ajanhallinta")
    participant = make_participant(programme, group=group, name="Aino Virtanen")
    with app.app_context():
        link = join_links.join_link_for(db, participant)
        db.commit()
        url = f"{live_server}/j/{join_links.join_token(link)}"

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="fi-FI", timezone_id="America/New_York"
    )
    page = context.new_page()
    page.goto(url)
    assert page.locator("h1").inner_text() == "Hei Aino!"
    countdown = page.locator("[data-countdown]")
    first = countdown.inner_text()
    # It ticks: the text changes within a few seconds even on a loaded machine.
    wait_until(
        page,
        "first => document.querySelector('[data-countdown]').textContent !== first",
        arg=first,
        timeout=5.0,
    )
    assert countdown.inner_text().startswith("1 päivä ")  # one day and some hours: singular
    note = page.get_by_text("Omalla aikavyöhykkeelläsi:")
    assert "America/New York" in note.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    calendar = page.get_by_role("link", name="Lisää tapaamiset kalenteriisi (.ics)")
    assert calendar.get_attribute("href").endswith("/sessions.ics")
    page.screenshot(path=str(tmp_path / "waiting-phone.png"), full_page=True)
    context.close()

"""A participant in Chromium opens their personal link from an email, downloads their data and
erases themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from companion.core.db import Db
from companion.digest.links import personal_url
from companion.programmes.models import ERASED, Participant
from companion.sessions.join_links import join_link_for
from tests.privacy.conftest import EMAIL, NAME, PHONE, SHARED_TOPIC, World, traces

pytestmark = pytest.mark.browser


def test_a_participant_downloads_and_erases_their_data(
    app: Flask, db: Db, world: World, live_server: str, browser: Any, tmp_path: Path
) -> None:
    with app.app_context():
        link = join_link_for(db, db.get_one(Participant, world.hannele.id))
        db.commit()
        url = personal_url(app.extensions["companion.config"], link, "data")
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    context.set_default_timeout(8000)
    try:
        page = context.new_page()
        page.goto(url.replace(app.extensions["companion.config"].base_url, live_server))
        page.goto(f"{live_server}/me/data?lang=en")
        assert page.locator("h1").inner_text() == "My data"
        body = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
        assert NAME in body and PHONE in body and SHARED_TOPIC in body

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download my data (JSON)").click()
        saved = tmp_path / "my-data.json"
        download_info.value.save_as(saved)
        document = json.loads(saved.read_text(encoding="utf-8"))
        assert document["profile"][0]["email"] == EMAIL

        page.get_by_role("link", name="Erase my data").click()
        page.get_by_label("Type ERASE to confirm").fill("ERASE")
        page.get_by_role("button", name="Erase my data").click()
        page.wait_for_url("**/me/data/erase")
        assert page.locator("h1").inner_text() == "Your data was erased"
        page.goto(f"{live_server}/me/data?lang=en")
        assert "Open your personal link" in page.locator("h1").inner_text()
    finally:
        context.close()
    db.rollback()
    assert db.scalar(select(Participant.source).where(Participant.id == world.hannele.id)) == ERASED
    assert traces(db, (NAME, EMAIL, PHONE)) == []

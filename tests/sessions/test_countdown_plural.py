"""The waiting page's countdown says "1 day" and "3 days" (and "1 päivä", "3 päivää"): the
page gives both plural forms and the script picks one by the number."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from companion.core.db import Db, utcnow
from companion.sessions import join_links

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "days", "shown"),
    [("en", 2, "1 day "), ("en", 4, "3 days "), ("fi", 2, "1 päivä "), ("fi", 4, "3 päivää ")],
)
def test_countdown_days_in_plural_forms(
    app: Flask,
    db: Db,
    make_programme: Any,
    make_participant: Any,
    make_session: Any,
    live_server: str,
    browser: Any,
    lang: str,
    days: int,
    shown: str,
) -> None:
    programme = make_programme()
    make_session(programme.groups[0], starts_at=utcnow() + timedelta(days=days))
    participant = make_participant(programme, group=programme.groups[0], name="Aino Virtanen")
    with app.app_context():
        token = join_links.join_token(join_links.join_link_for(db, participant))
        db.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{live_server}/j/{token}?lang={lang}")
        text = page.locator("[data-countdown]").inner_text()
        assert text.startswith(shown), text
    finally:
        context.close()

"""The summary email's "How was it?" links: five per attendee, each opening the rating page
with that rating chosen; those who missed the session are not asked."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from companion.core.db import Db
from companion.outcomes.models import SessionFeedback
from tests.digest.conftest import (  # noqa: F401 - fixtures
    Held,
    breakouts,
    by_recipient,
    end_session,
    held,
    parts,
    run_worker,
    use_smtp,
)
from tests.services import SmtpServer


def test_attendees_get_rating_links_that_lead_to_the_rating_page(
    app: Flask,
    db: Db,
    held: Held,  # noqa: F811
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    world = held.world
    end_session(world)
    run_worker(app)
    received = by_recipient(use_smtp)
    text, html = parts(received[world.alice.email][0])
    assert "How was it?" in text and "How was it?" in html
    links = re.findall(
        r"http://127\.0\.0\.1:\d+(/me/t/[\w.\-]+\?next=feedback-\d+&rating=\d)", text
    )
    assert [link[-1] for link in links] == ["1", "2", "3", "4", "5"]
    assert f"feedback-{world.session.id}" in links[0]
    bob_text, _ = parts(received[world.bob.email][0])
    assert "How was it?" not in bob_text  # he missed it

    browser = app.test_client()
    opened = browser.get(links[4])
    assert opened.status_code == 303
    page = browser.get(opened.headers["Location"])
    assert page.status_code == 200
    assert 'value="5" checked' in page.get_data(as_text=True)
    saved = browser.post(
        f"/sessions/{world.session.id}/feedback", data={"rating": "5", "source": "email"}
    )
    assert saved.status_code == 303
    db.rollback()
    rows = list(db.scalars(select(SessionFeedback)))
    assert [(r.participant_id, r.rating, r.source) for r in rows] == [(world.alice.id, 5, "email")]

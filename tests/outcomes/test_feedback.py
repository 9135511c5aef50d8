"""A participant's rating of a session: from the summary email's link and the side panel's
API, once per person and session (a second answer replaces the first), members only."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from companion.core.db import Db
from companion.digest.links import personal_urls
from companion.outcomes.models import SessionFeedback
from companion.sessions.join_links import join_link_for
from companion.sessions.lifecycle import StoredStatus
from tests.outcomes.conftest import World


def _rows(db: Db, world: World) -> list[SessionFeedback]:
    db.rollback()  # the world's clients are plain test clients: see what they wrote
    return list(
        db.scalars(select(SessionFeedback).where(SessionFeedback.session_id == world.session.id))
    )


def test_email_link_chooses_but_does_not_save(app: Flask, db: Db, world: World) -> None:
    with app.app_context():
        link = join_link_for(db, world.alice)
        db.commit()
        (url,) = personal_urls(
            app.extensions["companion.config"], link, f"feedback-{world.session.id}"
        )
    browser = app.test_client()
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = browser.get(f"/{path}&rating=4")
    assert response.status_code == 303
    assert f"/sessions/{world.session.id}/feedback" in response.headers["Location"]
    assert "rating=4" in response.headers["Location"]
    page = browser.get(response.headers["Location"])
    assert page.status_code == 200
    assert 'value="4" checked' in page.get_data(as_text=True)
    # Opening the link (as a mail scanner does) saves nothing.
    assert _rows(db, world) == []


def test_once_per_person_and_session(db: Db, world: World) -> None:
    alice = world.client("alice")
    url = f"/sessions/{world.session.id}/feedback"
    first = alice.post(url, data={"rating": "2", "comment": "Too long", "source": "email"})
    assert first.status_code == 303
    again = alice.post(url, data={"rating": "5", "comment": "", "source": "page"})
    assert again.status_code == 303
    rows = _rows(db, world)
    assert len(rows) == 1
    assert (rows[0].participant_id, rows[0].rating, rows[0].comment) == (world.alice.id, 5, "")
    # The panel's API for Bob: his own row, and the same rule.
    api = f"/api/v1/sessions/{world.session.id}/feedback"
    bob = world.client("bob")
    assert bob.get(api).get_json()["rating"] is None
    assert bob.put(api, json={"rating": 3, "comment": "Nice"}).status_code == 200
    assert bob.put(api, json={"rating": 4, "comment": "Nicer"}).get_json()["rating"] == 4
    assert len(_rows(db, world)) == 2
    assert db.scalar(select(func.count()).select_from(SessionFeedback)) == 2
    assert {(r.participant_id, r.rating) for r in _rows(db, world)} == {
        (world.alice.id, 5),
        (world.bob.id, 4),
    }


def test_only_members_and_valid_ratings(db: Db, world: World) -> None:
    url = f"/sessions/{world.session.id}/feedback"
    assert world.client("dave").post(url, data={"rating": "5"}).status_code == 404
    assert world.client("olli").post(url, data={"rating": "5"}).status_code == 404
    assert world.client("alice").post(url, data={"rating": "9"}).status_code == 422
    api = f"/api/v1/sessions/{world.session.id}/feedback"
    assert world.client("facilitator").put(api, json={"rating": 5}).status_code == 404
    assert world.client("nobody").put(api, json={"rating": 5}).status_code in (401, 403)
    assert _rows(db, world) == []


def test_cancelled_session_cannot_be_rated(app: Flask, db: Db, world: World) -> None:
    with app.app_context():
        session = db.merge(world.session)
        session.status = StoredStatus.CANCELLED
        db.commit()
    response = world.client("alice").post(
        f"/sessions/{world.session.id}/feedback", data={"rating": "5"}
    )
    assert response.status_code == 409
    assert _rows(db, world) == []

"""Rooms follow sessions; a platform failure is recorded and retried, never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from companion.core.db import utcnow
from companion.core.jobs import Job, Worker
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import PlatformError, Room, RoomSpec
from companion.sessions import operations as ops
from companion.sessions.schemas import SessionIn
from tests.fakes.platform import FakePlatform, install


class FlakyPlatform(FakePlatform):
    """A platform that fails while `down` is set."""

    name = "flaky"
    label = "Flaky"


@pytest.fixture()
def flaky(monkeypatch: pytest.MonkeyPatch) -> type[FakePlatform]:
    return install(monkeypatch, FlakyPlatform, down=True)


def test_failed_room_is_kept_and_retried_by_the_worker(
    app: Flask, db, make_programme, flaky: type[FakePlatform]
) -> None:
    programme = make_programme(platform="flaky")
    tomorrow = (utcnow() + timedelta(days=1)).date()
    with app.app_context():
        session = ops.create_session(
            db,
            programme,
            SessionIn(
                group_id=programme.groups[0].id, title="S", date=tomorrow, start_time="09:00"
            ),
        )
        db.commit()
    room = db.scalar(select(MeetingRoom))
    assert room.status == "failed"
    assert room.data["error"] == "The platform is down for maintenance."
    job = db.scalar(select(Job))
    assert job.kind == "meetings.sync_room"

    Worker(app).run_once()  # still down: the job fails and is queued again
    db.rollback()
    assert db.scalar(select(Job)).status == "queued"
    assert db.scalar(select(MeetingRoom)).status == "failed"

    flaky.down = False
    Worker(app).run_once()
    db.rollback()
    room = db.scalar(select(MeetingRoom))
    assert room.status == "active"
    assert room.join_url == f"https://video.example/session-{session.id}"
    assert "error" not in room.data
    assert flaky.made == [f"session-{session.id}"]


def test_session_page_shows_the_failure(
    app: Flask, client, db, make_programme, make_session, sign_in, flaky: type[FakePlatform]
) -> None:
    programme = make_programme(platform="flaky")
    session = make_session(programme.groups[0])
    sign_in(client, programme.roles[0].facilitator)
    page = client.get(f"/sessions/{session.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "The platform is down for maintenance." in page.get_data(as_text=True)
    flaky.down = False
    response = client.post(f"/sessions/{session.id}/room")
    assert response.status_code == 303
    assert db.scalar(select(MeetingRoom)).status == "active"


def test_a_named_retry_time_is_kept(
    app: Flask, db, make_programme, make_session, flaky: type[FakePlatform], monkeypatch
) -> None:
    """A platform's daily limit says when to try again; the job waits until then."""
    tomorrow = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)

    def limited(self: FlakyPlatform, spec: RoomSpec) -> Room:
        raise PlatformError("Daily limit reached.", temporary=True, retry_at=tomorrow)

    programme = make_programme(platform="flaky")
    make_session(programme.groups[0])
    monkeypatch.setattr(FlakyPlatform, "create_room", limited)
    Worker(app).run_once()
    db.rollback()
    job = db.scalar(select(Job))
    assert job.status == "queued"
    assert job.run_at == tomorrow
    assert job.attempts == 0

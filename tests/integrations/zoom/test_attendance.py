"""Attendance after the meeting: Zoom's past participants merged with the join links (NOTES §3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db, utcnow
from companion.core.jobs import Job, Worker
from companion.sessions.attendance import presence_of, record_join, reports_of
from companion.sessions.models import Session
from integrations.zoom.models import ZoomWebhookEvent
from integrations.zoom.platform import encode_uuid
from integrations.zoom.webhook_events import process_webhook_event
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import english


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    make_participant: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> dict[str, Any]:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    programme = zoom_programme(facilitator)
    aino = make_participant(programme, name="Aino Aalto", email="aino@example.fi")
    bertta = make_participant(programme, name="Bertta Berg", email="bertta@example.fi")
    session = zoom_session(
        programme.groups[0], facilitator, starts_at=utcnow() - timedelta(hours=2)
    )
    db.commit()
    return {"facilitator": facilitator, "session": session, "aino": aino, "bertta": bertta}


def test_uuids_are_double_encoded_only_when_zoom_needs_it() -> None:
    assert encode_uuid("aDYlohsHRtCd4ii1uC2+hA==") == "aDYlohsHRtCd4ii1uC2%2BhA%3D%3D"
    assert encode_uuid("/ajXp112QmuoKj4854875==") == "%252FajXp112QmuoKj4854875%253D%253D"
    assert encode_uuid("ab//cd==") == "ab%252F%252Fcd%253D%253D"


def test_past_participants_merge_with_join_link_attendance(
    app: Flask, db: Db, client: FlaskClient, sign_in: Any, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session, aino, bertta = world["session"], world["aino"], world["bertta"]
    meeting_id = int(session.room.external_id)
    # Aino opened her join link before the meeting; Zoom then saw her twice (a reconnect).
    opened = utcnow() - timedelta(hours=2, minutes=5)
    with english(app):
        record_join(db, session, aino.id, at=opened)
        db.commit()
    start = (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    middle = (utcnow() - timedelta(hours=1, minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # An instance UUID that begins with "/" and holds "//" must be double-encoded (NOTES §3);
    # the fake answers "not found" (and fails the test) otherwise.
    uuid = "/Wk3//q1xRbGtIlsR0Qp9ow=="
    zoom.add_past_participants(
        uuid,
        [
            {"user_email": "AINO@example.fi", "name": "Aino", "join_time": start,
             "leave_time": middle, "duration": 1800},
            {"user_email": "aino@example.fi", "name": "Aino", "join_time": middle,
             "leave_time": end, "duration": 5100},
            {"user_email": "bertta@example.fi", "name": "Bertta", "join_time": start,
             "leave_time": end, "duration": 6900},
            {"user_email": "", "name": "Puhelinvieras", "join_time": start,
             "leave_time": end, "duration": 600},
        ],
        meeting_id=meeting_id,
    )  # fmt: skip
    row = session.room
    row.data = {**row.data, "last_uuid": uuid}
    db.commit()
    sign_in(client, world["facilitator"])
    answer = client.post(f"/integrations/zoom/sessions/{session.id}/attendance")
    assert answer.status_code == 303
    raw_paths = [r.raw_path for r in zoom.requests_to("GET", "/v2/past_meetings/*/participants")]
    assert raw_paths == [
        "/v2/past_meetings/%252FWk3%252F%252Fq1xRbGtIlsR0Qp9ow%253D%253D/participants"
    ]
    with app.app_context():
        facts = presence_of(db, session)
        reports = {(r.participant_id, r.source) for r in reports_of(db, session)}
    assert reports == {(aino.id, "link"), (aino.id, "platform"), (bertta.id, "platform")}
    # The platform outranks the join link; the earliest sighting is the link's.
    assert facts[aino.id].source == "platform" and facts[aino.id].present
    assert facts[aino.id].first_seen_at == opened
    assert facts[aino.id].minutes == 115
    assert facts[bertta.id].source == "platform" and facts[bertta.id].minutes == 115
    page = client.get(f"/integrations/zoom/sessions/{session.id}").get_data(as_text=True)
    assert "2 participants recognised" in page and "Puhelinvieras" in page


def test_attendance_job_after_the_meeting_ended(
    app: Flask, db: Db, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session = world["session"]
    meeting_id = session.room.external_id
    start = (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    uuid = zoom.end_meeting(
        meeting_id,
        [
            {"user_email": "aino@example.fi", "join_time": start, "duration": 3600},
            {"user_email": "bertta@example.fi", "join_time": start, "duration": 1200},
        ],
    )
    with english(app):
        event = ZoomWebhookEvent(
            dedupe_key="k",
            event="meeting.ended",
            payload={"object": {"id": meeting_id, "uuid": uuid}},
        )
        db.add(event)
        db.flush()
        process_webhook_event(db, event)
        db.commit()
    # The import runs some minutes later; pretend they have passed.
    job = db.query(Job).filter_by(kind="zoom.import_attendance").one()
    job.run_at = utcnow()
    db.commit()
    Worker(app).run_once()
    db.rollback()
    with app.app_context():
        facts = presence_of(db, session)
    assert sorted(f.minutes for f in facts.values() if f.present) == [20, 60]
    assert db.get(Session, session.id).status == "ended"

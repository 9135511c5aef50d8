"""Attendance after the meeting: Zoom's past participants of every run of the meeting, merged
into the one presence fact with the join links (NOTES §3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db, utcnow
from companion.core.jobs import Job, Worker
from companion.sessions.attendance import (
    presence_of,
    record_join,
    record_platform_presence,
    reports_of,
)
from companion.sessions.models import Session
from companion.sessions.presence import PresenceSource
from integrations.zoom.attendance import import_attendance
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
        record_join(db, session.id, aino.id, at=opened)
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


def _at(hours_ago: float) -> str:
    return (utcnow() - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_meeting_that_ran_twice_counts_both_runs(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    world: dict[str, Any],
    make_participant: Any,
) -> None:
    session, aino, bertta = world["session"], world["aino"], world["bertta"]
    programme = session.group.programme
    cecilia = make_participant(programme, name="Cecilia Carlsson", email="cecilia@example.fi")
    meeting_id = session.room.external_id
    # The first run ends (the host dropped out); the meeting starts again under a new UUID,
    # one that begins with "/" and holds "//", so it must be double-encoded (NOTES §3).
    second_uuid = "/Run2//kTq9pX0aZbGtIlsR0Q=="
    first_uuid = zoom.end_meeting(
        meeting_id,
        [
            {"user_email": "aino@example.fi", "name": "Aino", "join_time": _at(2),
             "leave_time": _at(1.5), "duration": 1800},
            {"user_email": "bertta@example.fi", "name": "Bertta", "join_time": _at(2),
             "leave_time": _at(1.5), "duration": 1800},
        ],
        next_uuid=second_uuid,
    )  # fmt: skip
    assert zoom.end_meeting(
        meeting_id,
        [
            {"user_email": "aino@example.fi", "name": "Aino", "join_time": _at(1.25),
             "leave_time": _at(0.5), "duration": 2700},
            {"user_email": "cecilia@example.fi", "name": "Cecilia", "join_time": _at(1.25),
             "leave_time": _at(0.5), "duration": 2700},
        ],
    ) == second_uuid  # fmt: skip
    # The webhook saw Bertta join during the first run; the import replaces that report.
    with english(app):
        record_platform_presence(
            db, session, bertta.id, platform="zoom", joined_at=utcnow() - timedelta(hours=2),
            left_at=None, minutes=None,
        )  # fmt: skip
        db.commit()

    sign_in(client, world["facilitator"])
    for _ in range(2):  # reading Zoom again replaces the report, it does not add to it
        answer = client.post(f"/integrations/zoom/sessions/{session.id}/attendance")
        assert answer.status_code == 303

    assert zoom.count("GET", f"/v2/past_meetings/{meeting_id}/instances") == 2
    raw_paths = {r.raw_path for r in zoom.requests_to("GET", "/v2/past_meetings/*/participants")}
    assert raw_paths == {
        f"/v2/past_meetings/{encode_uuid(first_uuid)}/participants",
        "/v2/past_meetings/%252FRun2%252F%252FkTq9pX0aZbGtIlsR0Q%253D%253D/participants",
    }
    facts = presence_of(db, db.get(Session, session.id))
    assert {pid for pid, fact in facts.items() if fact.present} == {aino.id, bertta.id, cecilia.id}
    assert all(facts[p].source is PresenceSource.PLATFORM for p in (aino.id, bertta.id, cecilia.id))
    # Aino was in both runs: her minutes add up; her first join and last leave span both.
    assert facts[aino.id].minutes == 30 + 45
    assert facts[bertta.id].minutes == 30 and facts[cecilia.id].minutes == 45
    report = next(r for r in reports_of(db, session, [aino.id]) if r.source == "platform")
    assert report.first_seen_at is not None and report.last_seen_at is not None
    assert utcnow() - report.first_seen_at > timedelta(hours=1, minutes=55)
    assert utcnow() - report.last_seen_at < timedelta(minutes=35)
    page = client.get(f"/integrations/zoom/sessions/{session.id}").get_data(as_text=True)
    assert "3 participants recognised" in page


def test_a_run_zoom_no_longer_has_does_not_lose_the_others(
    app: Flask, db: Db, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session = world["session"]
    meeting_id = session.room.external_id
    zoom.end_meeting(
        meeting_id,
        [
            {"user_email": "aino@example.fi", "duration": 600},
            {"user_email": "bertta@example.fi", "duration": 600},
        ],
    )
    # A webhook named a later run Zoom does not have (yet): it answers 404 for that one.
    row = session.room
    row.data = {**row.data, "last_uuid": "NotYetInZoom0000000000=="}
    db.commit()
    with english(app):
        result = import_attendance(db, session)
        db.commit()
    assert result.matched == 2
    facts = presence_of(db, db.get(Session, session.id))
    assert sorted(f.minutes or 0 for f in facts.values()) == [10, 10]

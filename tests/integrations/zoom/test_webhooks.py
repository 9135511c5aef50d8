"""Zoom's webhooks: signatures, the URL challenge, storing once, and what the worker does."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db, utcnow
from companion.core.jobs import Job, Worker
from companion.sessions.models import PresenceReport, Session, SessionStatus
from integrations.zoom.models import (
    ZoomConnection,
    ZoomDailyUsage,
    ZoomIdentity,
    ZoomWebhookEvent,
)
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import WEBHOOK_SECRET

URL = "/integrations/zoom/webhook"


def _send(
    client: FlaskClient, zoom: FakeZoom, body: dict[str, Any], timestamp: int | None = None
) -> Any:
    raw = json.dumps(body).encode()
    return client.post(URL, data=raw, headers=zoom.sign_webhook(raw, WEBHOOK_SECRET, timestamp))


def _event(name: str, obj: dict[str, Any], **payload: Any) -> dict[str, Any]:
    return {
        "event": name,
        "event_ts": int(time.time() * 1000),
        "payload": {"account_id": "fakeAccountId0001", "object": obj, **payload},
    }


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
    connection = connect_zoom(facilitator)
    programme = zoom_programme(facilitator)
    aino = make_participant(programme, name="Aino Aalto", email="aino@example.fi")
    session = zoom_session(programme.groups[0], facilitator, starts_at=utcnow())
    db.commit()
    return {"session": session, "aino": aino, "connection": connection}


def test_good_signature_is_stored_once_and_answered_at_once(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    body = _event("meeting.started", {"id": world["session"].room.external_id, "uuid": "u1=="})
    answer = _send(client, zoom, body)
    # Answered before any work is done (NOTES §4: Zoom wants an answer within 3 s): the event
    # is only queued for the worker.
    assert answer.status_code == 200 and answer.get_json() == {"status": "queued"}
    # A replay (same body and signature, inside the window) is acknowledged, not stored again.
    raw = json.dumps(body).encode()
    headers = zoom.sign_webhook(raw, WEBHOOK_SECRET)
    assert client.post(URL, data=raw, headers=headers).get_json() == {"status": "duplicate"}
    assert client.post(URL, data=raw, headers=headers).get_json() == {"status": "duplicate"}
    assert db.query(ZoomWebhookEvent).count() == 1
    assert db.query(Job).filter_by(kind="zoom.webhook_event").count() == 1


def test_bad_signature_is_refused(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    raw = json.dumps(_event("meeting.started", {"id": 1})).encode()
    headers = zoom.sign_webhook(raw, "someone-elses-secret")
    answer = client.post(URL, data=raw, headers=headers)
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    tampered = zoom.sign_webhook(raw, WEBHOOK_SECRET)
    answer = client.post(URL, data=raw.replace(b"1", b"2"), headers=tampered)
    assert answer.status_code == 401
    unsigned = client.post(URL, data=raw, headers={"content-type": "application/json"})
    assert unsigned.status_code == 401
    assert db.query(ZoomWebhookEvent).count() == 0


def test_stale_signature_is_refused(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    body = _event("meeting.started", {"id": 1})
    assert _send(client, zoom, body, timestamp=int(time.time()) - 600).status_code == 401
    assert _send(client, zoom, body, timestamp=int(time.time()) + 600).status_code == 401
    assert db.query(ZoomWebhookEvent).count() == 0


def test_url_validation(app: Flask, client: FlaskClient, zoom: FakeZoom) -> None:
    body = {
        "event": "endpoint.url_validation",
        "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
        "event_ts": int(time.time() * 1000),
    }
    expected = zoom.url_validation_answer("qgg8vlvZRS6UYooatFL8Aw", WEBHOOK_SECRET)
    answer = _send(client, zoom, body)
    assert answer.status_code == 200 and answer.get_json() == expected
    # Validation may come unsigned (NOTES §4) ...
    unsigned = client.post(URL, json=body)
    assert unsigned.status_code == 200 and unsigned.get_json() == expected
    # ... but a wrong signature is still refused, and odd tokens are not answered.
    raw = json.dumps(body).encode()
    assert client.post(URL, data=raw, headers=zoom.sign_webhook(raw, "x")).status_code == 401
    oracle = dict(body, payload={"plainToken": "v0:1700000000:{}"})
    assert client.post(URL, json=oracle).status_code == 422


def test_webhooks_need_their_secret(app: Flask, client: FlaskClient) -> None:
    answer = client.post(URL, json={"event": "meeting.started"})
    assert answer.status_code == 503


def test_meeting_ended_ends_the_session_and_queues_attendance(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session = world["session"]
    mid = session.room.external_id
    _send(client, zoom, _event("meeting.started", {"id": mid, "uuid": "inst1=="}))
    ended = _event(
        "meeting.ended",
        {"id": int(mid), "uuid": "inst1==", "end_time": "2026-11-27T12:00:00Z"},
    )
    _send(client, zoom, ended)
    Worker(app).run_once()
    db.rollback()
    session = db.get(Session, session.id)
    assert session is not None and session.status == SessionStatus.ENDED
    assert session.ended_at is not None and session.ended_at.hour == 12
    assert session.room.data["last_uuid"] == "inst1=="
    assert db.query(Job).filter_by(kind="zoom.import_attendance").count() == 1
    assert {e.status for e in db.query(ZoomWebhookEvent)} == {"done"}


def test_participant_events_record_attendance(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    mid = world["session"].room.external_id
    person = {
        "id": "zoomUserAino01",
        "user_name": "Aino",
        "email": "Aino@example.fi",
        "join_time": "2026-11-27T09:01:00Z",
    }
    guest = {"id": "", "user_name": "Guest", "email": "", "join_time": "2026-11-27T09:02:00Z"}
    _send(client, zoom, _event("meeting.participant_joined", {"id": mid, "participant": person}))
    _send(client, zoom, _event("meeting.participant_joined", {"id": mid, "participant": guest}))
    left = dict(person, leave_time="2026-11-27T10:30:00Z")
    _send(client, zoom, _event("meeting.participant_left", {"id": mid, "participant": left}))
    Worker(app).run_once()
    db.rollback()
    attendance = db.query(PresenceReport).one()
    assert attendance.participant_id == world["aino"].id
    assert attendance.source == "platform" and attendance.detail == "zoom"
    assert attendance.first_seen_at is not None and attendance.first_seen_at.minute == 1
    assert attendance.last_seen_at is not None and attendance.last_seen_at.hour == 10
    assert db.query(ZoomIdentity).one().zoom_user_id == "zoomUserAino01"
    statuses = sorted(e.status for e in db.query(ZoomWebhookEvent))
    assert statuses == ["done", "done", "ignored"]


def test_events_of_other_meetings_are_ignored(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    _send(client, zoom, _event("meeting.ended", {"id": "12345678901", "uuid": "x"}))
    Worker(app).run_once()
    db.rollback()
    assert db.query(ZoomWebhookEvent).one().status == "ignored"
    assert db.get(Session, world["session"].id).status == SessionStatus.SCHEDULED


def test_app_deauthorized_deletes_the_users_zoom_data(
    app: Flask, db: Db, client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    user_id = zoom.default_user.id
    mid = world["session"].room.external_id
    _send(client, zoom, _event("meeting.started", {"id": mid, "uuid": "i==", "host_id": user_id}))
    db.add(ZoomIdentity(zoom_user_id=user_id, participant_id=world["aino"].id))
    db.commit()
    body = {
        "event": "app_deauthorized",
        "event_ts": int(time.time() * 1000),
        "payload": {
            "account_id": zoom.account_id,
            "user_id": user_id,
            "signature": "ignored",
            "deauthorization_time": "2026-11-27T12:00:00Z",
            "client_id": zoom.client_id,
            "user_data_retention": "false",
        },
    }
    assert _send(client, zoom, body).status_code == 200
    Worker(app).run_once()
    db.rollback()
    assert db.query(ZoomConnection).count() == 0
    assert db.query(ZoomDailyUsage).count() == 0
    assert db.query(ZoomIdentity).count() == 0
    remaining = db.query(ZoomWebhookEvent).all()
    assert [e.event for e in remaining] == ["app_deauthorized"]
    assert remaining[0].payload == {} and remaining[0].zoom_user_id == ""
    room = db.get(Session, world["session"].id).room
    assert "host_zoom_user_id" not in room.data and "host_email" not in room.data

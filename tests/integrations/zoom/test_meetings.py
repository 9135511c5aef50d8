"""Zoom meetings of sessions: created by the host facilitator, kept in step, never duplicated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from companion.core.db import Db, utcnow
from companion.core.jobs import Worker
from companion.meetings.operations import ensure_session_room
from companion.meetings.platform import Person, Room, RoomSpec, get_platform, platform_names
from companion.sessions import operations as session_ops
from companion.sessions.models import Session
from companion.sessions.schemas import SessionMove
from integrations.zoom.errors import ZoomError
from integrations.zoom.models import ZoomDailyUsage
from integrations.zoom.platform import ZoomPlatform
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import english


def _setup(make_facilitator: Any, zoom_programme: Any, connect_zoom: Any) -> tuple[Any, Any]:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    return facilitator, zoom_programme(facilitator)


def test_zoom_is_an_installed_platform() -> None:
    assert "zoom" in platform_names()


def test_session_gets_a_meeting_hosted_by_its_facilitator(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    session = zoom_session(programme.groups[0], facilitator)
    room = session.room
    assert room is not None and room.status == "active"
    meeting = zoom.meeting(room.external_id)
    # NOTES §2.1: ids are int64 with more than 10 digits; kept as text, never truncated.
    assert int(room.external_id) > 2**31 and room.data["meeting_id"] == meeting["id"]
    assert room.join_url == meeting["join_url"]
    assert meeting["host_id"] == zoom.default_user.id
    assert meeting["type"] == 2 and meeting["duration"] == 120
    assert meeting["start_time"] == session.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert meeting["settings"]["waiting_room"] is True
    assert meeting["settings"]["join_before_host"] is False
    assert meeting["password"] and room.data["passcode"] == meeting["password"]
    assert meeting["agenda"].startswith("[kollega:")
    assert room.data["host_facilitator_id"] == facilitator.id
    assert room.data["uuid"] == meeting["uuid"]


def test_join_link_forwards_to_the_zoom_join_url(
    app: Flask,
    db: Db,
    client: FlaskClient,
    zoom: FakeZoom,
    make_facilitator: Any,
    make_participant: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    participant = make_participant(programme)
    session = zoom_session(programme.groups[0], facilitator, starts_at=utcnow())
    with english(app):
        link = session_ops.join_link_for(db, participant)
        token = session_ops.join_token(link)
        db.commit()
    response = client.get(f"/j/{token}")
    assert response.status_code == 303
    assert response.headers["Location"] == session.room.join_url
    assert response.headers["Location"].startswith("https://")


def test_reschedule_and_cancel_follow_the_session(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    session = zoom_session(programme.groups[0], facilitator)
    meeting_id = session.room.external_id
    new_day = (utcnow() + timedelta(days=10)).date()
    with english(app):
        session_ops.move_session(
            db, session, SessionMove(date=new_day, start_time="10:00", duration_minutes=90)
        )
        db.commit()
    meeting = zoom.meeting(meeting_id)
    assert meeting["duration"] == 90
    assert meeting["start_time"] == session.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert zoom.count("PATCH", f"/v2/meetings/{meeting_id}") == 1
    with english(app):
        session_ops.cancel_session(db, session)
        db.commit()
    assert zoom.meetings() == []
    assert zoom.count("DELETE", f"/v2/meetings/{meeting_id}") == 1


def test_without_a_zoom_connection_the_room_fails_and_is_retried(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator = make_facilitator()
    programme = zoom_programme(facilitator)
    session = zoom_session(programme.groups[0], facilitator)
    row = session.rooms[0]
    assert row.status == "failed" and row.data["reconnect"] is True
    assert "Connect your Zoom account" in row.data["error"]
    assert zoom.requests == []
    connect_zoom(facilitator)
    Worker(app).run_once()
    db.rollback()
    row = db.get(Session, session.id).rooms[0]
    assert row.status == "active" and len(zoom.meetings()) == 1


def test_no_duplicate_meeting_after_a_timed_out_create(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    zoom_config: Any,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    zoom_config(zoom_timeout_seconds=0.3)
    # The fake makes the meeting, then answers too late for us (NOTES §7: never duplicate).
    zoom.inject("POST", "/v2/users/*/meetings", delay=1.0)
    session = zoom_session(programme.groups[0], facilitator)
    assert session.room is not None and session.room.status == "active"
    assert zoom.count("POST", "/v2/users/me/meetings") == 1
    assert len(zoom.meetings()) == 1
    assert session.room.external_id == str(zoom.meetings()[0]["id"])


def test_a_retried_create_finds_the_meeting_made_before(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    spec = RoomSpec(
        key="session-77",
        title="eKollega: Session 7",
        starts_at=utcnow() + timedelta(days=2),
        duration_minutes=60,
        timezone="Europe/Helsinki",
    )
    with english(app):
        platform = get_platform("zoom", app.extensions["companion.config"], db, facilitator.id)
        first = platform.create_room(spec)
        again = platform.create_room(spec)
    assert first.external_id == again.external_id
    assert zoom.count("POST", "/v2/users/me/meetings") == 1


def test_5xx_is_retried_with_backoff(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    zoom.inject("POST", "/v2/users/*/meetings", 503, times=1)
    zoom.inject("GET", "/v2/meetings/*", 502, times=2)
    session = zoom_session(programme.groups[0], facilitator)
    assert session.room is not None and session.room.status == "active"
    assert len(zoom.meetings()) == 1
    assert zoom.count("POST", "/v2/users/me/meetings") == 2
    assert zoom.count("GET", "/v2/meetings/*") == 3


def test_429_with_retry_after_seconds_waits_and_repeats(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    zoom.inject("GET", "/v2/users/*/meetings", 429, retry_after="seconds", retry_in=1)
    session = zoom_session(programme.groups[0], facilitator)
    assert session.room.status == "active"
    listed = zoom.requests_to("GET", "/v2/users/me/meetings")
    assert len(listed) == 2 and listed[1].time - listed[0].time >= 0.9


def test_429_with_retry_after_date_stops_until_then(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    # NOTES §2.5: a daily limit answers Retry-After as an ISO-8601 date; it is not waited out.
    zoom.inject("POST", "/v2/users/*/meetings", 429, retry_after="date", retry_in=3 * 3600)
    session = zoom_session(programme.groups[0], facilitator)
    row = session.rooms[0]
    assert row.status == "failed"
    assert "daily limit" in row.data["error"] and "UTC" in row.data["error"]
    blocked = db.query(ZoomDailyUsage).one().blocked_until
    assert blocked is not None and blocked > utcnow() + timedelta(hours=2)
    # Until then nothing more is sent: the facilitator's retry is refused here, not by Zoom.
    posts = zoom.count("POST", "/v2/users/me/meetings")
    with english(app):
        ensure_session_room(db, db.get(Session, session.id), facilitator.id)
        db.commit()
    assert zoom.count("POST", "/v2/users/me/meetings") == posts


def test_the_per_user_daily_limit_without_headers_is_recognised(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    connect_zoom: Any,
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    zoom.daily_meeting_limit = 1
    with english(app):
        platform = get_platform("zoom", app.extensions["companion.config"], db, facilitator.id)
        spec = RoomSpec("session-1", "One", utcnow() + timedelta(days=1), 60, "UTC")
        platform.create_room(spec)
        try:
            platform.create_room(RoomSpec("session-2", "Two", spec.starts_at, 60, "UTC"))
        except ZoomError as exc:
            error = exc
        else:
            raise AssertionError("the second create should hit the daily limit")
    assert error.temporary and error.retry_at is not None
    assert "daily limit" in error.message


def test_quota_is_counted_and_refused_before_zoom_would(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    zoom_session(programme.groups[0], facilitator)
    sign_in(client, facilitator)
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "99 / 100" in page
    usage = db.query(ZoomDailyUsage).one()
    usage.requests = 95
    db.commit()
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "5 / 100" in page and "notice warning" in page
    usage = db.query(ZoomDailyUsage).one()
    usage.requests = 100
    db.commit()
    posts = zoom.count("POST", "/v2/users/me/meetings")
    session = zoom_session(programme.groups[0], facilitator, title="Session 2")
    row = session.rooms[0]
    assert row.status == "failed" and "used up" in row.data["error"]
    assert zoom.count("POST", "/v2/users/me/meetings") == posts


def test_zoom_error_bodies_become_words(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    body = {
        "code": 300,
        "message": "Validation Failed.",
        "errors": [{"field": "start_time", "message": "Invalid field."}],
    }
    zoom.inject("PATCH", "/v2/meetings/*", 400, body=body)
    with english(app):
        platform = get_platform("zoom", app.extensions["companion.config"], db, facilitator.id)
        assert isinstance(platform, ZoomPlatform)
        spec = RoomSpec("session-5", "Five", utcnow() + timedelta(days=1), 60, "UTC")
        room = platform.create_room(spec)
        with force_locale("fi"):
            try:
                platform.update_room(room, spec)
            except ZoomError as exc:
                finnish = exc.message
        zoom.inject("DELETE", "/v2/meetings/*", 400, body={"code": 3002, "message": "In progress"})
        try:
            platform.delete_room(room)
        except ZoomError as exc:
            in_english = exc.message
    assert "start_time" in finnish and "Zoom ei hyväksynyt" in finnish
    assert "in progress" in in_english and in_english.startswith("The meeting is in progress")


def test_gateway_html_is_not_taken_for_json(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    zoom.inject("GET", "/v2/users/*/meetings", 502, times=None)
    with english(app):
        platform = get_platform("zoom", app.extensions["companion.config"], db, facilitator.id)
        try:
            platform.create_room(RoomSpec("s", "S", utcnow() + timedelta(days=1), 60, "UTC"))
        except ZoomError as exc:
            assert exc.temporary and "502" in exc.message
        else:
            raise AssertionError("expected a ZoomError")
    assert zoom.count("GET", "/v2/users/me/meetings") == 3  # one try and two retries


def test_delete_of_a_meeting_already_gone_is_fine(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    with english(app):
        platform = get_platform("zoom", app.extensions["companion.config"], db, facilitator.id)
        platform.delete_room(Room(external_id="98765432101", join_url="", data={}))
        assert platform.join_url(Room("1", "https://zoom.example/j/1", {}), Person(1, "A", "")) == (
            "https://zoom.example/j/1"
        )


def test_server_to_server_meeting_for_the_facilitator(
    app: Flask,
    db: Db,
    zoom_s2s: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    zoom_session: Any,
) -> None:
    facilitator = make_facilitator(email=zoom_s2s.default_user.email)
    programme = zoom_programme(facilitator)
    first = zoom_session(programme.groups[0], facilitator)
    second = zoom_session(programme.groups[0], facilitator, title="Session 2")
    assert first.room.status == "active" and second.room.status == "active"
    host = zoom_s2s.default_user.email
    assert zoom_s2s.count("POST", f"/v2/users/{host}/meetings") == 2
    # NOTES §1.1/§1.2: a token is cached and reused, not fetched per call.
    assert zoom_s2s.token_requests["account_credentials"] == 1
    assert zoom_s2s.meeting(first.room.external_id)["host_id"] == zoom_s2s.default_user.id


def test_facilitator_chooses_the_meeting_settings(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    session = zoom_session(programme.groups[0], facilitator)
    meeting_id = session.room.external_id
    sign_in(client, facilitator)
    page = client.get(f"/integrations/zoom/sessions/{session.id}").get_data(as_text=True)
    assert "Ready in Zoom" in page and meeting_id[:3] in page
    answer = client.post(
        f"/integrations/zoom/sessions/{session.id}",
        data={"join_before_host": "on"},  # no waiting room, no passcode
    )
    assert answer.status_code == 303
    settings = zoom.meeting(meeting_id)["settings"]
    assert settings["waiting_room"] is False and settings["join_before_host"] is True
    patch = zoom.requests_to("PATCH", f"/v2/meetings/{meeting_id}")[-1]
    assert patch.json["password"] == ""  # the passcode was switched off
    db.rollback()
    assert db.get(Session, session.id).room.data["settings"] == {
        "waiting_room": False,
        "join_before_host": True,
        "passcode": False,
    }
    # The waiting room turns join-before-host off (NOTES §2.1).
    client.post(
        f"/integrations/zoom/sessions/{session.id}",
        data={"waiting_room": "on", "join_before_host": "on", "passcode": "on"},
    )
    settings = zoom.meeting(meeting_id)["settings"]
    assert settings["waiting_room"] is True and settings["join_before_host"] is False
    assert zoom.meeting(meeting_id)["password"]


def test_host_starts_with_a_fresh_start_url_and_can_recreate(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    session = zoom_session(programme.groups[0], facilitator)
    old_id = session.room.external_id
    sign_in(client, facilitator)
    start = client.get(f"/integrations/zoom/sessions/{session.id}/start")
    assert start.status_code == 303 and "zak=" in start.headers["Location"]
    # Someone deleted the meeting in Zoom; the facilitator makes a new one.
    token = zoom.issue_tokens()["access_token"]
    requests.delete(
        f"{zoom.api_url}/meetings/{old_id}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).raise_for_status()
    answer = client.post(f"/integrations/zoom/sessions/{session.id}/recreate")
    assert answer.status_code == 303
    db.rollback()
    room = db.get(Session, session.id).room
    assert room is not None and room.status == "active" and room.external_id != old_id
    assert [m["id"] for m in zoom.meetings()] == [int(room.external_id)]


def test_zoom_pages_of_other_sessions_are_not_found(
    app: Flask,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
    make_programme: Any,
    make_session: Any,
) -> None:
    facilitator = make_facilitator()
    jitsi = make_programme(facilitator=facilitator)
    session = make_session(jitsi.groups[0])
    sign_in(client, facilitator)
    answer = client.get(f"/integrations/zoom/sessions/{session.id}")
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    sign_in(client, make_facilitator())
    assert client.get(f"/integrations/zoom/sessions/{session.id}").status_code == 404


def test_programmes_can_choose_zoom_and_schedule_on_it(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
) -> None:
    facilitator, programme = _setup(make_facilitator, zoom_programme, connect_zoom)
    sign_in(client, facilitator)
    form = client.get("/programmes/new").get_data(as_text=True)
    assert '<option value="zoom"' in form and ">Zoom</option>" in form
    answer = client.post(
        f"/api/v1/programmes/{programme.id}/schedule",
        json={"group_id": programme.groups[0].id, "first_date": "2027-02-01", "count": 3},
    )
    assert answer.status_code == 201, answer.get_json()
    assert all(s["join_url"].startswith("https://") for s in answer.get_json())
    assert len(zoom.meetings()) == 3
    assert {m["host_id"] for m in zoom.meetings()} == {zoom.default_user.id}


def test_an_answer_that_is_not_json_is_an_error_not_a_crash(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    # NOTES §2.4: some answers come as XML or HTML; never assume JSON.
    zoom.inject("GET", "/v2/users/*/meetings", 200, body="<xml/>", content_type="application/xml")
    with english(app):
        platform = get_platform("zoom", app.extensions["companion.config"], db, facilitator.id)
        try:
            platform.create_room(RoomSpec("s", "S", utcnow() + timedelta(days=1), 60, "UTC"))
        except ZoomError as exc:
            assert exc.temporary and "unexpected" in exc.message
        else:
            raise AssertionError("expected a ZoomError")

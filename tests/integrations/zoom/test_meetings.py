"""Zoom meetings of sessions: created by the host facilitator, kept in step, never duplicated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db, utcnow
from companion.core.jobs import Worker
from companion.meetings.platform import platform_names
from companion.sessions import join_links
from companion.sessions import operations as session_ops
from companion.sessions.models import Session
from companion.sessions.schemas import SessionMove
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import connected_programme, english


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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
    participant = make_participant(programme)
    session = zoom_session(programme.groups[0], facilitator, starts_at=utcnow())
    with english(app):
        link = join_links.join_link_for(db, participant)
        token = join_links.join_token(link)
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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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

"""Zoom's rate limits (NOTES §2.5): waited out or respected until they lift; the per-user
daily quota is counted here and refused before Zoom would."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db, utcnow
from companion.meetings.operations import ensure_session_room
from companion.meetings.platform import RoomSpec, get_platform
from companion.sessions.models import Session
from integrations.zoom.errors import ZoomError
from integrations.zoom.models import ZoomDailyUsage
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import connected_programme, english


def test_429_with_retry_after_seconds_waits_and_repeats(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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

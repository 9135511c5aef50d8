"""Zoom failing while meetings are made: never a duplicate, retries, error answers in words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask_babel import force_locale

from companion.core.db import Db, utcnow
from companion.meetings.platform import Person, Room, RoomSpec, get_platform
from integrations.zoom.errors import ZoomError
from integrations.zoom.platform import ZoomPlatform
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import connected_programme, english


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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
    zoom.inject("POST", "/v2/users/*/meetings", 503, times=1)
    zoom.inject("GET", "/v2/meetings/*", 502, times=2)
    session = zoom_session(programme.groups[0], facilitator)
    assert session.room is not None and session.room.status == "active"
    assert len(zoom.meetings()) == 1
    assert zoom.count("POST", "/v2/users/me/meetings") == 2
    assert zoom.count("GET", "/v2/meetings/*") == 3


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

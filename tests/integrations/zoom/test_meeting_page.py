"""The facilitator's page of a session's Zoom meeting: settings, start as host, recreate."""

from __future__ import annotations

from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db
from companion.sessions.models import Session
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import connected_programme


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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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
    facilitator, programme = connected_programme(make_facilitator, zoom_programme, connect_zoom)
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

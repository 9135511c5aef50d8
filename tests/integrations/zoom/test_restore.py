"""A cancelled session that is restored gets a new Zoom meeting in its host's account, whoever
restores it (the host is remembered apart from the rooms, which cancelling deletes)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.operations import grant_programme
from companion.core.db import Db
from companion.meetings.models import RoomHost
from companion.meetings.operations import room_host
from companion.sessions.models import Session
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import english


def test_restore_after_cancel_remakes_the_meeting_with_its_host(
    app: Flask,
    db: Db,
    client: FlaskClient,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
    sign_in: Any,
) -> None:
    host = make_facilitator(name="Hilla Host")
    colleague = make_facilitator(organisation=host.organisation, name="Olli Other")
    host_user = zoom.add_user(email="hilla@example.org")
    colleague_user = zoom.add_user(email="olli@example.org")
    connect_zoom(host, host_user)
    connect_zoom(colleague, colleague_user)
    programme = zoom_programme(host)
    with app.app_context():
        grant_programme(db, colleague, programme)
        db.commit()
    session = zoom_session(programme.groups[0], host)
    first_meeting = session.room.external_id
    assert zoom.meeting(first_meeting)["host_id"] == host_user.id

    # The colleague cancels and restores the session: the meeting stays the host's.
    sign_in(client, colleague)
    assert client.post(f"/sessions/{session.id}/cancel").status_code == 303
    assert [m["id"] for m in zoom.meetings()] == []
    assert client.post(f"/sessions/{session.id}/restore").status_code == 303

    creates = zoom.requests_to("POST", "/v2/users/*/meetings")
    assert len(creates) == 2
    assert creates[-1].user_id == host_user.id and creates[-1].status == 201
    restored = db.get(Session, session.id)
    assert restored is not None and restored.status == "scheduled"
    room = restored.room
    assert room is not None and room.status == "active" and "error" not in room.data
    assert room.external_id != first_meeting
    assert zoom.meeting(room.external_id)["host_id"] == host_user.id
    assert room.data["host_facilitator_id"] == host.id
    with english(app):
        page = client.get(f"/integrations/zoom/sessions/{session.id}").get_data(as_text=True)
    assert "Ready in Zoom" in page and "Connect your Zoom account first" not in page


def test_a_room_made_before_hosts_were_remembered_still_finds_its_host(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> None:
    host = make_facilitator()
    connect_zoom(host)
    programme = zoom_programme(host)
    first = zoom_session(programme.groups[0], host, title="Session 1")
    second = zoom_session(programme.groups[0], host, title="Session 2")
    # Forget what was remembered, as for rooms made before: the rooms' data still names the
    # host, and a session whose rooms are gone asks the group's nearest session.
    db.query(RoomHost).delete()
    for row in list(second.rooms):
        db.delete(row)
    db.commit()
    with english(app):
        assert room_host(db, first) == host.id
        assert room_host(db, db.get(Session, second.id)) == host.id

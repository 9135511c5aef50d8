"""A session's Teams meeting: a calendar event with invitations, moved, cancelled, restored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from companion.config import Config
from companion.core.db import Db
from companion.meetings.platform import platform_names
from companion.sessions import operations as session_ops
from companion.sessions.notices import platform_sends_its_own
from companion.sessions.schemas import SessionMove
from integrations.teams.meetings import set_invitations
from integrations.teams.panel import session_for_thread
from tests.integrations.teams.conftest import TeamsFakes, english


def test_teams_is_an_installed_platform() -> None:
    assert "teams" in platform_names()


def test_session_gets_an_online_event_with_the_participants_invited(
    app: Flask, db: Db, teams: TeamsFakes, world: dict[str, Any]
) -> None:
    session, fake = world["session"], teams.graph
    room = session.room
    assert room is not None and room.status == "active"
    event = fake.event(room.external_id)
    assert event["isOnlineMeeting"] is True
    assert event["onlineMeetingProvider"] == "teamsForBusiness"
    # In the programme's zone, by its Windows name (Outlook's dateTimeTimeZone).
    created = fake.requests_to("POST", "/v1.0/me/events")[0].json
    local = session.starts_at.astimezone(ZoneInfo("Europe/Helsinki"))
    assert created["start"] == {
        "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"),
        "timeZone": "FLE Standard Time",
    }
    assert created["end"]["dateTime"] == (local + timedelta(minutes=120)).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    assert sorted(a["emailAddress"]["address"] for a in event["attendees"]) == [
        "Aino.Aalto@example.fi",
        "eero@example.fi",
    ]
    assert {m["to"] for m in fake.mailbox if m["kind"] == "invitation"} == {
        "Aino.Aalto@example.fi",
        "eero@example.fi",
    }
    meeting = fake.meeting(room.data["online_meeting_id"])
    assert room.join_url == event["onlineMeeting"]["joinUrl"] == meeting["joinWebUrl"]
    assert room.data["event_id"] == event["id"]
    assert room.data["join_web_url"] == room.join_url
    assert room.data["thread_id"] == meeting["chatInfo"]["threadId"]
    assert room.data["thread_id"].startswith("19:meeting_")
    lookup = fake.requests_to("GET", "/v1.0/me/onlineMeetings")[0]
    assert lookup.query["$filter"] == [f"JoinWebUrl eq '{room.join_url}'"]
    # The side panel finds the room by the chat thread the Teams client names.
    assert session_for_thread(db, room.data["thread_id"]) is session
    assert session_for_thread(db, "19:meeting_other@thread.v2") is None


def test_a_programme_can_leave_participants_uninvited(
    app: Flask,
    db: Db,
    teams: TeamsFakes,
    connect_teams: Any,
    make_facilitator: Any,
    make_participant: Any,
    teams_programme: Any,
    teams_session: Any,
) -> None:
    host = make_facilitator()
    connect_teams(host)
    programme = teams_programme(host)
    make_participant(programme, email="someone@example.fi")
    with english(app):
        set_invitations(db, programme, False)
        db.commit()
    session = teams_session(programme.groups[0], host)
    assert teams.graph.event(session.room.external_id)["attendees"] == []
    assert teams.graph.mailbox == []
    with english(app):
        set_invitations(db, programme, True)
        db.commit()
    event = teams.graph.event(session.room.external_id)
    assert [a["emailAddress"]["address"] for a in event["attendees"]] == ["someone@example.fi"]


def test_outlook_tells_the_participants_only_of_an_event_they_are_invited_to(
    app: Flask,
    config: Callable[[], Config],
    db: Db,
    teams: TeamsFakes,
    world: dict[str, Any],
    make_facilitator: Any,
    make_programme: Any,
    make_session: Any,
    teams_programme: Any,
    teams_session: Any,
) -> None:
    with english(app):
        assert platform_sends_its_own(config(), db, world["session"])
        set_invitations(db, world["programme"], False)
        db.commit()
        assert not platform_sends_its_own(config(), db, world["session"])
        # No event was made (the host has no Microsoft connection): nobody was invited.
        host = make_facilitator()
        failed = teams_session(teams_programme(host).groups[0], host)
        assert failed.rooms[0].status == "failed"
        assert not platform_sends_its_own(config(), db, failed)
        # Other platforms do not say they send invitations: Kollega's emails are needed.
        jitsi = make_session(make_programme(facilitator=host).groups[0])
        assert not platform_sends_its_own(config(), db, jitsi)


def test_a_moved_session_moves_its_event(
    app: Flask, db: Db, teams: TeamsFakes, world: dict[str, Any]
) -> None:
    session = world["session"]
    local = session.starts_at.astimezone(ZoneInfo("Europe/Helsinki")) + timedelta(days=7)
    with english(app):
        session_ops.move_session(
            db, session, SessionMove(date=local.date(), start_time=local.time())
        )
        db.commit()
    patches = teams.graph.requests_to("PATCH", "/v1.0/me/events/*")
    assert len(patches) == 1
    assert set(patches[0].json) == {"start", "end"}
    assert patches[0].json["start"]["dateTime"] == local.strftime("%Y-%m-%dT%H:%M:%S")
    assert [m["kind"] for m in teams.graph.mailbox].count("update") == 2
    # Moving it to where it is sends nothing.
    with english(app):
        session_ops.move_session(
            db, session, SessionMove(date=local.date(), start_time=local.time())
        )
        db.commit()
    assert teams.graph.count("PATCH", "/v1.0/me/events/*") == 1


def test_cancel_sends_a_cancellation_with_a_message_and_restore_makes_a_new_event(
    app: Flask, db: Db, teams: TeamsFakes, world: dict[str, Any]
) -> None:
    session = world["session"]
    first = session.room.external_id
    with english(app):
        session_ops.cancel_session(db, session)
        db.commit()
    cancel = teams.graph.requests_to("POST", "/v1.0/me/events/*/cancel")
    assert len(cancel) == 1
    assert cancel[0].json == {"comment": "This session was cancelled in Kollega."}
    cancelled = [m for m in teams.graph.mailbox if m["kind"] == "cancellation"]
    assert {m["to"] for m in cancelled} == {"Aino.Aalto@example.fi", "eero@example.fi"}
    assert first not in teams.graph.events
    with english(app):
        session_ops.restore_session(db, session)
        db.commit()
    room = session.room
    assert room is not None and room.status == "active" and room.external_id != first
    assert room.external_id in teams.graph.events
    transactions = [
        r.json["transactionId"] for r in teams.graph.requests_to("POST", "/v1.0/me/events")
    ]
    assert len(set(transactions)) == 2


def test_a_facilitator_without_a_connection_gets_a_failed_room_with_words(
    app: Flask,
    db: Db,
    teams: TeamsFakes,
    make_facilitator: Any,
    teams_programme: Any,
    teams_session: Any,
) -> None:
    host = make_facilitator()
    session = teams_session(teams_programme(host).groups[0], host)
    row = session.rooms[0]
    assert row.status == "failed" and row.data["reconnect"] is True
    assert "Microsoft 365" in row.data["error"]
    assert teams.graph.requests == []


def test_the_session_page_links_to_the_teams_page_for_its_facilitators_only(
    app: Flask,
    db: Db,
    client: Any,
    teams: TeamsFakes,
    world: dict[str, Any],
    make_facilitator: Any,
    sign_in: Any,
) -> None:
    session = world["session"]
    sign_in(client, world["host"])
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f"/integrations/teams/sessions/{session.id}" in page
    teams_page = client.get(f"/integrations/teams/sessions/{session.id}")
    assert teams_page.status_code == 200
    text = teams_page.get_data(as_text=True)
    assert "Ready in Teams" in text and "2 participants" in text
    assert session.room.join_url.replace("&", "&amp;") in text
    sign_in(client, make_facilitator(name="Outsider"))
    assert client.get(f"/integrations/teams/sessions/{session.id}").status_code == 404
    answer = client.post(
        f"/integrations/teams/programmes/{world['programme'].id}/invitations", data={"invite": "0"}
    )
    assert answer.status_code == 404

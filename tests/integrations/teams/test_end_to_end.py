"""Teams from end to end: a facilitator connects Microsoft 365 through the identity platform's
sign-in, adds a Teams session on the pages, and its meeting is made in Graph with the tokens
that sign-in gave; a participant opens the side panel in that meeting's chat; a move after
Microsoft ended the access token early goes through after one refresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select

from companion.core.db import Db, utcnow
from companion.core.mail import OutboxMessage
from companion.sessions.models import Session
from tests.integrations.teams.conftest import TeamsFakes, follow_microsoft


def test_connect_plan_open_the_panel_and_move(
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    make_facilitator: Any,
    make_participant: Any,
    teams_programme: Any,
    teams: TeamsFakes,
) -> None:
    facilitator = make_facilitator(email="fiona@kollega.example")
    sign_in(client, facilitator)
    assert follow_microsoft(client, client.post("/integrations/teams/connect")).status_code == 303
    programme = teams_programme(facilitator)
    make_participant(programme, name="Aino Aalto", email="aino@contoso.example")
    day = (utcnow() + timedelta(days=3)).astimezone(ZoneInfo(programme.timezone)).date()
    form = {"group_id": programme.groups[0].id, "title": "Hinnoittelu", "date": day.isoformat()}
    added = client.post(
        f"/programmes/{programme.id}/sessions/new",
        data={**form, "start_time": "09:00", "duration_minutes": "90"},
    )
    assert added.status_code == 303, added.get_data(as_text=True)
    db.rollback()
    session = db.get(Session, int(added.headers["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert session is not None and session.room is not None
    room = session.room
    assert room.status == "active", room.data.get("error")

    # Made in the calendar of the account the facilitator signed in with, participants invited.
    account = teams.identity.default_account
    [made] = teams.graph.requests_to("POST", "/v1.0/me/events")
    assert made.user_id == account.object_id and made.status == 201
    event = teams.graph.event(room.external_id)
    assert [a["emailAddress"]["address"] for a in event["attendees"]] == ["aino@contoso.example"]

    # Aino opens Kollega's app in the meeting: its chat thread leads to the session.
    aino = teams.identity.add_account(name="Aino Aalto", upn="aino@contoso.example")
    opened = client.post(
        "/integrations/teams/tab/open?lang=en",
        json={"token": teams.identity.sso_token(aino), "chat_id": room.data["thread_id"]},
    )
    assert opened.status_code == 200, opened.get_json()
    assert opened.get_json()["facilitator"] is False
    assert opened.get_json()["panel_url"].startswith(f"/panel/sessions/{session.id}#token=")

    # Microsoft ends the access token before its time: Graph refuses it once, Kollega redeems
    # the refresh token (keeping the replacement) and the move reaches Outlook.
    # The confirmation says Outlook tells the participants, so Kollega sends no email of its own.
    new_time = {"date": day.isoformat(), "start_time": "10:00"}
    preview = client.post(f"/sessions/{session.id}/edit?lang=en", data=new_time)
    assert "sends its own updated invitation" in preview.get_data(as_text=True)
    teams.identity.expire_access_tokens()
    moved = client.post(f"/sessions/{session.id}/edit", data={**new_time, "confirm": "yes"})
    assert moved.status_code == 303, moved.get_data(as_text=True)
    patches = teams.graph.requests_to("PATCH", "/v1.0/me/events/*")
    assert [p.status for p in patches] == [401, 200]
    assert teams.identity.count("refresh") == 1
    assert patches[-1].json["start"]["dateTime"].endswith("T10:00:00")
    db.rollback()
    assert db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "schedule")).all() == []

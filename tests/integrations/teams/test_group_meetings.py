"""Every breakout group of a locked round gets a Teams meeting of its own (Graph has no
breakout-room API): made with createOrGet and a stable externalId, so retries, re-locking and
re-planning never make a second one; links show for the facilitator and each participant."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.core.db import Db
from companion.meetings.models import MeetingRoom
from tests.integrations.teams.conftest import TeamsFakes, act

CREATE = "/v1.0/me/onlineMeetings/createOrGet"


def test_each_group_gets_its_own_meeting_once(
    app: Flask, db: Db, teams: TeamsFakes, rounds: dict[str, Any]
) -> None:
    facilitator: FlaskClient = rounds["facilitator"]
    session = rounds["session"]
    planned = facilitator.post(
        f"/api/v1/sessions/{session.id}/breakouts",
        json={"kind": "optimised", "sizing": "count", "groups": 2},
    ).get_json()[0]
    assert planned["rooms"] == "rooms"
    assert teams.graph.count("POST", CREATE) == 0  # drafts stay in Kollega

    locked = act(facilitator, planned["id"], "lock")
    creates = teams.graph.requests_to("POST", CREATE)
    assert len(creates) == 2
    external_ids = [r.json["externalId"] for r in creates]
    assert len(set(external_ids)) == 2
    assert all(f"session-{session.id}-breakout-" in e for e in external_ids)
    urls = [g["room_url"] for g in locked["groups"]]
    meetings = {m["joinWebUrl"]: m for m in teams.graph.meetings_of()}
    assert all(url in meetings for url in urls) and len(set(urls)) == 2
    db.rollback()
    rows = db.scalars(select(MeetingRoom).where(MeetingRoom.purpose == "breakout")).all()
    assert {r.data["kind"] for r in rows} == {"online_meeting"}
    assert {r.data["thread_id"] for r in rows} == {
        meetings[u]["chatInfo"]["threadId"] for u in urls
    }

    # Unlock, re-plan and lock again: the same meetings, nothing new made in Teams.
    act(facilitator, planned["id"], "unlock")
    act(facilitator, planned["id"], "replan")
    again = act(facilitator, planned["id"], "lock")
    assert [g["room_url"] for g in again["groups"]] == urls
    assert len(teams.graph.meetings_of()) == 3  # the session's own meeting and two groups

    # Participants see their group's link; the facilitator's page lists every link.
    act(facilitator, planned["id"], "start")
    mine = rounds["aino_client"].get(f"/api/v1/sessions/{session.id}/my-group").get_json()
    assert mine["room_url"] in urls
    page = facilitator.get(f"/integrations/teams/sessions/{session.id}").get_data(as_text=True)
    assert all(url.replace("&", "&amp;") in page for url in urls)


def test_a_retried_create_after_a_timeout_returns_the_same_meeting(
    app: Flask, db: Db, teams: TeamsFakes, rounds: dict[str, Any]
) -> None:
    facilitator: FlaskClient = rounds["facilitator"]
    session = rounds["session"]
    # The first create is slower than the client waits: Graph made it, Kollega did not hear.
    teams.graph.inject("POST", CREATE, delay=1.5)
    planned = facilitator.post(
        f"/api/v1/sessions/{session.id}/breakouts",
        json={"kind": "random", "sizing": "count", "groups": 2},
    ).get_json()[0]
    locked = act(facilitator, planned["id"], "lock")
    creates = teams.graph.requests_to("POST", CREATE)
    assert len(creates) == 3  # one timed out and was repeated with the same externalId
    assert creates[0].json["externalId"] == creates[1].json["externalId"]
    assert all(g["room_url"] for g in locked["groups"])
    assert len(teams.graph.meetings_of()) == 3

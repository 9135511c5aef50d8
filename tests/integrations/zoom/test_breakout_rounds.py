"""Zoom holds one pre-assignment per meeting, so it must always hold exactly the session's
current round (the latest locked or running one) or nothing, and the pages say what it holds."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db
from tests.fakes.zoom import FakeZoom

PEOPLE = (
    ("Aino Aalto", "aino@example.fi"),
    ("Bertta Berg", "bertta@example.fi"),
    ("Cecilia Carlsson", "cecilia@example.fi"),
    ("Daniel Dahl", "daniel@example.fi"),
    ("Eero Eskola", "eero@example.fi"),
    ("Fanni Forsman", "fanni@example.fi"),
)


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    client: FlaskClient,
    zoom: FakeZoom,
    make_facilitator: Any,
    make_participant: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
    sign_in: Any,
) -> dict[str, Any]:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    programme = zoom_programme(facilitator)
    for name, email in PEOPLE:
        make_participant(programme, name=name, email=email)
    session = zoom_session(programme.groups[0], facilitator)
    sign_in(client, facilitator)
    return {"session": session, "meeting_id": session.room.external_id}


def _plan(client: FlaskClient, session_id: int, groups: int) -> dict[str, Any]:
    answer = client.post(
        f"/api/v1/sessions/{session_id}/breakouts",
        json={"kind": "random", "sizing": "count", "groups": groups},
    )
    assert answer.status_code == 201, answer.get_json()
    planned: dict[str, Any] = answer.get_json()[0]
    return planned


def _act(client: FlaskClient, round_id: int, action: str) -> dict[str, Any]:
    answer = client.post(f"/api/v1/breakouts/rounds/{round_id}/actions", json={"action": action})
    assert answer.status_code == 200, answer.get_json()
    out: dict[str, Any] = answer.get_json()
    return out


def _zoom_rooms(zoom: FakeZoom, meeting_id: str) -> dict[str, Any]:
    held: dict[str, Any] = zoom.meeting(meeting_id)["settings"].get("breakout_room") or {}
    return held


def _names(round_out: dict[str, Any]) -> list[str]:
    return [g["name"] for g in round_out["groups"]]


def test_two_rounds_locked_in_turn_leave_zoom_holding_the_second(
    client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session, meeting_id = world["session"], world["meeting_id"]
    first = _plan(client, session.id, 2)
    second = _plan(client, session.id, 3)
    locked_first = _act(client, first["id"], "lock")
    assert locked_first["push"]["pushed"] is True
    assert [r["name"] for r in _zoom_rooms(zoom, meeting_id)["rooms"]] == _names(first)

    locked_second = _act(client, second["id"], "lock")
    assert locked_second["push"]["pushed"] is True
    held = _zoom_rooms(zoom, meeting_id)
    assert held["enable"] is True and len(held["rooms"]) == 3
    assert [r["name"] for r in held["rooms"]] == _names(second)
    emails = dict(PEOPLE)
    for room, group in zip(held["rooms"], second["groups"], strict=True):
        assert room["participants"] == sorted(emails[m["name"]] for m in group["members"])

    # Round 1 no longer says it is in Zoom; both say what Zoom holds now.
    again_first = client.get(f"/api/v1/breakouts/rounds/{first['id']}").get_json()
    assert again_first["push"]["pushed"] is False and again_first["push"]["replaced"] is True
    assert again_first["held"]["state"] == "current"
    assert again_first["held"]["current_round_id"] == second["id"]
    assert again_first["held"]["text"].startswith("Zoom holds round 2 (pushed ")
    page = client.get(f"/sessions/{session.id}/breakouts").get_data(as_text=True)
    assert "Zoom holds round 2 (pushed " in page
    round_page = client.get(f"/breakouts/rounds/{first['id']}").get_data(as_text=True)
    assert "Zoom holds round 2 (pushed " in round_page
    assert "Send to Zoom again" not in round_page  # only the current round is pushed
    finnish = client.get(f"/sessions/{session.id}/breakouts?lang=fi").get_data(as_text=True)
    assert "Zoomissa on kierros 2 (lähetetty " in finnish

    # Starting the round it holds changes nothing in Zoom (no needless request).
    patches = zoom.count("PATCH", f"/v2/meetings/{meeting_id}")
    _act(client, second["id"], "start")
    assert zoom.count("PATCH", f"/v2/meetings/{meeting_id}") == patches


def test_unlocking_the_round_clears_zoom_or_falls_back_to_the_earlier_one(
    client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session, meeting_id = world["session"], world["meeting_id"]
    first = _plan(client, session.id, 2)
    second = _plan(client, session.id, 3)
    _act(client, first["id"], "lock")
    _act(client, second["id"], "lock")

    # Round 2 back to a draft: round 1 is the current round again, and Zoom gets it back.
    unlocked = _act(client, second["id"], "unlock")
    assert [r["name"] for r in _zoom_rooms(zoom, meeting_id)["rooms"]] == _names(first)
    assert unlocked["held"]["state"] == "current"
    assert unlocked["held"]["current_round_id"] == first["id"]

    # Round 1 a draft too: no round applies, so Zoom holds nothing (PATCH, enable false).
    cleared = _act(client, first["id"], "unlock")
    assert _zoom_rooms(zoom, meeting_id) == {"enable": False, "rooms": []}
    assert cleared["held"] == {
        "state": "none",
        "text": "Zoom holds no breakout rooms.",
        "error": "",
        "current_round_id": None,
    }
    last = zoom.requests_to("PATCH", f"/v2/meetings/{meeting_id}")[-1]
    assert last.json == {"settings": {"breakout_room": {"enable": False, "rooms": []}}}
    page = client.get(f"/sessions/{session.id}/breakouts").get_data(as_text=True)
    assert "Zoom holds no breakout rooms." in page
    finnish = client.get(f"/sessions/{session.id}/breakouts?lang=fi").get_data(as_text=True)
    assert "Zoomissa ei ole pienryhmähuoneita." in finnish

    # Locked again, round 1 goes back to Zoom.
    _act(client, first["id"], "lock")
    assert [r["name"] for r in _zoom_rooms(zoom, meeting_id)["rooms"]] == _names(first)


def test_deleting_the_round_clears_zoom(
    client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session, meeting_id = world["session"], world["meeting_id"]
    planned = _plan(client, session.id, 2)
    _act(client, planned["id"], "lock")
    assert _zoom_rooms(zoom, meeting_id)["enable"] is True

    assert client.delete(f"/api/v1/breakouts/rounds/{planned['id']}").status_code == 204
    assert _zoom_rooms(zoom, meeting_id) == {"enable": False, "rooms": []}
    page = client.get(f"/sessions/{session.id}/breakouts").get_data(as_text=True)
    assert "Zoom holds no breakout rooms." in page


def test_a_change_zoom_did_not_take_is_shown_as_an_older_plan(
    client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session, meeting_id = world["session"], world["meeting_id"]
    first = _plan(client, session.id, 2)
    _act(client, first["id"], "lock")
    # Zoom fails for a moment: the second round is locked, but Zoom still holds the first.
    zoom.inject("PATCH", f"/v2/meetings/{meeting_id}", 400, body={"code": 300, "message": "x"})
    second = _plan(client, session.id, 2)
    locked = _act(client, second["id"], "lock")
    assert locked["push"]["pushed"] is False and locked["push"]["error"]
    assert locked["held"]["state"] == "older"
    assert locked["held"]["text"].startswith("Zoom holds an older plan (round 1, pushed ")
    assert locked["held"]["text"].endswith("): push again.")
    assert [r["name"] for r in _zoom_rooms(zoom, meeting_id)["rooms"]] == _names(first)
    page = client.get(f"/sessions/{session.id}/breakouts").get_data(as_text=True)
    assert "Zoom holds an older plan (round 1, pushed " in page
    assert "The last attempt did not work" in page

    # "Push again" on the session page brings Zoom in line.
    answer = client.post(f"/sessions/{session.id}/breakouts/platform")
    assert answer.status_code == 303
    assert [r["name"] for r in _zoom_rooms(zoom, meeting_id)["rooms"]] == _names(second)
    page = client.get(f"/sessions/{session.id}/breakouts").get_data(as_text=True)
    assert "Zoom holds round 2 (pushed " in page
    assert "The last attempt did not work" not in page


def test_renaming_a_group_of_the_held_round_pushes_the_new_name(
    client: FlaskClient, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    session, meeting_id = world["session"], world["meeting_id"]
    planned = _plan(client, session.id, 2)
    _act(client, planned["id"], "lock")
    group_id = planned["groups"][0]["id"]
    renamed = client.patch(f"/api/v1/breakouts/groups/{group_id}", json={"name": "Yrittäjät"})
    assert renamed.status_code == 200
    assert _zoom_rooms(zoom, meeting_id)["rooms"][0]["name"] == "Yrittäjät"
    assert renamed.get_json()["held"]["state"] == "current"

"""Each group gets a room through the `Platform` protocol: Jitsi a room per group; Zoom the
locked round pushed as pre-assigned breakout rooms (unmatched people listed); a platform that
makes one meeting per group (as Teams will) and fails is recorded and retried."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.breakouts.models import BreakoutGroup
from companion.core.db import Db
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import Capability
from tests.breakouts.conftest import World, enter_as
from tests.fakes.platform import FakePlatform, install
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import (  # noqa: F401 - fixtures
    connect_zoom,
    zoom,
    zoom_config,
    zoom_programme,
    zoom_session,
)


def test_jitsi_gives_every_group_its_own_room(world: World, db: Db) -> None:
    planned = world.plan(sizing="count", groups=3)[0]
    assert all(g["room_url"] is None for g in planned["groups"])
    locked = world.act(planned["id"], "lock")
    assert locked["rooms"] == "rooms"
    urls = [g["room_url"] for g in locked["groups"]]
    assert all(url and url.startswith("https://meet.jit.si/") for url in urls)
    assert len(set(urls)) == 3
    db.rollback()
    rows = db.scalars(select(MeetingRoom).where(MeetingRoom.purpose == "breakout")).all()
    assert len(rows) == 3 and {r.session_id for r in rows} == {world.session.id}
    assert {r.data["breakout_group_id"] for r in rows} == {g["id"] for g in planned["groups"]}
    # Unlocking and locking again keeps the rooms (people may have the addresses already).
    world.act(planned["id"], "unlock")
    again = world.act(planned["id"], "lock")
    assert [g["room_url"] for g in again["groups"]] == urls
    # A participant's link carries their display name.
    world.act(planned["id"], "start")
    mine = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["room_url"] in {f"{u}#userInfo.displayName=%22Aino%20Aalto%22" for u in urls}


def test_removing_a_round_removes_its_rooms(world: World, db: Db) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    world.act(planned["id"], "lock")
    assert (
        world.client("facilitator").delete(f"/api/v1/breakouts/rounds/{planned['id']}").status_code
        == 204
    )
    db.rollback()
    rows = db.scalars(select(MeetingRoom).where(MeetingRoom.purpose == "breakout")).all()
    assert rows and all(r.status == "deleted" for r in rows)
    assert db.scalars(select(BreakoutGroup)).all() == []


# --- Zoom: pre-assignment through the fake Zoom -------------------------------------------------


@pytest.fixture()
def zoom_world(
    app: Flask,
    db: Db,
    client: FlaskClient,
    zoom: FakeZoom,  # noqa: F811
    connect_zoom: Any,  # noqa: F811
    zoom_programme: Any,  # noqa: F811
    zoom_session: Any,  # noqa: F811
    make_facilitator: Any,
    make_participant: Any,
    sign_in: Any,
) -> dict[str, Any]:
    facilitator = make_facilitator(name="Fia Fasilitaattori")
    connect_zoom(facilitator)
    programme = zoom_programme(facilitator)
    group = programme.groups[0]
    people = [
        make_participant(programme, group=group, name=name, email=email)
        for name, email in (
            ("Aino Aalto", "aino@example.fi"),
            ("Bertta Berg", "bertta@example.fi"),
            ("Cecilia Carlsson", "cecilia@example.fi"),
            ("Daniel Dahl", "daniel@example.fi"),
            ("Eero Eskola", "eero@example.fi"),
            ("Fanni Forsman", "fanni@example.fi"),
        )
    ]
    people[4].email = ""  # gave no email: Zoom cannot place Eero
    db.commit()
    session = zoom_session(group, facilitator)
    fresh = app.test_client()
    fresh.test_db = db  # type: ignore[attr-defined]
    aino = app.test_client()
    aino.test_db = db  # type: ignore[attr-defined]
    return {
        "session": session,
        "people": people,
        "facilitator": sign_in(fresh, facilitator),
        "aino": enter_as(app, db, aino, people[0]),
    }


def test_zoom_gets_the_locked_round_as_pre_assigned_rooms(
    db: Db,
    zoom: FakeZoom,  # noqa: F811
    zoom_world: dict[str, Any],
) -> None:
    facilitator: FlaskClient = zoom_world["facilitator"]
    session = zoom_world["session"]
    planned = facilitator.post(
        f"/api/v1/sessions/{session.id}/breakouts",
        json={"kind": "optimised", "sizing": "count", "groups": 2},
    ).get_json()[0]
    assert planned["rooms"] == "push"
    meeting_id = session.room.external_id
    assert zoom.count("PATCH", f"/v2/meetings/{meeting_id}") == 0  # drafts stay at home

    locked = facilitator.post(
        f"/api/v1/breakouts/rounds/{planned['id']}/actions", json={"action": "lock"}
    ).get_json()
    assert locked["push"]["pushed"] is True
    assert locked["push"]["unmatched"] == ["Eero Eskola"]
    rooms = zoom.meeting(meeting_id)["settings"]["breakout_room"]["rooms"]
    assert [r["name"] for r in rooms] == [g["name"] for g in planned["groups"]]
    pushed = {email for r in rooms for email in r["participants"]}
    assert pushed == {p.email for p in zoom_world["people"] if p.email}
    assert all(g["room_url"] is None for g in locked["groups"])  # no rooms of their own

    # The facilitator sees who Zoom cannot place, so nobody is silently left out.
    page = facilitator.get(f"/breakouts/rounds/{planned['id']}").get_data(as_text=True)
    assert "Zoom cannot place 1 person by themselves" in page
    assert "Eero Eskola" in page

    # Sending again (e.g. after fixing an email) replaces the pre-assignment.
    again = facilitator.post(
        f"/api/v1/breakouts/rounds/{planned['id']}/actions", json={"action": "push"}
    ).get_json()
    assert again["push"]["pushed"] is True
    assert zoom.count("PATCH", f"/v2/meetings/{meeting_id}") == 2

    # Participants are told Zoom moves them to their room.
    facilitator.post(f"/api/v1/breakouts/rounds/{planned['id']}/actions", json={"action": "start"})
    mine = zoom_world["aino"].get(f"/api/v1/sessions/{session.id}/my-group").get_json()
    assert mine["rooms"] == "push" and mine["room_url"] is None and mine["group_name"]
    text = zoom_world["aino"].get(f"/sessions/{session.id}/my-group").get_data(as_text=True)
    assert "Zoom moves you to the breakout room" in text


def test_a_zoom_refusal_keeps_the_round_locked_and_shows_why(
    db: Db,
    zoom: FakeZoom,  # noqa: F811
    zoom_world: dict[str, Any],
) -> None:
    facilitator: FlaskClient = zoom_world["facilitator"]
    session = zoom_world["session"]
    meeting_id = session.room.external_id
    zoom.start_meeting(meeting_id)  # Zoom takes pre-assignment only before the start
    planned = facilitator.post(
        f"/api/v1/sessions/{session.id}/breakouts", json={"kind": "random", "groups": 2}
    ).get_json()[0]
    locked = facilitator.post(
        f"/api/v1/breakouts/rounds/{planned['id']}/actions", json={"action": "lock"}
    ).get_json()
    assert locked["status"] == "locked"
    assert locked["push"]["pushed"] is False
    assert "already started" in locked["push"]["error"]
    page = facilitator.get(f"/breakouts/rounds/{planned['id']}").get_data(as_text=True)
    assert "The groups were not sent to Zoom" in page


# --- a platform with a meeting per group (as Teams will have), failing at first ---------------


class PerGroupPlatform(FakePlatform):
    """Makes one meeting per breakout group; the groups' rooms fail while `down`."""

    name = "pergroup"
    label = "Per-group meetings"
    capabilities = frozenset({Capability.ROOMS, Capability.BREAKOUT_ROOMS})
    fails_on = "breakout"


@pytest.fixture()
def per_group(monkeypatch: pytest.MonkeyPatch) -> type[FakePlatform]:
    return install(monkeypatch, PerGroupPlatform, down=False)


def test_failed_group_rooms_are_shown_and_made_later(
    app: Flask,
    db: Db,
    per_group: type[FakePlatform],
    make_programme: Any,
    make_participant: Any,
    make_session: Any,
    make_facilitator: Any,
    sign_in: Any,
    client: FlaskClient,
) -> None:
    facilitator = make_facilitator()
    programme = make_programme(facilitator=facilitator, platform="pergroup")
    for n in range(6):
        make_participant(programme, name=f"Person {n}")
    session = make_session(programme.groups[0])
    sign_in(client, facilitator)
    planned = client.post(
        f"/api/v1/sessions/{session.id}/breakouts", json={"kind": "random", "groups": 2}
    ).get_json()[0]
    per_group.down = True
    page = client.post(f"/breakouts/rounds/{planned['id']}", data={"action": "lock"})
    assert page.status_code == 303
    followed = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Some rooms could not be made" in followed
    assert "Make the missing rooms" in followed
    locked = client.get(f"/api/v1/breakouts/rounds/{planned['id']}").get_json()
    assert locked["status"] == "locked"
    assert [g["room_status"] for g in locked["groups"]] == ["failed", "failed"]
    assert any("down for maintenance" in w for w in locked["warnings"])

    per_group.down = False
    client.post(f"/breakouts/rounds/{planned['id']}", data={"action": "push"})
    fixed = client.get(f"/api/v1/breakouts/rounds/{planned['id']}").get_json()
    assert [g["room_status"] for g in fixed["groups"]] == ["active", "active"]
    assert fixed["warnings"] == []
    keys = [f"session-{session.id}-breakout-{g['id']}" for g in planned["groups"]]
    assert [k for k in per_group.made if "breakout" in k] == keys

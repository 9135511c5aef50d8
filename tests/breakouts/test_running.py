"""A running round takes latecomers and moves: a person not in any group (or marked absent) is
placed, someone is moved to another group, over the API and the round page; their absence mark
goes and they count as present; the move goes out live and to the platform; nobody is taken out
of a running round, and a closed one never changes. Messages to every group of a running round:
a short text or "2 minutes left", shown to everyone live, at most one per 5 seconds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.breakouts import broadcasts
from companion.breakouts.models import BreakoutRound
from companion.core.db import Db
from companion.core.live import LiveServer
from companion.sessions import attendance
from tests.board.live_client import LiveTestClient
from tests.breakouts.conftest import World, enter_as, groups_of, key_of
from tests.breakouts.test_rooms import zoom_world  # noqa: F401 - fixture
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import (  # noqa: F401 - fixtures
    connect_zoom,
    zoom,
    zoom_config,
    zoom_programme,
    zoom_session,
)


def _running(world: World, groups: int = 2) -> dict[str, Any]:
    planned = world.plan(sizing="count", groups=groups)[0]
    world.act(planned["id"], "lock")
    return world.act(planned["id"], "start")


def _move(world: World, round_id: int, person: str, group_id: int | None) -> Any:
    return world.client("facilitator").post(
        f"/api/v1/breakouts/rounds/{round_id}/moves", json={"person": person, "group_id": group_id}
    )


def _group_of(round_json: dict[str, Any], key: str) -> int | None:
    return next(
        (g["id"] for g in round_json["groups"] if key in {m["key"] for m in g["members"]}), None
    )


def _mark_absent(world: World, participant: Any, absent: bool = True) -> None:
    response = world.client("facilitator").put(
        f"/api/v1/sessions/{world.session.id}/absences/{participant.id}", json={"absent": absent}
    )
    assert response.status_code == 200, response.get_json()


def test_a_latecomer_is_placed_and_someone_moved_over_the_api(
    app: Flask, db: Db, world: World, make_participant: Any
) -> None:
    running = _running(world)
    # Someone joins the programme group after the round started: in no group yet.
    late = make_participant(world.programme, group=world.group, name="Leena Myöhä")
    round_id = running["id"]
    shown = world.round(round_id)
    assert key_of(late) in {p["key"] for p in shown["unplaced"]}
    first, second = (g["id"] for g in running["groups"])

    placed = _move(world, round_id, key_of(late), second)
    assert placed.status_code == 200, placed.get_json()
    assert _group_of(placed.get_json(), key_of(late)) == second
    assert placed.get_json()["unplaced"] == []
    assert placed.get_json()["status"] == "started"

    aino = world.person("aino")
    target = first if _group_of(running, key_of(aino)) == second else second
    moved = _move(world, round_id, key_of(aino), target)
    assert moved.status_code == 200, moved.get_json()
    assert _group_of(moved.get_json(), key_of(aino)) == target
    # Everyone else stays where they were; nobody is seated twice.
    before = groups_of(running)
    after = groups_of(moved.get_json())
    assert sum(len(g) for g in after) == sum(len(g) for g in before) + 1
    others = {k for g in before for k in g} - {key_of(aino)}
    assert all(_group_of(moved.get_json(), k) == _group_of(running, k) for k in others)

    # The participants see their groups, the latecomer included.
    late_client = enter_as(app, db, app.test_client(), late)
    mine = late_client.get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["group_id"] == second and mine["status"] == "started"
    assert "Leena Myöhä" in {m["name"] for m in mine["members"]}
    mine = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["group_id"] == target
    # ... and the new group's notes are theirs to write, the old group's no longer.
    notes = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/notes?mine=true")
    assert notes.get_json()["breakout_group_id"] == target
    assert notes.get_json()["viewer"]["can_write"] is True


def test_someone_marked_absent_is_placed_and_counts_as_present(
    app: Flask, db: Db, world: World
) -> None:
    hanna = world.person("hanna")
    _mark_absent(world, hanna)
    running = _running(world)
    assert key_of(hanna) not in {k for g in groups_of(running) for k in g}
    assert [p["key"] for p in running["absentees"]] == [key_of(hanna)]
    with app.app_context():
        assert attendance.presence_of(db, world.session)[hanna.id].present is False

    placed = _move(world, running["id"], key_of(hanna), running["groups"][0]["id"])
    assert placed.status_code == 200, placed.get_json()
    body = placed.get_json()
    assert _group_of(body, key_of(hanna)) == running["groups"][0]["id"]
    assert body["absent"] == [] and body["absentees"] == []
    assert not any("marked absent" in w for w in body["warnings"])
    db.rollback()
    with app.app_context():
        assert hanna.id not in attendance.marked_absent(db, world.session.id)
        # Sitting in a group of a round that runs is one of the presence fact's sources.
        fact = attendance.presence_of(db, world.session)[hanna.id]
        assert fact.present is True


def test_the_round_page_places_and_moves_in_a_running_round(world: World) -> None:
    bertta = world.person("bertta")
    _mark_absent(world, bertta)
    running = _running(world)
    url = f"/breakouts/rounds/{running['id']}?lang=en"
    page = world.client("facilitator").get(url).get_data(as_text=True)
    # Absent people are offered for placing; placed people can only go to another group.
    assert "Marked absent" in page and "Bertta Berg" in page
    assert 'data-movable="true"' in page
    assert "Message to every group" in page
    target = running["groups"][1]["id"]
    posted = world.client("facilitator").post(
        url, data={"action": "move", "person": key_of(bertta), "group_id": str(target)}
    )
    assert posted.status_code == 303
    assert posted.location.endswith(f"#person-p-{bertta.id}")
    assert _group_of(world.round(running["id"]), key_of(bertta)) == target

    cecilia = world.person("cecilia")
    elsewhere = next(
        g["id"] for g in running["groups"] if g["id"] != _group_of(running, key_of(cecilia))
    )
    posted = world.client("facilitator").post(
        url, data={"action": "move", "person": key_of(cecilia), "group_id": str(elsewhere)}
    )
    assert posted.status_code == 303
    assert _group_of(world.round(running["id"]), key_of(cecilia)) == elsewhere
    # Out of every group: refused, with the reason on the page.
    refused = world.client("facilitator").post(
        url, data={"action": "move", "person": key_of(cecilia), "group_id": ""}
    )
    assert refused.status_code == 409
    assert "not taken out of every group" in refused.get_data(as_text=True)
    assert _group_of(world.round(running["id"]), key_of(cecilia)) == elsewhere


def test_nobody_leaves_a_running_round_and_a_closed_round_never_changes(world: World) -> None:
    running = _running(world)
    aino = world.person("aino")
    out = _move(world, running["id"], key_of(aino), None)
    assert out.status_code == 409
    assert "not taken out" in out.get_json()["detail"]
    # Someone of another programme cannot be placed either.
    stranger = _move(world, running["id"], key_of(world.olli), running["groups"][0]["id"])
    assert stranger.status_code == 422

    world.act(running["id"], "close")
    elsewhere = next(
        g["id"] for g in running["groups"] if g["id"] != _group_of(running, key_of(aino))
    )
    closed = _move(world, running["id"], key_of(aino), elsewhere)
    assert closed.status_code == 409
    assert "closed" in closed.get_json()["detail"]
    assert groups_of(world.round(running["id"])) == groups_of(running)
    page = world.client("facilitator").post(
        f"/breakouts/rounds/{running['id']}",
        data={"action": "move", "person": key_of(aino), "group_id": str(elsewhere)},
    )
    assert page.status_code == 409
    assert groups_of(world.round(running["id"])) == groups_of(running)


def test_a_move_goes_out_live_with_counts_only(world: World, live: LiveServer) -> None:
    running = _running(world)
    channel = f"breakouts:{world.session.id}"
    grant = world.client("bertta").get(f"/api/v1/live/token?channel={channel}").get_json()
    follower = LiveTestClient(grant["url"], grant["token"], channel)
    follower.connect()
    try:
        aino = world.person("aino")
        source = _group_of(running, key_of(aino))
        target = next(g["id"] for g in running["groups"] if g["id"] != source)
        seq = follower.seq
        assert seq is not None
        assert _move(world, running["id"], key_of(aino), target).status_code == 200
        follower.wait_for_seq(seq + 1)
        event = follower.events[-1]
        assert event["kind"] == "round.changed"
        counts = {g["id"]: g["count"] for g in event["data"]["groups"]}
        before = {g["id"]: len(g["members"]) for g in running["groups"]}
        assert counts[target] == before[target] + 1 and counts[source] == before[source] - 1
        # Everyone in the session follows the channel: it names nobody.
        assert "Aino" not in str(event) and key_of(aino) not in str(event)
    finally:
        follower.close()


def test_jitsi_gives_the_placed_person_their_groups_room(
    app: Flask, db: Db, world: World, make_participant: Any
) -> None:
    running = _running(world)
    late = make_participant(world.programme, group=world.group, name="Leena Myöhä")
    target = running["groups"][1]
    assert _move(world, running["id"], key_of(late), target["id"]).status_code == 200
    client = enter_as(app, db, app.test_client(), late)
    mine = client.get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["rooms"] == "rooms"
    assert mine["room_url"].startswith(target["room_url"])
    assert "Leena" in mine["room_url"]


def test_a_move_in_a_running_round_is_sent_to_zoom_again(
    db: Db,
    zoom: FakeZoom,  # noqa: F811
    zoom_world: dict[str, Any],  # noqa: F811
) -> None:
    facilitator: FlaskClient = zoom_world["facilitator"]
    session = zoom_world["session"]
    planned = facilitator.post(
        f"/api/v1/sessions/{session.id}/breakouts",
        json={"kind": "optimised", "sizing": "count", "groups": 2},
    ).get_json()[0]
    for action in ("lock", "start"):
        response = facilitator.post(
            f"/api/v1/breakouts/rounds/{planned['id']}/actions", json={"action": action}
        )
        assert response.status_code == 200, response.get_json()
    meeting_id = session.room.external_id
    assert zoom.count("PATCH", f"/v2/meetings/{meeting_id}") == 1
    aino = zoom_world["people"][0]
    source = _group_of(planned, key_of(aino))
    target = next(g for g in planned["groups"] if g["id"] != source)
    moved = facilitator.post(
        f"/api/v1/breakouts/rounds/{planned['id']}/moves",
        json={"person": key_of(aino), "group_id": target["id"]},
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["push"]["pushed"] is True
    assert zoom.count("PATCH", f"/v2/meetings/{meeting_id}") == 2
    rooms = zoom.meeting(meeting_id)["settings"]["breakout_room"]["rooms"]
    held = {r["name"]: set(r["participants"]) for r in rooms}
    assert aino.email in held[target["name"]]
    assert all(aino.email not in people for name, people in held.items() if name != target["name"])


# --- messages to every group ----------------------------------------------------------------------


def _broadcast(world: World, round_id: int, **body: Any) -> Any:
    return world.client("facilitator").post(
        f"/api/v1/breakouts/rounds/{round_id}/broadcasts", json=body
    )


@pytest.fixture()
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages may follow each other at once (the 5-second rule has its own test)."""
    monkeypatch.setattr(broadcasts, "MIN_INTERVAL", timedelta(0))


def test_a_message_and_two_minutes_left_reach_everyone_live(
    world: World, live: LiveServer, no_wait: None
) -> None:
    running = _running(world)
    channel = f"breakouts:{world.session.id}"
    grant = world.client("cecilia").get(f"/api/v1/live/token?channel={channel}").get_json()
    follower = LiveTestClient(grant["url"], grant["token"], channel)
    follower.connect()
    try:
        seq = follower.seq
        assert seq is not None
        sent = _broadcast(world, running["id"], text="  Come back   at 10:30, please <b>!</b> ")
        assert sent.status_code == 201, sent.get_json()
        assert sent.get_json()["text"] == "Come back at 10:30, please <b>!</b>"
        follower.wait_for_seq(seq + 1)
        event = follower.events[-1]
        assert event["kind"] == "round.broadcast"
        assert event["data"]["id"] == running["id"]
        assert event["data"]["broadcast"]["text"] == "Come back at 10:30, please <b>!</b>"

        time_left = _broadcast(world, running["id"], kind="time_left")
        assert time_left.status_code == 201
        assert time_left.get_json()["text"] == "2 minutes left"
        follower.wait_for_seq(seq + 2)
        assert follower.events[-1]["data"]["broadcast"]["kind"] == "time_left"
        assert follower.events[-1]["data"]["broadcast"]["minutes"] == 2
    finally:
        follower.close()

    # Each reads it in their own language, above their group; the text is plain text.
    english = world.client("aino").get(f"/sessions/{world.session.id}/my-group?lang=en")
    assert "2 minutes left" in english.get_data(as_text=True)
    finnish = world.client("aino").get(f"/sessions/{world.session.id}/my-group?lang=fi")
    assert "2 minuuttia jäljellä" in finnish.get_data(as_text=True)
    mine = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["broadcast"]["kind"] == "time_left"
    assert world.round(running["id"])["broadcast"]["minutes"] == 2

    _broadcast(world, running["id"], text="<script>alert(1)</script> back now")
    page = world.client("bertta").get(f"/sessions/{world.session.id}/my-group?lang=en")
    html = page.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; back now" in html
    assert "<script>alert(1)" not in html
    # Once the round is closed, the message is gone from the participants' pages.
    world.act(running["id"], "close")
    mine = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["broadcast"] is None


def test_messages_are_checked_and_limited(world: World, db: Db, no_wait: None) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    # Not before the round runs.
    assert _broadcast(world, planned["id"], text="Hello").status_code == 409
    world.act(planned["id"], "lock")
    world.act(planned["id"], "start")
    assert _broadcast(world, planned["id"], text="   ").status_code == 422
    assert _broadcast(world, planned["id"], text="x" * 281).status_code == 422
    assert _broadcast(world, planned["id"], kind="shout", text="Hi").status_code == 422
    assert _broadcast(world, planned["id"], text="x" * 280).status_code == 201
    # Only the round's facilitators send them.
    for name in ("aino", "stranger", "nobody"):
        refused = world.client(name).post(
            f"/api/v1/breakouts/rounds/{planned['id']}/broadcasts", json={"text": "Hi"}
        )
        assert refused.status_code in (401, 403, 404), name
    world.act(planned["id"], "close")
    assert _broadcast(world, planned["id"], text="Too late").status_code == 409
    db.rollback()
    round_ = db.get(BreakoutRound, planned["id"])
    assert round_ is not None and round_.settings["broadcast"]["text"] == "x" * 280


def test_one_message_per_five_seconds_per_round(world: World) -> None:
    running = _running(world)
    assert _broadcast(world, running["id"], text="First").status_code == 201
    again = _broadcast(world, running["id"], kind="time_left")
    assert again.status_code == 429
    assert again.get_json()["retry_after"] >= 1
    assert "moment ago" in again.get_json()["detail"]
    # The round page says the same.
    page = world.client("facilitator").post(
        f"/breakouts/rounds/{running['id']}?lang=en", data={"action": "broadcast", "text": "Hi"}
    )
    assert page.status_code == 429
    assert "moment ago" in page.get_data(as_text=True)
    mine = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["broadcast"]["text"] == "First"


def test_the_round_page_sends_a_message_and_shows_it(world: World, no_wait: None) -> None:
    running = _running(world)
    url = f"/breakouts/rounds/{running['id']}?lang=en"
    posted = world.client("facilitator").post(
        url, data={"action": "broadcast", "text": "Wrap up, please"}
    )
    assert posted.status_code == 303
    page = world.client("facilitator").get(url).get_data(as_text=True)
    assert "Shown in every group: “Wrap up, please”" in page  # the flash
    assert "Last sent:" in page and "Wrap up, please" in page
    posted = world.client("facilitator").post(url, data={"action": "time_left"})
    assert posted.status_code == 303
    mine = world.client("aino").get(f"/sessions/{world.session.id}/my-group?lang=en")
    assert "2 minutes left" in mine.get_data(as_text=True)

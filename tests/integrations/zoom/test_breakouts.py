"""A locked breakout round pushed into Zoom as pre-assigned breakout rooms (NOTES §2.2, §7)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from companion.core.db import Db
from companion.core.errors import Conflict, Invalid
from companion.meetings.platform import (
    BreakoutGroupSpec,
    Person,
    PlatformError,
    Room,
    get_platform,
)
from integrations.zoom.breakouts import breakout_groups, push_breakout_round
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import english


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    zoom: FakeZoom,
    make_facilitator: Any,
    make_participant: Any,
    zoom_programme: Any,
    connect_zoom: Any,
    zoom_session: Any,
) -> dict[str, Any]:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    programme = zoom_programme(facilitator)
    people = [
        make_participant(programme, name="Aino Aalto", email="Aino@Example.fi"),
        make_participant(programme, name="Bertta Berg", email="bertta@example.fi"),
        make_participant(programme, name="Cecilia Carlsson", email="cecilia@example.fi"),
        make_participant(programme, name="Daniel Dahl", email="daniel@example.fi"),
        make_participant(programme, name="Eero Eskola", email="eero@example.fi"),
    ]
    session = zoom_session(programme.groups[0], facilitator)
    db.commit()
    return {"facilitator": facilitator, "session": session, "people": people}


def test_locked_round_is_pushed_as_breakout_rooms(
    app: Flask, db: Db, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    aino, bertta, cecilia, daniel, eero = world["people"]
    eero.email = ""  # e.g. a participant who gave no email: Zoom cannot place them
    db.commit()
    with english(app):
        groups = breakout_groups(
            [("Pienryhmä 1", [aino, bertta]), ("Pienryhmä 2", [cecilia, daniel, eero])]
        )
        result = push_breakout_round(db, world["session"], groups)
        db.commit()
    meeting_id = world["session"].room.external_id
    patch = zoom.requests_to("PATCH", f"/v2/meetings/{meeting_id}")[-1]
    assert patch.json == {
        "settings": {
            "breakout_room": {
                "enable": True,
                "rooms": [
                    {
                        "name": "Pienryhmä 1",
                        "participants": ["aino@example.fi", "bertta@example.fi"],
                    },
                    {
                        "name": "Pienryhmä 2",
                        "participants": ["cecilia@example.fi", "daniel@example.fi"],
                    },
                ],
            }
        }
    }
    stored = zoom.meeting(meeting_id)["settings"]["breakout_room"]
    assert stored == patch.json["settings"]["breakout_room"]
    assert result.pushed and [p.name for p in result.unmatched] == ["Eero Eskola"]
    assert "4 people" in result.message
    db.rollback()
    room = world["session"].room
    assert room.data["breakouts"]["unmatched"] == ["Eero Eskola"]


def test_pushing_again_replaces_the_rooms(
    app: Flask, db: Db, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    aino, bertta, cecilia, daniel, _eero = world["people"]
    with english(app):
        first = breakout_groups([("A", [aino, bertta]), ("B", [cecilia, daniel])])
        push_breakout_round(db, world["session"], first)
        second = breakout_groups([("C", [aino, cecilia, bertta, daniel])])
        push_breakout_round(db, world["session"], second)
        db.commit()
    rooms = zoom.meeting(world["session"].room.external_id)["settings"]["breakout_room"]["rooms"]
    assert [r["name"] for r in rooms] == ["C"]


def test_limits_are_checked_before_anything_is_sent(
    app: Flask, db: Db, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    aino, bertta, *_rest = world["people"]
    sent = len(zoom.requests)
    with english(app):
        too_many = [BreakoutGroupSpec(f"Room {n}", ()) for n in range(51)]
        with pytest.raises(Invalid) as caught:
            push_breakout_round(db, world["session"], too_many)
        assert "at most 50" in (caught.value.detail or "")
        twice = breakout_groups([("A", [aino, bertta]), ("B", [aino])])
        with pytest.raises(Invalid) as caught:
            push_breakout_round(db, world["session"], twice)
        assert "Aino Aalto is in two groups" in (caught.value.detail or "")
        same_names = breakout_groups([("A", [aino]), ("a", [bertta])])
        with pytest.raises(Invalid):
            push_breakout_round(db, world["session"], same_names)
        crowd = [
            BreakoutGroupSpec(
                f"Room {n}", tuple(Person(None, f"P{n}-{i}", f"p{n}-{i}@x.fi") for i in range(5))
            )
            for n in range(41)
        ]
        with pytest.raises(Invalid) as caught:
            push_breakout_round(db, world["session"], crowd)
        assert "at most 200" in (caught.value.detail or "")
    assert len(zoom.requests) == sent


def test_platform_level_push(app: Flask, db: Db, zoom: FakeZoom, world: dict[str, Any]) -> None:
    row = world["session"].room
    with english(app):
        platform = get_platform(
            "zoom", app.extensions["companion.config"], db, world["facilitator"].id
        )
        groups = [
            BreakoutGroupSpec("Lounas", (Person(1, "A", "a@x.fi"), Person(2, "Guest", "n/a")))
        ]
        result = platform.push_breakouts(Room(row.external_id, row.join_url, row.data), groups)
        with pytest.raises(PlatformError):
            platform.push_breakouts(Room(row.external_id, row.join_url, row.data), [])
    assert [p.name for p in result.unmatched] == ["Guest"]
    rooms = zoom.meeting(row.external_id)["settings"]["breakout_room"]["rooms"]
    assert rooms == [{"name": "Lounas", "participants": ["a@x.fi"]}]


def test_a_started_meeting_refuses_with_a_clear_message(
    app: Flask, db: Db, zoom: FakeZoom, world: dict[str, Any]
) -> None:
    aino, bertta, *_rest = world["people"]
    zoom.start_meeting(world["session"].room.external_id)
    with english(app), pytest.raises(Conflict) as caught:
        push_breakout_round(db, world["session"], breakout_groups([("A", [aino, bertta])]))
    assert "already started" in (caught.value.detail or "")

"""A voted topic becomes a breakout group: participants pick (limits enforced, a full group is
refused with a clear message), or the optimiser assigns the rest; picks go out live."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from companion.core.events import LiveEvent
from tests.breakouts.conftest import World, groups_of, key_of


def _topics(world: World, votes: dict[str, int]) -> None:
    """Topics on the session's board, each with the given number of votes."""
    board = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/board").get_json()
    board_id = board["board"]["id"]
    voters = ["aino", "bertta", "cecilia", "daniel", "eero", "fanni", "gustav", "hanna"]
    turn = 0  # votes go round, so nobody runs out of their budget of three
    for title, count in votes.items():
        made = world.client("aino").post(f"/api/v1/boards/{board_id}/topics", json={"title": title})
        assert made.status_code == 201, made.get_json()
        topic_id = next(t["id"] for t in made.get_json()["topics"] if t["title"] == title)
        for _vote in range(count):
            voter = voters[turn % len(voters)]
            turn += 1
            assert world.client(voter).post(f"/api/v1/topics/{topic_id}/vote").status_code == 200


def _pick(world: World, who: str, group_id: int) -> Any:
    return world.client(who).post(f"/api/v1/breakouts/groups/{group_id}/pick")


def test_top_topics_become_groups_and_picks_respect_the_even_limit(world: World, db: Any) -> None:
    _topics(world, {"Pricing": 5, "Time management": 4, "Marketing": 3, "Taxes": 1})
    planned = world.plan(kind="topics", topics=3)[0]
    assert [g["name"] for g in planned["groups"]] == ["Pricing", "Time management", "Marketing"]
    assert all(g["topic_id"] for g in planned["groups"])
    assert planned["picks_open"] is True
    pricing = planned["groups"][0]["id"]
    # Eight people, three topics: at most ceil(8 / 3) = 3 per group.
    assert planned["groups"][0]["limit"] == 3
    for who in ("aino", "bertta", "cecilia"):
        mine = _pick(world, who, pricing)
        assert mine.status_code == 200, mine.get_json()
    assert next(c for c in mine.get_json()["choices"] if c["group_id"] == pricing)["full"]
    refused = _pick(world, "daniel", pricing)
    assert refused.status_code == 409
    assert refused.get_json()["detail"] == (
        "“Pricing” is full (3 of 3). Please choose another topic."
    )
    # Switching is allowed while choosing is open: Cecilia leaves a seat for Daniel.
    assert _pick(world, "cecilia", planned["groups"][1]["id"]).status_code == 200
    assert _pick(world, "daniel", pricing).status_code == 200

    # The page form refuses a full group with the same message, not an error page.
    page = world.client("eero").post(
        f"/sessions/{world.session.id}/my-group", data={"group_id": str(pricing)}
    )
    assert page.status_code == 409
    assert "is full (3 of 3)" in page.get_data(as_text=True)

    # Picks are announced on the session's live channel, with counts only (no names).
    events = db.scalars(
        select(LiveEvent).where(LiveEvent.channel == f"breakouts:{world.session.id}")
    ).all()
    assert events and events[-1].kind == "round.changed"
    assert "Aino" not in str(events[-1].data)

    # The optimiser places the rest; picks stay; sizes stay within the limit.
    done = world.act(planned["id"], "assign")
    groups = groups_of(done)
    assert done["unplaced"] == []
    assert sorted(len(g) for g in groups) == [2, 3, 3]
    by_name = {g["name"]: {m["key"] for m in g["members"]} for g in done["groups"]}
    aino, bertta, cecilia, daniel = world.people[:4]
    assert {key_of(aino), key_of(bertta), key_of(daniel)} == by_name["Pricing"]
    assert key_of(cecilia) in by_name["Time management"]
    world.act(planned["id"], "lock")
    # Choosing is over once the round is locked.
    assert _pick(world, "fanni", pricing).status_code == 409


def test_facilitator_limit_and_too_small_limit(world: World) -> None:
    _topics(world, {"Pricing": 3, "Marketing": 2})
    too_small = world.plan(kind="topics", topics=2, topic_limit=3, expect=422)
    assert too_small["errors"][0]["field"] == "topic_limit"
    assert "leave 2 people without a place" in too_small["errors"][0]["message"]
    planned = world.plan(kind="topics", topics=2, topic_limit=5)[0]
    pricing = planned["groups"][0]["id"]
    for who in ("aino", "bertta", "cecilia", "daniel", "eero"):
        assert _pick(world, who, pricing).status_code == 200
    assert _pick(world, "fanni", pricing).status_code == 409
    # Picks made the groups uneven (5 + 0): the rest fill the group with room.
    done = world.act(planned["id"], "assign")
    assert sorted(len(g) for g in groups_of(done)) == [3, 5]


def test_the_optimiser_assigns_everyone_to_topic_groups(world: World) -> None:
    _topics(world, {"Pricing": 3, "Marketing": 2})
    planned = world.plan(kind="topics", topics=2, assign="optimiser")[0]
    assert planned["picks_open"] is False
    assert planned["unplaced"] == []
    assert sorted(len(g) for g in groups_of(planned)) == [4, 4]
    assert _pick(world, "aino", planned["groups"][0]["id"]).status_code == 409


def test_no_topics_gives_a_clear_message(world: World) -> None:
    answer = world.plan(kind="topics", topics=3, expect=422)
    assert "no topics" in answer["errors"][0]["message"]
    page = world.client("facilitator").post(
        f"/sessions/{world.session.id}/breakouts", data={"kind": "topics", "topics": "3"}
    )
    assert page.status_code == 422
    assert "no topics" in page.get_data(as_text=True)


def test_participant_sees_topics_to_choose_on_the_phone_page(world: World) -> None:
    _topics(world, {"Pricing": 3, "Marketing": 2})
    planned = world.plan(kind="topics", topics=2)[0]
    page = world.client("gustav").get(f"/sessions/{world.session.id}/my-group")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Choose a topic" in text and "Pricing" in text and "0 of 4 places taken" in text
    chosen = world.client("gustav").post(
        f"/sessions/{world.session.id}/my-group",
        data={"group_id": str(planned["groups"][1]["id"])},
    )
    assert chosen.status_code == 303
    part = world.client("gustav").get(f"/sessions/{world.session.id}/my-group?part=group")
    assert "Your choice" in part.get_data(as_text=True)
    left = world.client("gustav").post(
        f"/sessions/{world.session.id}/my-group",
        data={"group_id": str(planned["groups"][1]["id"]), "action": "leave"},
    )
    assert left.status_code == 303
    assert "Your choice" not in world.client("gustav").get(
        f"/sessions/{world.session.id}/my-group?part=group"
    ).get_data(as_text=True)

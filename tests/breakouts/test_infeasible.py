"""Rules that cannot all hold give the optimiser's reason, in people's names, as a friendly
error (422 on the page and in the API), never a 500."""

from __future__ import annotations

from typing import Any

from tests.breakouts.conftest import World


def _rule(world: World, kind: str, first: Any, second: Any) -> None:
    response = world.client("facilitator").post(
        f"/api/v1/programmes/{world.programme.id}/breakouts/rules",
        json={"kind": kind, "first_id": first.id, "second_id": second.id},
    )
    assert response.status_code == 201, response.get_json()


def test_group_sizes_that_cannot_be_formed(world: World) -> None:
    answer = world.plan(min_size=5, max_size=6, expect=422)
    assert answer["constraint"] == "group_size"
    assert answer["detail"].startswith("The groups cannot be formed with these sizes.")
    assert "8 people present cannot form groups of 5–6" in answer["detail"]
    assert "Session 2, round 1" in answer["detail"]  # the optimiser's "round 0", in words

    page = world.client("facilitator").post(
        f"/sessions/{world.session.id}/breakouts",
        data={"kind": "optimised", "sizing": "size", "min_size": "5", "max_size": "6"},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "The round was not planned." in text
    assert "cannot form groups of 5–6" in text
    assert 'value="5"' in text  # the form keeps what was typed


def test_keep_together_against_keep_apart_names_the_people(world: World) -> None:
    aino, bertta, cecilia = world.people[:3]
    _rule(world, "together", aino, bertta)
    _rule(world, "together", bertta, cecilia)
    _rule(world, "apart", aino, cecilia)
    answer = world.plan(expect=422)
    assert answer["constraint"] == "together"
    assert "Aino Aalto" in answer["detail"] and "Cecilia Carlsson" in answer["detail"]
    assert "p:" not in answer["detail"]


def test_more_facilitators_than_groups_with_at_most_one(world: World) -> None:
    answer = world.plan(
        sizing="count",
        groups=1,
        facilitator_ids=[world.facilitator.id, world.cofacilitator.id],
        facilitator_rule="at_most_one",
        expect=422,
    )
    assert answer["constraint"] == "facilitators"
    assert answer["detail"].startswith("The rule for facilitators cannot be met.")


def test_people_placed_by_hand_that_do_not_fit(world: World) -> None:
    planned = world.plan(sizing="count", groups=2)[0]
    first = planned["groups"][0]["id"]
    for person in world.people[:5]:
        world.client("facilitator").post(
            f"/api/v1/breakouts/rounds/{planned['id']}/moves",
            json={"person": f"p:{person.id}", "group_id": first},
        )
    answer = world.act(planned["id"], "replan", expect=422)
    assert answer["constraint"] == "fixed"
    assert "Aino Aalto" in answer["detail"]
    assert planned["groups"][0]["name"] in answer["detail"]
    # The round page shows the same reason instead of failing.
    page = world.client("facilitator").post(
        f"/breakouts/rounds/{planned['id']}", data={"action": "replan"}
    )
    assert page.status_code == 422
    assert "The people placed by hand do not fit." in page.get_data(as_text=True)


def test_attendance_that_breaks_the_rules_keeps_the_attendance(world: World) -> None:
    planned = world.plan(sizing="count", groups=3)[0]
    form = {"action": "save", "present": [str(p.id) for p in world.people[:2]]}
    page = world.client("facilitator").post(
        f"/sessions/{world.session.id}/breakouts/attendance", data=form
    )
    assert page.status_code == 303
    followed = world.client("facilitator").get(page.headers["Location"])
    assert "could not be planned again" in followed.get_data(as_text=True)
    again = world.round(planned["id"])
    assert len(again["absent"]) == 6
    placed = {m["key"] for g in again["groups"] for m in g["members"]}
    assert placed <= {f"p:{p.id}" for p in world.people[:2]}


def test_everyone_absent(world: World) -> None:
    world.client("facilitator").post(
        f"/sessions/{world.session.id}/breakouts/attendance", data={"action": "save"}
    )
    answer = world.plan(expect=422)
    assert "nobody to place" in answer["detail"]

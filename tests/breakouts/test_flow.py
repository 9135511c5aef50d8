"""The session flow over HTTP: plan, see who met whom and the mix, move, lock, start; manual and
random rounds; re-planning when attendance changes; several sessions planned at once."""

from __future__ import annotations

import re
from typing import Any

from companion.breakouts.models import BreakoutMember, BreakoutRound
from tests.breakouts.conftest import World, groups_of, key_of


def _held_round(world: World, groups: list[list[Any]]) -> int:
    """A round in the earlier session that took place with these groups (made by hand)."""
    planned = world.plan(world.past, kind="manual", sizing="count", groups=len(groups))[0]
    for group, people in zip(planned["groups"], groups, strict=True):
        for person in people:
            response = world.client("facilitator").post(
                f"/api/v1/breakouts/rounds/{planned['id']}/moves",
                json={"person": key_of(person), "group_id": group["id"]},
            )
            assert response.status_code == 200, response.get_json()
    world.act(planned["id"], "lock")
    world.act(planned["id"], "start")
    world.act(planned["id"], "close")
    return int(planned["id"])


def test_plan_see_met_before_and_mix_move_lock_start(world: World) -> None:
    aino, bertta, cecilia, daniel, eero, fanni, gustav, hanna = world.people
    _held_round(world, [[aino, bertta, cecilia, daniel], [eero, fanni, gustav, hanna]])

    # Plan on the page, as a facilitator would.
    page = world.client("facilitator").post(
        f"/sessions/{world.session.id}/breakouts",
        data={"kind": "optimised", "sizing": "size", "min_size": "3", "max_size": "4"},
    )
    assert page.status_code == 303
    round_id = int(re.search(r"/breakouts/rounds/(\d+)", page.headers["Location"]).group(1))
    proposal = world.round(round_id)
    assert proposal["status"] == "draft"
    assert len(proposal["groups"]) == 2
    assert sorted(len(g) for g in groups_of(proposal)) == [4, 4]
    # Nobody meets anyone from the earlier round again when that is possible (2 x 4 -> 2 x 4
    # cannot avoid it: each new group holds people of both old groups, so at most 2 + 2).
    for group in proposal["groups"]:
        assert group["met_pairs"] <= 2
        assert 0.0 <= group["mix"]["diversity"] <= 1.0
        assert group["mix"]["industries"] >= 2
    met_people = [m for g in proposal["groups"] for m in g["members"] if m["met_before"]]
    assert met_people, "the repeats forced by 2 x 4 are shown"
    assert {"name", "times"} <= set(met_people[0]["met_before"][0])

    # The page shows the groups, the met-before badge and the mix meter.
    html = world.client("facilitator").get(f"/breakouts/rounds/{round_id}").get_data(as_text=True)
    assert "Aino Aalto" in html and "Aalto Design" in html
    assert "met before" in html
    assert "<meter" in html
    # The flash after planning says what the plan means for meeting people again: 2 + 2 in
    # each group met before. No plan can avoid that, but the optimiser's bound cannot prove it
    # (it does not see the old groups' pigeonhole), so the page does not claim it.
    assert "4 pairs meet more than once over the programme." in html
    assert "No plan could repeat less" not in html

    # Move Aino to the other group with the page form (no JavaScript).
    aino_group = next(
        g for g in proposal["groups"] if key_of(aino) in {m["key"] for m in g["members"]}
    )
    other = next(g for g in proposal["groups"] if g["id"] != aino_group["id"])
    moved = world.client("facilitator").post(
        f"/breakouts/rounds/{round_id}",
        data={"action": "move", "person": key_of(aino), "group_id": str(other["id"])},
    )
    assert moved.status_code == 303
    after = world.round(round_id)
    target = next(g for g in after["groups"] if g["id"] == other["id"])
    assert key_of(aino) in {m["key"] for m in target["members"]}
    assert next(m for m in target["members"] if m["key"] == key_of(aino))["fixed"] is True

    # Lock, then start: the participant sees the group, its people and companies, a room link.
    world.act(round_id, "lock")
    world.act(round_id, "start")
    mine = world.client("aino").get(f"/api/v1/sessions/{world.session.id}/my-group").get_json()
    assert mine["status"] == "started"
    assert mine["group_name"] == other["name"]
    names = {m["name"] for m in mine["members"]}
    assert "Aino Aalto" in names and len(names) == len(target["members"])
    assert mine["rooms"] == "rooms"
    assert mine["room_url"].startswith("https://")
    page = world.client("aino").get(f"/sessions/{world.session.id}/my-group")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert other["name"] in text and "Open the group's room" in text


def test_manual_round_starts_empty_and_is_filled_by_hand(world: World) -> None:
    planned = world.plan(kind="manual", sizing="count", groups=3)[0]
    assert [len(g["members"]) for g in planned["groups"]] == [0, 0, 0]
    assert len(planned["unplaced"]) == len(world.people)
    # Locking with people left out is refused with their names.
    refused = world.act(planned["id"], "lock", expect=409)
    assert "Aino Aalto" in refused["detail"]
    for index, person in enumerate(world.people):
        group = planned["groups"][index % 3]
        world.client("facilitator").post(
            f"/api/v1/breakouts/rounds/{planned['id']}/moves",
            json={"person": key_of(person), "group_id": group["id"]},
        )
    done = world.round(planned["id"])
    assert done["unplaced"] == []
    assert sorted(len(g) for g in groups_of(done)) == [2, 3, 3]
    assert world.act(planned["id"], "lock")["status"] == "locked"


def test_random_round_places_everyone_and_keeps_pairs_apart(world: World) -> None:
    aino, bertta = world.people[:2]
    rule = world.client("facilitator").post(
        f"/api/v1/programmes/{world.programme.id}/breakouts/rules",
        json={"kind": "apart", "first_id": aino.id, "second_id": bertta.id},
    )
    assert rule.status_code == 201
    for _attempt in range(3):
        planned = world.plan(kind="random", sizing="count", groups=4)[0]
        groups = groups_of(planned)
        assert sorted(len(g) for g in groups) == [2, 2, 2, 2]
        assert not any({key_of(aino), key_of(bertta)} <= g for g in groups)
        assert planned["kind"] == "random"


def test_attendance_change_replans_the_draft(world: World, db: Any) -> None:
    planned = world.plan()[0]
    hanna = world.person("hanna")
    assert key_of(hanna) in set().union(*groups_of(planned))
    response = world.client("facilitator").put(
        f"/api/v1/sessions/{world.session.id}/absences/{hanna.id}", json={"absent": True}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["replanned"] == [planned["id"]]
    again = world.round(planned["id"])
    placed = set().union(*groups_of(again))
    assert key_of(hanna) not in placed
    assert len(placed) == len(world.people) - 1
    assert sorted(len(g) for g in groups_of(again)) == [3, 4]
    assert again["absent"] == ["Hanna Heino"]

    # The page form: tick who is present; Hanna comes back and is placed again.
    page = world.client("facilitator").post(
        f"/sessions/{world.session.id}/breakouts/attendance",
        data={"action": "save", "present": [str(p.id) for p in world.people]},
    )
    assert page.status_code == 303
    back = world.round(planned["id"])
    assert key_of(hanna) in set().union(*groups_of(back))


def test_people_who_did_not_join_are_marked_absent(world: World) -> None:
    aino, bertta = world.people[:2]
    for name in ("aino", "bertta"):
        world.client(name).get(f"/sessions/{world.session.id}/my-group")  # not a join
    # Only Aino and Bertta open their join links.
    from companion.sessions.join_links import join_link_for, join_token

    with world.app.app_context():
        tokens = [join_token(join_link_for(world.db, p)) for p in (aino, bertta)]
        world.db.commit()
    for token in tokens:
        world.client("nobody").get(f"/j/{token}")
    world.plan()
    page = world.client("facilitator").post(
        f"/sessions/{world.session.id}/breakouts/attendance", data={"action": "not_joined"}
    )
    assert page.status_code == 303
    rounds = (
        world.client("facilitator").get(f"/api/v1/sessions/{world.session.id}/breakouts").get_json()
    )
    placed = set().union(*groups_of(rounds[0]))
    assert placed == {key_of(aino), key_of(bertta)}


def test_all_remaining_sessions_planned_at_once_meet_new_people(world: World, db: Any) -> None:
    rounds = world.plan(scope="remaining", sizing="count", groups=4)
    assert [r["session_id"] for r in rounds] == [world.session.id, world.later.id]
    first, second = (groups_of(r) for r in rounds)
    pairs = lambda groups: {frozenset((a, b)) for g in groups for a in g for b in g if a < b}  # noqa: E731
    assert not pairs(first) & pairs(second), "nobody meets the same person twice"

    # An absence in the later session re-plans that session's draft only.
    hanna = world.person("hanna")
    response = world.client("facilitator").put(
        f"/api/v1/sessions/{world.later.id}/absences/{hanna.id}", json={"absent": True}
    )
    assert response.get_json()["replanned"] == [rounds[1]["id"]]
    assert key_of(hanna) in set().union(*groups_of(world.round(rounds[0]["id"])))
    assert key_of(hanna) not in set().union(*groups_of(world.round(rounds[1]["id"])))


def test_facilitators_are_spread_one_per_group(world: World) -> None:
    planned = world.plan(
        sizing="count",
        groups=2,
        facilitator_ids=[world.facilitator.id, world.cofacilitator.id],
        facilitator_rule="exactly_one",
    )[0]
    for group in planned["groups"]:
        assert sum(1 for m in group["members"] if m["facilitator"]) == 1


def test_unlocked_round_can_change_and_started_round_is_history(world: World, db: Any) -> None:
    planned = world.plan()[0]
    world.act(planned["id"], "lock")
    moved = world.client("facilitator").post(
        f"/api/v1/breakouts/rounds/{planned['id']}/moves",
        json={"person": key_of(world.people[0]), "group_id": planned["groups"][1]["id"]},
    )
    assert moved.status_code == 409
    world.act(planned["id"], "unlock")
    world.act(planned["id"], "lock")
    world.act(planned["id"], "start")
    removed = world.client("facilitator").delete(f"/api/v1/breakouts/rounds/{planned['id']}")
    assert removed.status_code == 409
    db.rollback()
    assert db.get(BreakoutRound, planned["id"]) is not None
    assert db.query(BreakoutMember).filter_by(round_id=planned["id"]).count() == len(world.people)


def test_locking_a_round_replans_the_later_drafts_around_it(world: World) -> None:
    first, second = world.plan(scope="remaining", sizing="count", groups=4)
    # The facilitator puts Aino with two of the people the next session's plan gave her.
    aino = world.people[0]
    later_mates = next(g for g in groups_of(second) if key_of(aino) in g) - {key_of(aino)}
    target = next(g for g in first["groups"] if {m["key"] for m in g["members"]} & later_mates)
    world.client("facilitator").post(
        f"/api/v1/breakouts/rounds/{first['id']}/moves",
        json={"person": key_of(aino), "group_id": target["id"]},
    )
    locked = world.act(first["id"], "lock")
    later = world.round(second["id"])
    pairs = lambda groups: {frozenset((a, b)) for g in groups for a in g for b in g if a < b}  # noqa: E731
    assert not pairs(groups_of(locked)) & pairs(groups_of(later)), "planned again around it"


def test_planning_and_planning_again_say_whether_anyone_meets_twice(world: World) -> None:
    client = world.client("facilitator")
    page = client.post(
        f"/sessions/{world.session.id}/breakouts",
        data={"kind": "optimised", "sizing": "count", "groups": "4", "scope": "remaining"},
    )
    assert page.status_code == 303
    html = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "Planned 2 rounds: this session and the later ones." in html
    assert "Nobody meets the same person twice." in html

    round_id = int(re.search(r"/breakouts/rounds/(\d+)", page.headers["Location"]).group(1))
    again = client.post(f"/breakouts/rounds/{round_id}", data={"action": "replan"})
    assert again.status_code == 303
    html = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Planned again (2 rounds). Nobody meets the same person twice." in html

    # Marking someone absent plans the drafts again and says so, with the same figure.
    present = [str(p.id) for p in world.people[1:]]
    saved = client.post(
        f"/sessions/{world.session.id}/breakouts/attendance", data={"present": present}
    )
    assert saved.status_code == 303
    html = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert (
        "Attendance saved; the draft rounds were planned again. "
        "Nobody meets the same person twice." in html
    )

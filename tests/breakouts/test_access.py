"""Only the programme's facilitators manage rounds; participants see their own session's groups
only; a participant of another programme (or a facilitator of another organisation) is refused
everywhere; odd input never gives a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.breakouts.conftest import World, key_of


@pytest.fixture()
def started(world: World) -> dict[str, Any]:
    """A started round of the session."""
    planned = world.plan()[0]
    world.act(planned["id"], "lock")
    world.act(planned["id"], "start")
    return planned


def _facilitator_requests(world: World, planned: dict[str, Any]) -> list[tuple[str, str, Any]]:
    round_id, group_id = planned["id"], planned["groups"][0]["id"]
    session_id, programme_id = world.session.id, world.programme.id
    person = key_of(world.people[0])
    return [
        ("GET", f"/api/v1/sessions/{session_id}/breakouts", None),
        ("POST", f"/api/v1/sessions/{session_id}/breakouts", {"kind": "random"}),
        ("GET", f"/api/v1/breakouts/rounds/{round_id}", None),
        ("DELETE", f"/api/v1/breakouts/rounds/{round_id}", None),
        ("POST", f"/api/v1/breakouts/rounds/{round_id}/moves", {"person": person}),
        ("POST", f"/api/v1/breakouts/rounds/{round_id}/actions", {"action": "close"}),
        ("POST", f"/api/v1/breakouts/rounds/{round_id}/groups", {"name": "X"}),
        ("PATCH", f"/api/v1/breakouts/groups/{group_id}", {"name": "X"}),
        ("DELETE", f"/api/v1/breakouts/groups/{group_id}", None),
        ("PUT", f"/api/v1/sessions/{session_id}/absences/{world.people[0].id}", {"absent": True}),
        ("GET", f"/api/v1/programmes/{programme_id}/breakouts/met?group={world.group.id}", None),
        (
            "POST",
            f"/api/v1/programmes/{programme_id}/breakouts/rules",
            {"kind": "apart", "first_id": world.people[0].id, "second_id": world.people[1].id},
        ),
        ("GET", f"/sessions/{session_id}/breakouts", None),
        ("POST", f"/sessions/{session_id}/breakouts", {"kind": "random"}),
        ("POST", f"/sessions/{session_id}/breakouts/attendance", {"present": []}),
        ("GET", f"/breakouts/rounds/{round_id}", None),
        ("POST", f"/breakouts/rounds/{round_id}", {"action": "close"}),
        ("GET", f"/programmes/{programme_id}/breakouts", None),
    ]


def _send(client: Any, method: str, url: str, body: Any) -> Any:
    if url.startswith("/api/"):
        return client.open(url, method=method, json=body)
    return client.open(url, method=method, data=body or {})


def test_participants_and_strangers_cannot_manage_rounds(
    world: World, started: dict[str, Any]
) -> None:
    for who in ("olli", "aino", "nobody"):
        for method, url, body in _facilitator_requests(world, started):
            response = _send(world.client(who), method, url, body)
            if url.startswith("/api/"):
                assert response.status_code == 401, (who, method, url, response.status_code)
            else:
                assert response.status_code in (302, 303), (who, method, url)
                assert "/sign-in" in response.headers["Location"]
    for method, url, body in _facilitator_requests(world, started):
        response = _send(world.client("stranger"), method, url, body)
        assert response.status_code == 404, (method, url, response.status_code)
    # Nothing changed: the round still runs, with everyone in it.
    after = world.round(started["id"])
    assert after["status"] == "started"
    assert sum(len(g["members"]) for g in after["groups"]) == len(world.people)


def test_participant_of_another_programme_sees_no_group(
    world: World, started: dict[str, Any]
) -> None:
    olli = world.client("olli")
    group_id = started["groups"][0]["id"]
    assert olli.get(f"/api/v1/sessions/{world.session.id}/my-group").status_code == 404
    assert olli.get(f"/sessions/{world.session.id}/my-group").status_code == 404
    assert olli.post(f"/api/v1/breakouts/groups/{group_id}/pick").status_code == 404
    assert olli.delete(f"/api/v1/breakouts/groups/{group_id}/pick").status_code == 404
    page = olli.post(f"/sessions/{world.session.id}/my-group", data={"group_id": str(group_id)})
    assert page.status_code == 404
    # Nor may Olli follow the session's live channel.
    token = olli.get(f"/api/v1/live/token?channel=breakouts:{world.session.id}")
    assert token.status_code == 404
    assert (
        world.client("aino")
        .get(f"/api/v1/live/token?channel=breakouts:{world.session.id}")
        .status_code
        == 200
    )


def test_strangers_get_the_who_are_you_page(world: World, started: dict[str, Any]) -> None:
    page = world.client("nobody").get(f"/sessions/{world.session.id}/my-group")
    assert page.status_code == 401
    assert "personal link" in page.get_data(as_text=True)
    assert world.client("nobody").get("/me/group").status_code == 401


def test_cofacilitator_manages_and_facilitator_is_sent_to_the_planner(
    world: World, started: dict[str, Any]
) -> None:
    assert (
        world.client("cofacilitator").get(f"/api/v1/breakouts/rounds/{started['id']}").status_code
        == 200
    )
    page = world.client("facilitator").get(f"/sessions/{world.session.id}/my-group")
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/sessions/{world.session.id}/breakouts")
    # In the side panel's "My group" tab the facilitator gets a link to the planner instead.
    part = world.client("facilitator").get(
        f"/sessions/{world.session.id}/my-group?part=group&panel=1&lang=en"
    )
    assert part.status_code == 200
    assert f'href="/sessions/{world.session.id}/breakouts"' in part.get_data(as_text=True)


def test_the_panel_group_tab_may_be_framed_and_holds_no_data(world: World) -> None:
    page = world.client("nobody").get(f"/panel/sessions/{world.session.id}/group?lang=en")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    ancestors = policy.split("frame-ancestors", 1)[1].split(";", 1)[0]
    assert "https://*.zoom.us" in ancestors and "'none'" not in ancestors
    html = page.get_data(as_text=True)
    assert "data-my-group-slot" in html and "Loading your group" in html
    for person in world.people:
        assert person.name not in html


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/breakouts/rounds/99999999999999999999",
        "/api/v1/breakouts/rounds/2147483648",
        "/api/v1/breakouts/rounds/0",
        "/breakouts/rounds/99999999999999999999",
        "/api/v1/programmes/99999999999999/breakouts/met?group=1",
        "/sessions/2147483648/breakouts",
    ],
)
def test_impossible_ids_are_not_found(world: World, url: str) -> None:
    assert world.client("facilitator").get(url).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"person": "p:1; DROP TABLE", "group_id": 1},
        {"person": "x:1"},
        {"person": "p:99999999999"},
        {"person": "p:1", "group_id": -3},
        {"person": "p:1", "group_id": 2**40},
        {"person": "p:1", "group_id": "one"},
        {"person": "p:1", "extra": True},
        [],
        "text",
    ],
)
def test_odd_moves_are_refused_with_a_problem(world: World, body: Any) -> None:
    planned = world.plan()[0]
    response = world.client("facilitator").post(
        f"/api/v1/breakouts/rounds/{planned['id']}/moves", json=body
    )
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"


def test_a_person_of_another_group_cannot_be_moved_in(world: World, make_participant: Any) -> None:
    second = world.programme.groups[1]
    outsider = make_participant(world.programme, group=second, name="Toinen Ryhmä")
    planned = world.plan()[0]
    response = world.client("facilitator").post(
        f"/api/v1/breakouts/rounds/{planned['id']}/moves",
        json={"person": key_of(outsider), "group_id": planned["groups"][0]["id"]},
    )
    assert response.status_code == 422
    olli = world.client("facilitator").post(
        f"/api/v1/breakouts/rounds/{planned['id']}/moves",
        json={"person": key_of(world.olli), "group_id": planned["groups"][0]["id"]},
    )
    assert olli.status_code == 422


@pytest.mark.parametrize(
    "form",
    [
        {"kind": "nonsense"},
        {"kind": "optimised", "min_size": "abc"},
        {"kind": "optimised", "min_size": "5", "max_size": "2"},
        {"kind": "optimised", "sizing": "count", "groups": "0"},
        {"kind": "optimised", "facilitator_ids": "x"},
        {"kind": "topics", "topics": "\x00"},
        {"kind": "optimised", "min_size": "99999999999999999999"},
    ],
)
def test_bad_plan_forms_show_the_form_again(world: World, form: dict[str, str]) -> None:
    page = world.client("facilitator").post(f"/sessions/{world.session.id}/breakouts", data=form)
    assert page.status_code == 422
    assert "Plan a round" in page.get_data(as_text=True)


def test_unknown_round_page_actions_are_not_errors(world: World) -> None:
    planned = world.plan()[0]
    for form in (
        {"action": "explode"},
        {},
        {"action": "rename", "group_id": "abc", "name": "X"},
        {"action": "rename", "group_id": "99999999999999", "name": "X"},
        {"action": "move", "person": "p:abc"},
    ):
        page = world.client("facilitator").post(f"/breakouts/rounds/{planned['id']}", data=form)
        assert page.status_code in (404, 422), (form, page.status_code)

"""Who may read and write which notes: breakout groups, other groups, other programmes."""

from __future__ import annotations

from sqlalchemy import func, select

from companion.core.db import Db
from companion.notes.models import NoteSpace
from tests.notes.conftest import World

GROUP_A, GROUP_B = 501, 502


def test_a_breakout_groups_notes_are_for_its_members(world: World, breakouts: dict) -> None:
    breakouts[GROUP_A] = {world.alice.id, world.bob.id}
    breakouts[GROUP_B] = {world.carol.id}
    alice, carol = world.client("alice"), world.client("carol")

    space = alice.get(world.notes_url(GROUP_A)).get_json()
    assert (
        alice.post(
            f"/api/v1/notes/{space['id']}/items", json={"body": "A's secret plan"}
        ).status_code
        == 201
    )

    # Carol is in another breakout group of the same session: she cannot read or write it.
    assert carol.get(world.notes_url(GROUP_A)).status_code == 404
    assert carol.get(f"/api/v1/notes/{space['id']}").status_code == 404
    assert carol.get(f"/api/v1/notes/{space['id']}/events?after=0").status_code == 404
    assert carol.post(f"/api/v1/notes/{space['id']}/items", json={"body": "x"}).status_code == 404
    assert carol.get(f"/sessions/{world.session.id}/notes/groups/{GROUP_A}").status_code == 404
    plenary_page = carol.get(f"/sessions/{world.session.id}/notes").get_data(as_text=True)
    assert "secret plan" not in plenary_page

    # Bob is a member; the facilitator sees every group.
    assert (
        world.client("bob").get(world.notes_url(GROUP_A)).get_json()["items"][0]["body"]
        == "A's secret plan"
    )
    assert world.client("facilitator").get(f"/api/v1/notes/{space['id']}").status_code == 200


def test_shared_breakout_notes_are_readable_by_the_session_but_writable_by_members(
    world: World, breakouts: dict
) -> None:
    breakouts[GROUP_A] = {world.alice.id}
    alice, carol = world.client("alice"), world.client("carol")
    space_id = alice.get(world.notes_url(GROUP_A)).get_json()["id"]
    alice.post(f"/api/v1/notes/{space_id}/items", json={"body": "Worth sharing"})

    assert carol.put(f"/api/v1/notes/{space_id}/shared", json={"shared": True}).status_code == 404
    shared = alice.put(f"/api/v1/notes/{space_id}/shared", json={"shared": True})
    assert shared.status_code == 200 and shared.get_json()["shared_to_plenary"] is True

    assert carol.get(f"/api/v1/notes/{space_id}").get_json()["items"][0]["body"] == "Worth sharing"
    refused = carol.post(f"/api/v1/notes/{space_id}/items", json={"body": "mine too"})
    assert refused.status_code == 403
    # Who action items can be given to is told to writers only (the side panel's list).
    assert carol.get(f"/api/v1/notes/{space_id}").get_json()["viewer"]["owners"] == []
    owners = alice.get(f"/api/v1/notes/{space_id}").get_json()["viewer"]["owners"]
    assert {o["id"] for o in owners} >= {world.alice.id, world.carol.id}
    plenary = carol.get(f"/sessions/{world.session.id}/notes").get_data(as_text=True)
    assert f"/notes/groups/{GROUP_A}" in plenary

    assert alice.put(f"/api/v1/notes/{space_id}/shared", json={"shared": False}).status_code == 200
    assert carol.get(f"/api/v1/notes/{space_id}").status_code == 404


def test_a_group_that_is_not_the_sessions_has_no_notes_and_a_get_makes_none(
    world: World, db: Db
) -> None:
    # GROUP_A is no breakout group of this session (nor of any): nobody opens notes for it,
    # the facilitator included, and looking does not leave a row behind (issue 13, item 9).
    before = db.scalar(select(func.count()).select_from(NoteSpace))
    assert world.client("alice").get(world.notes_url(GROUP_A)).status_code == 404
    assert world.client("facilitator").get(world.notes_url(GROUP_A)).status_code == 404
    page = f"/sessions/{world.session.id}/notes/groups/{GROUP_A}"
    assert world.client("facilitator").get(page).status_code == 404
    assert db.scalar(select(func.count()).select_from(NoteSpace)) == before


def test_people_outside_the_session_see_nothing(world: World) -> None:
    space_id = world.space_id()
    item = (
        world.client("alice")
        .post(f"/api/v1/notes/{space_id}/items", json={"body": "inside"})
        .get_json()
    )
    action = (
        world.client("alice")
        .post(
            f"/api/v1/notes/{space_id}/actions", json={"text": "Call", "owner_id": world.alice.id}
        )
        .get_json()
    )

    for name in ("dave", "olli"):  # another group of the programme; another programme
        client = world.client(name)
        assert client.get(world.notes_url()).status_code == 404
        assert client.get(f"/api/v1/notes/{space_id}").status_code == 404
        assert client.get(f"/api/v1/notes/{space_id}/summary/revisions").status_code == 404
        assert client.post(f"/api/v1/notes/{space_id}/items", json={"body": "x"}).status_code == 404
        assert (
            client.patch(f"/api/v1/notes/items/{item['id']}", json={"body": "x"}).status_code == 404
        )
        assert client.delete(f"/api/v1/notes/items/{item['id']}").status_code == 404
        assert (
            client.patch(f"/api/v1/actions/{action['id']}", json={"done": True}).status_code == 404
        )
        assert client.get(f"/sessions/{world.session.id}/notes").status_code == 404
        assert client.get(f"/api/v1/live/token?channel=notes:{world.session.id}").status_code == 404

    nobody = world.client("nobody")
    assert nobody.get(world.notes_url()).status_code == 401
    assert nobody.get(f"/sessions/{world.session.id}/notes").status_code == 401


def test_another_organisations_facilitator_sees_nothing(
    world: World, make_facilitator, sign_in, app
) -> None:
    space_id = world.space_id()
    stranger = sign_in(app.test_client(), make_facilitator())
    assert stranger.get(f"/api/v1/notes/{space_id}").status_code == 404
    assert stranger.get(world.notes_url()).status_code == 404

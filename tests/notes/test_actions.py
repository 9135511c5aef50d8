"""Action items: an owner, an optional due date, done; each person sees their own."""

from __future__ import annotations

from datetime import timedelta

from companion.core.db import utcnow
from tests.notes.conftest import World


def test_action_items_follow_their_owner_across_the_programme(world: World, make_session) -> None:
    space_id = world.space_id()
    created = world.client("alice").post(
        f"/api/v1/notes/{space_id}/actions",
        json={
            "text": "Send Bob the price list",
            "owner_id": world.alice.id,
            "due_on": "2030-01-15",
        },
    )
    assert created.status_code == 201
    assert created.get_json()["owner_name"] == "Alice Aho"
    # An action for Bob written by Alice in a later session.
    later = make_session(world.programme.groups[0], starts_at=utcnow() + timedelta(days=21))
    later_space = world.client("alice").get(f"/api/v1/sessions/{later.id}/notes").get_json()["id"]
    world.client("alice").post(
        f"/api/v1/notes/{later_space}/actions",
        json={"text": "Try the CRM", "owner_id": world.bob.id},
    )

    mine = world.client("alice").get("/api/v1/me/actions").get_json()
    assert [a["text"] for a in mine] == ["Send Bob the price list"]
    bobs = world.client("bob").get("/api/v1/me/actions").get_json()
    assert [(a["text"], a["session_id"]) for a in bobs] == [("Try the CRM", later.id)]
    page = world.client("bob").get("/me/actions").get_data(as_text=True)
    assert "Try the CRM" in page and "Send Bob the price list" not in page


def test_owner_ticks_done_and_strangers_cannot(world: World) -> None:
    space_id = world.space_id()
    action = (
        world.client("facilitator")
        .post(
            f"/api/v1/notes/{space_id}/actions",
            json={"text": "Book a lunch", "owner_id": world.bob.id},
        )
        .get_json()
    )
    url = f"/api/v1/actions/{action['id']}"
    assert world.client("olli").patch(url, json={"done": True}).status_code == 404
    done = world.client("bob").patch(url, json={"done": True}).get_json()
    assert done["done"] is True and done["done_at"]
    assert world.client("bob").patch(url, json={"done": False}).get_json()["done_at"] is None

    page = world.client("bob").post(f"/actions/{action['id']}/done", data={"done": "on"})
    assert page.status_code == 303
    assert world.client("bob").get("/api/v1/me/actions").get_json()[0]["done"] is True


def test_owner_must_be_in_the_session(world: World) -> None:
    space_id = world.space_id()
    for owner in (world.dave.id, world.olli.id, 999999):
        response = world.client("alice").post(
            f"/api/v1/notes/{space_id}/actions", json={"text": "x", "owner_id": owner}
        )
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "owner_id"
    bad_date = world.client("alice").post(
        f"/api/v1/notes/{space_id}/actions",
        json={"text": "x", "owner_id": world.alice.id, "due_on": "next week"},
    )
    assert bad_date.status_code == 422


def test_facilitators_have_no_action_list_of_their_own(world: World) -> None:
    # A participant-only list: refused (403), not a problem with the request (issue 13).
    assert world.client("facilitator").get("/api/v1/me/actions").status_code == 403
    assert world.client("facilitator").get("/me/actions").status_code == 302

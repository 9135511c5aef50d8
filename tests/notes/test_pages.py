"""The notes pages work without JavaScript: forms post, conflicts open the merge page."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.notes.conftest import World


def _page(world: World) -> str:
    return f"/sessions/{world.session.id}/notes"


def test_write_a_note_and_a_summary_with_plain_forms(world: World) -> None:
    alice = world.client("alice")
    assert alice.get(_page(world)).status_code == 200
    added = alice.post(_page(world), data={"action": "add_item", "body": "Idea: *co-working*"})
    assert added.status_code == 303
    page = alice.get(added.location).get_data(as_text=True)
    assert "<em>co-working</em>" in page

    saved = alice.post(
        _page(world), data={"action": "summary", "text": "Agreed", "base_revision": 0}
    )
    assert saved.status_code == 303
    assert "Agreed" in alice.get(_page(world)).get_data(as_text=True)


def test_a_stale_summary_form_opens_the_merge_page(world: World) -> None:
    world.client("alice").post(
        _page(world), data={"action": "summary", "text": "Alice's words", "base_revision": 0}
    )
    merge = world.client("bob").post(
        _page(world), data={"action": "summary", "text": "Bob's words", "base_revision": 0}
    )
    assert merge.status_code == 409
    html = merge.get_data(as_text=True)
    assert "Alice&#39;s words" in html and "Bob&#39;s words" in html
    assert 'name="base_revision" value="1"' in html


def test_invalid_input_shows_the_form_again(world: World) -> None:
    response = world.client("alice").post(_page(world), data={"action": "add_item", "body": ""})
    assert response.status_code == 422
    assert "field-error" in response.get_data(as_text=True)
    action = world.client("alice").post(
        _page(world), data={"action": "add_action", "text": "x", "owner_id": "abc"}
    )
    assert action.status_code == 422
    assert world.client("alice").post(_page(world), data={"action": "nonsense"}).status_code == 404


def test_edit_delete_revisions_and_sharing_pages(world: World, breakouts: dict) -> None:
    breakouts[7] = {world.alice.id}
    alice = world.client("alice")
    group_page = f"/sessions/{world.session.id}/notes/groups/7"
    alice.post(group_page, data={"action": "add_item", "body": "group note"})
    item_id = alice.get(f"/api/v1/sessions/{world.session.id}/notes?group=7").get_json()["items"][
        0
    ]["id"]
    assert alice.get(f"/notes/items/{item_id}/edit").status_code == 200
    assert alice.post(f"/notes/items/{item_id}/edit", data={"body": "better"}).status_code == 303
    assert world.client("bob").get(f"/notes/items/{item_id}/edit").status_code == 404
    shared = alice.post(group_page, data={"action": "share", "shared": "on"})
    assert shared.status_code == 303
    assert "better" in world.client("bob").get(group_page).get_data(as_text=True)
    space_id = alice.get(f"/api/v1/sessions/{world.session.id}/notes?group=7").get_json()["id"]
    assert alice.get(f"/notes/{space_id}/revisions").status_code == 200
    assert alice.post(f"/notes/items/{item_id}/delete").status_code == 303


def test_unknown_people_get_a_friendly_page(world: World) -> None:
    response = world.client("nobody").get(_page(world))
    assert response.status_code == 401
    assert "personal link" in response.get_data(as_text=True)


def test_forms_need_the_csrf_token(world: World, csrf_on: None) -> None:
    alice: FlaskClient = world.client("alice")
    refused = alice.post(_page(world), data={"action": "add_item", "body": "x"})
    assert refused.status_code == 400
    api_refused = alice.post(f"/api/v1/notes/{world.space_id()}/items", json={"body": "x"})
    assert api_refused.status_code == 400

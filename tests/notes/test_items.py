"""Note items through the API: add, edit and delete one's own; facilitators edit all."""

from __future__ import annotations

from tests.notes.conftest import World


def test_members_add_notes_and_everyone_in_the_session_reads_them(world: World) -> None:
    alice = world.client("alice")
    space = alice.get(world.notes_url()).get_json()
    response = alice.post(
        f"/api/v1/notes/{space['id']}/items", json={"body": "We talked **pricing**"}
    )
    assert response.status_code == 201
    item = response.get_json()
    assert item["html"] == "<p>We talked <strong>pricing</strong></p>"
    assert item["author"]["name"] == "Alice Aho"

    seen = world.client("bob").get(world.notes_url()).get_json()
    assert [i["body"] for i in seen["items"]] == ["We talked **pricing**"]


def test_authors_edit_and_delete_only_their_own(world: World) -> None:
    space_id = world.space_id()
    item = (
        world.client("alice")
        .post(f"/api/v1/notes/{space_id}/items", json={"body": "first"})
        .get_json()
    )
    url = f"/api/v1/notes/items/{item['id']}"

    assert world.client("bob").patch(url, json={"body": "hijacked"}).status_code == 403
    assert world.client("bob").delete(url).status_code == 403
    changed = world.client("alice").patch(url, json={"body": "first, edited"})
    assert changed.status_code == 200
    assert changed.get_json()["body"] == "first, edited"

    by_facilitator = world.client("facilitator").patch(url, json={"body": "tidied"})
    assert by_facilitator.status_code == 200
    assert world.client("facilitator").delete(url).status_code == 204
    assert world.client("alice").get(world.notes_url()).get_json()["items"] == []


def test_empty_and_too_long_notes_are_refused_with_field_errors(world: World) -> None:
    space_id = world.space_id()
    url = f"/api/v1/notes/{space_id}/items"
    empty = world.client("alice").post(url, json={"body": "   "})
    assert empty.status_code == 422
    assert empty.mimetype == "application/problem+json"
    assert empty.get_json()["errors"][0]["field"] == "body"
    assert world.client("alice").post(url, json={"body": "x" * 2001}).status_code == 422
    only_script = world.client("alice").post(url, json={"body": "<script>alert(1)</script>"})
    assert only_script.status_code == 422
    assert world.client("alice").post(url, data="not json").status_code == 422

"""Notes go out live: every write is an event on the space's channel, in order and gap-free;
the live server delivers them to members only; a polling fallback reads the same log."""

from __future__ import annotations

from typing import Any

from companion.core.live import LiveServer
from tests.board.live_client import LiveTestClient
from tests.notes.conftest import World


def _token(world: World, name: str, channel: str) -> dict[str, Any]:
    response = world.client(name).get(f"/api/v1/live/token?channel={channel}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_write_is_an_event_with_the_next_seq(world: World) -> None:
    space = world.client("alice").get(world.notes_url()).get_json()
    base = f"/api/v1/notes/{space['id']}"
    alice = world.client("alice")
    item = alice.post(f"{base}/items", json={"body": "one"}).get_json()
    alice.patch(f"/api/v1/notes/items/{item['id']}", json={"body": "one, edited"})
    alice.put(f"{base}/summary", json={"text": "sum", "base_revision": 0})
    action = alice.post(f"{base}/actions", json={"text": "do", "owner_id": world.bob.id}).get_json()
    world.client("bob").patch(f"/api/v1/actions/{action['id']}", json={"done": True})
    alice.delete(f"/api/v1/notes/items/{item['id']}")

    changes = world.client("bob").get(f"{base}/events?after=0").get_json()
    assert [e["seq"] for e in changes["events"]] == [1, 2, 3, 4, 5, 6]
    assert [e["kind"] for e in changes["events"]] == [
        "item.added",
        "item.updated",
        "summary.saved",
        "action.added",
        "action.updated",
        "item.deleted",
    ]
    assert changes["events"][1]["data"]["html"] == "<p>one, edited</p>"
    assert changes["seq"] == 6
    assert world.client("bob").get(f"{base}/events?after=4").get_json()["events"][0]["seq"] == 5
    # A client ahead of the log (the database was reset) gets a fresh snapshot instead.
    ahead = world.client("bob").get(f"{base}/events?after=99").get_json()
    assert ahead["events"] is None and ahead["snapshot"]["summary"]["text"] == "sum"


def test_members_receive_notes_live_and_outsiders_get_no_token(
    world: World, live: LiveServer
) -> None:
    space_id = world.space_id()
    channel = f"notes:{world.session.id}"
    grant = _token(world, "bob", channel)
    bob = LiveTestClient(grant["url"], grant["token"], channel)
    bob.connect()
    try:
        assert bob.snapshots[0]["data"]["id"] == space_id
        world.client("alice").post(f"/api/v1/notes/{space_id}/items", json={"body": "hello live"})
        bob.wait_for_seq(1)
        assert bob.events[0]["kind"] == "item.added"
        assert bob.events[0]["data"]["body"] == "hello live"
    finally:
        bob.close()
    assert world.client("olli").get(f"/api/v1/live/token?channel={channel}").status_code == 404
    assert world.client("dave").get(f"/api/v1/live/token?channel={channel}").status_code == 404


def test_breakout_channels_are_for_the_groups_members(world: World, breakouts: dict) -> None:
    breakouts[9] = {world.alice.id}
    world.client("alice").get(world.notes_url(9))
    channel = f"notes:{world.session.id}:9"
    assert world.client("alice").get(f"/api/v1/live/token?channel={channel}").status_code == 200
    assert world.client("bob").get(f"/api/v1/live/token?channel={channel}").status_code == 404
    bad = world.client("alice").get("/api/v1/live/token?channel=notes:x:y")
    assert bad.status_code == 422  # not a channel name at all

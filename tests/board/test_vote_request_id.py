"""A vote request may carry the client's own request id: its event echoes it (so the voter's
client settles its pending vote on the event), and nothing but an opaque token is accepted."""

from __future__ import annotations

from sqlalchemy import select

from companion.core.db import Db
from companion.core.events import LiveEvent
from tests.board.conftest import BoardWorld


def test_the_vote_event_echoes_the_request_id(world: BoardWorld, db: Db) -> None:
    board_id = world.alice_client.get(world.board_url).get_json()["board"]["id"]
    topic = world.bob_client.post(f"/api/v1/boards/{board_id}/topics", json={"title": "Pricing"})
    topic_id = topic.get_json()["topics"][0]["id"]

    cast = world.alice_client.post(f"/api/v1/topics/{topic_id}/vote?request_id=a1b2c3d4e5f6a7b8")
    assert cast.status_code == 200
    assert cast.get_json()["vote"]["request_id"] == "a1b2c3d4e5f6a7b8"
    back = world.alice_client.delete(f"/api/v1/topics/{topic_id}/vote?request_id=Zz-_09876543")
    assert back.get_json()["vote"]["request_id"] == "Zz-_09876543"
    plain = world.alice_client.post(f"/api/v1/topics/{topic_id}/vote")
    assert plain.get_json()["vote"]["request_id"] is None

    events = db.scalars(
        select(LiveEvent).where(LiveEvent.channel == f"board:{board_id}").order_by(LiveEvent.seq)
    ).all()
    echoed = [e.data["vote"]["request_id"] for e in events if e.kind.startswith("vote.")]
    assert echoed == ["a1b2c3d4e5f6a7b8", "Zz-_09876543", None]


def test_a_request_id_must_be_an_opaque_token(world: BoardWorld) -> None:
    board_id = world.alice_client.get(world.board_url).get_json()["board"]["id"]
    topic = world.bob_client.post(f"/api/v1/boards/{board_id}/topics", json={"title": "Pricing"})
    topic_id = topic.get_json()["topics"][0]["id"]
    for bad in ("short", "x" * 65, "<script>alert(1)</script>", "a b c d e f g h"):
        response = world.alice_client.post(
            f"/api/v1/topics/{topic_id}/vote", query_string={"request_id": bad}
        )
        assert response.status_code in (400, 422), (bad, response.status_code)
    votes = world.alice_client.get(world.board_url).get_json()["topics"][0]["votes"]
    assert votes == 0

"""Every write of the board over HTTP: who may do it, what it changes, the event it logs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.board.models import Board
from companion.core.db import Db, utcnow
from companion.core.events import LiveEvent
from tests.board.conftest import BearerClient, BoardWorld, token_for


def _board(world: BoardWorld) -> dict[str, Any]:
    response = world.alice_client.get(world.board_url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _propose(client: Any, board_id: int, title: str, **extra: Any) -> Any:
    return client.post(f"/api/v1/boards/{board_id}/topics", json={"title": title, **extra})


def _topic_id(client: Any, board_id: int, title: str = "Pricing my work") -> int:
    response = _propose(client, board_id, title)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["topics"][0]["id"])


def test_snapshot_for_member_with_bearer_token(world: BoardWorld) -> None:
    data = _board(world)
    assert data["seq"] == 0
    assert data["topics"] == []
    assert data["me"]["facilitator"] is False
    assert data["me"]["name"] == "Alice Aho"
    assert data["board"]["vote_budget"] == 3
    assert data["board"]["channel"] == f"board:{data['board']['id']}"


def test_outsider_and_anonymous_are_refused_everywhere(world: BoardWorld, app: Flask) -> None:
    board_id = _board(world)["board"]["id"]
    topic = _topic_id(world.alice_client, board_id)
    outsider = world.outsider_client
    assert outsider.get(world.board_url).status_code == 404
    assert outsider.get(f"/api/v1/boards/{board_id}").status_code == 404
    writes = [
        ("POST", f"/api/v1/boards/{board_id}/topics", {"title": "Sneaky"}),
        ("PATCH", f"/api/v1/topics/{topic}", {"title": "Sneaky"}),
        ("DELETE", f"/api/v1/topics/{topic}", None),
        ("POST", f"/api/v1/topics/{topic}/vote", None),
        ("DELETE", f"/api/v1/topics/{topic}/vote", None),
        ("POST", f"/api/v1/topics/{topic}/move", {"column": "done"}),
        ("POST", f"/api/v1/topics/{topic}/merge", {"into": topic}),
        ("PATCH", f"/api/v1/boards/{board_id}", {"proposing_locked": True}),
        ("POST", f"/api/v1/boards/{board_id}/timer", {"action": "start"}),
        ("POST", f"/api/v1/boards/{board_id}/poll", {"answer": "up"}),
    ]
    anonymous = app.test_client()
    for method, url, body in writes:
        response = outsider.open(method, url, json=body)
        assert response.status_code == 404, (method, url, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert anonymous.open(url, method=method, json=body).status_code == 401
    assert outsider.get(f"/api/v1/live/token?channel=board:{board_id}").status_code == 404


def test_propose_logs_an_event_and_refuses_duplicates(world: BoardWorld, db: Db) -> None:
    board_id = _board(world)["board"]["id"]
    response = _propose(world.alice_client, board_id, "  Finding  customers ", description="How?")
    assert response.status_code == 201
    body = response.get_json()
    assert body["seq"] == 1 and body["kind"] == "topic.proposed"
    topic = body["topics"][0]
    assert topic["title"] == "Finding customers"
    assert topic["author"] == "Alice Aho" and topic["column"] == "to_discuss"
    again = _propose(world.bob_client, board_id, "Finding customers")
    assert again.status_code == 409
    events = db.scalars(select(LiveEvent).where(LiveEvent.channel == f"board:{board_id}")).all()
    assert [e.seq for e in events] == [1]


def test_anonymous_topic_hides_the_author(world: BoardWorld) -> None:
    board_id = _board(world)["board"]["id"]
    topic = _propose(world.alice_client, board_id, "Burn-out", anonymous=True).get_json()
    assert topic["topics"][0]["author"] is None
    assert topic["topics"][0]["author_key"] is None
    snapshot = world.bob_client.get(world.board_url).get_json()
    assert "Alice" not in str(snapshot["topics"])


def test_bad_input_is_a_problem_not_a_crash(world: BoardWorld) -> None:
    board_id = _board(world)["board"]["id"]
    client = world.alice_client
    assert _propose(client, board_id, "").status_code == 422
    assert _propose(client, board_id, "x" * 121).status_code == 422
    assert client.post(f"/api/v1/boards/{board_id}/topics", data="nope").status_code == 422
    response = client.post(f"/api/v1/boards/{board_id}/topics", json={"title": "a", "x": 1})
    assert response.status_code == 422
    topic = _topic_id(client, board_id)
    facilitator = world.facilitator_client
    assert facilitator.post(f"/api/v1/topics/{topic}/move", json={"column": "x"}).status_code == 422
    assert facilitator.post(f"/api/v1/topics/{topic}/merge", json={"into": "a"}).status_code == 422
    assert facilitator.post(f"/api/v1/topics/{topic}/merge", json={"into": 999}).status_code == 404
    assert client.post("/api/v1/topics/999/vote").status_code == 404
    timer = facilitator.post(
        f"/api/v1/boards/{board_id}/timer", json={"action": "start", "minutes": 0}
    )
    assert timer.status_code == 422
    assert client.get("/api/v1/live/token").status_code == 422


def test_voting_budget_cap_and_unvote(world: BoardWorld) -> None:
    board_id = _board(world)["board"]["id"]
    alice = world.alice_client
    first = _topic_id(alice, board_id, "First")
    second = _topic_id(alice, board_id, "Second")
    assert alice.post(f"/api/v1/topics/{first}/vote").status_code == 200
    response = alice.post(f"/api/v1/topics/{first}/vote")
    # A vote's answer (and event) carries the topic's new total and the voter's count on it.
    vote = response.get_json()["vote"]
    assert response.get_json()["kind"] == "vote.cast"
    assert (vote["topic_id"], vote["votes"], vote["count"], vote["left"]) == (first, 2, 2, 1)
    assert "voter" not in vote  # nobody's key, not even one's own, travels with a vote
    capped = alice.post(f"/api/v1/topics/{first}/vote")
    assert capped.status_code == 409 and capped.get_json()["reason"] == "cap"
    assert alice.post(f"/api/v1/topics/{second}/vote").status_code == 200
    spent = alice.post(f"/api/v1/topics/{second}/vote")
    assert spent.status_code == 409 and spent.get_json()["reason"] == "budget"
    back = alice.delete(f"/api/v1/topics/{first}/vote")
    assert back.status_code == 200 and back.get_json()["vote"]["votes"] == 1
    assert back.get_json()["vote"]["left"] == 1
    assert alice.post(f"/api/v1/topics/{second}/vote").status_code == 200
    none = world.bob_client.delete(f"/api/v1/topics/{first}/vote")
    assert none.status_code == 409 and none.get_json()["reason"] == "none"
    snapshot = alice.get(world.board_url).get_json()
    assert snapshot["me"]["votes"] == {str(first): 1, str(second): 2}
    assert all("voters" not in t for t in snapshot["topics"])


def test_only_the_facilitator_moves_locks_merges_and_times(world: BoardWorld) -> None:
    board_id = _board(world)["board"]["id"]
    topic = _topic_id(world.alice_client, board_id)
    other = _topic_id(world.alice_client, board_id, "Other")
    alice = world.alice_client
    for method, url, body in [
        ("POST", f"/api/v1/topics/{topic}/move", {"column": "discussing"}),
        ("POST", f"/api/v1/topics/{topic}/merge", {"into": other}),
        ("PATCH", f"/api/v1/boards/{board_id}", {"proposing_locked": True}),
        ("POST", f"/api/v1/boards/{board_id}/timer", {"action": "start", "minutes": 5}),
    ]:
        response = alice.open(method, url, json=body)
        assert response.status_code == 403, (url, response.get_json())


def test_moves_keep_one_topic_in_discussion(world: BoardWorld) -> None:
    board_id = _board(world)["board"]["id"]
    first = _topic_id(world.alice_client, board_id, "First")
    second = _topic_id(world.alice_client, board_id, "Second")
    facilitator = world.facilitator_client
    moved = facilitator.post(f"/api/v1/topics/{first}/move", json={"column": "discussing"})
    assert moved.status_code == 200
    facilitator.post(f"/api/v1/boards/{board_id}/timer", json={"action": "start", "minutes": 5})
    moved = facilitator.post(f"/api/v1/topics/{second}/move", json={"column": "discussing"})
    columns = {t["id"]: t["column"] for t in moved.get_json()["topics"]}
    assert columns == {first: "done", second: "discussing"}
    assert moved.get_json()["board"]["timer"] is None  # the timebox belonged to the first
    # Votes on a done topic come back to the voter.
    assert world.alice_client.post(f"/api/v1/topics/{first}/vote").status_code == 409


def test_lock_stops_participants_but_not_the_facilitator(world: BoardWorld) -> None:
    board_id = _board(world)["board"]["id"]
    facilitator = world.facilitator_client
    locked = facilitator.patch(f"/api/v1/boards/{board_id}", json={"proposing_locked": True})
    assert locked.status_code == 200 and locked.get_json()["board"]["proposing_locked"] is True
    assert _propose(world.alice_client, board_id, "Late idea").status_code == 409
    assert _propose(facilitator, board_id, "Facilitator's idea").status_code == 201
    facilitator.patch(f"/api/v1/boards/{board_id}", json={"proposing_locked": False})
    assert _propose(world.alice_client, board_id, "Late idea").status_code == 201
    settings = facilitator.patch(f"/api/v1/boards/{board_id}", json={"vote_budget": 5})
    assert settings.get_json()["board"]["vote_budget"] == 5


def test_merge_carries_votes_over_up_to_the_cap(world: BoardWorld) -> None:
    board_id = _board(world)["board"]["id"]
    alice, bob = world.alice_client, world.bob_client
    kept = _topic_id(alice, board_id, "Marketing on a budget")
    duplicate = _topic_id(bob, board_id, "Cheap marketing")
    alice.post(f"/api/v1/topics/{kept}/vote")
    alice.post(f"/api/v1/topics/{kept}/vote")
    alice.post(f"/api/v1/topics/{duplicate}/vote")
    bob.post(f"/api/v1/topics/{duplicate}/vote")
    merged = world.facilitator_client.post(f"/api/v1/topics/{duplicate}/merge", json={"into": kept})
    assert merged.status_code == 200
    body = merged.get_json()
    assert body["removed"] == [duplicate]
    assert body["topics"][0]["votes"] == 3  # Alice 2 (cap), Bob 1; Alice's third came back
    assert world.alice_client.get(f"/api/v1/topics/{duplicate}/vote").status_code == 405
    assert alice.post(f"/api/v1/topics/{duplicate}/vote").status_code == 404
    third = _topic_id(alice, board_id, "Third")
    assert alice.post(f"/api/v1/topics/{third}/vote").status_code == 200  # refunded vote


def test_edit_and_remove_by_author_or_facilitator(world: BoardWorld) -> None:
    board_id = _board(world)["board"]["id"]
    topic = _topic_id(world.alice_client, board_id)
    edited = world.alice_client.patch(f"/api/v1/topics/{topic}", json={"title": "Pricing"})
    assert edited.status_code == 200 and edited.get_json()["topics"][0]["title"] == "Pricing"
    assert world.bob_client.patch(f"/api/v1/topics/{topic}", json={"title": "x"}).status_code == 403
    world.bob_client.post(f"/api/v1/topics/{topic}/vote")
    assert world.alice_client.delete(f"/api/v1/topics/{topic}").status_code == 409
    removed = world.facilitator_client.delete(f"/api/v1/topics/{topic}")
    assert removed.status_code == 200 and removed.get_json()["removed"] == [topic]


def test_timer_extend_stop_and_poll(world: BoardWorld, app: Flask, db: Db) -> None:
    board_id = _board(world)["board"]["id"]
    facilitator = world.facilitator_client
    url = f"/api/v1/boards/{board_id}/timer"
    started = facilitator.post(url, json={"action": "start", "minutes": 5}).get_json()
    timer = started["board"]["timer"]
    assert timer["round"] == 1
    assert (
        world.alice_client.post(
            f"/api/v1/boards/{board_id}/poll", json={"answer": "up"}
        ).status_code
        == 409
    )
    extended = facilitator.post(url, json={"action": "extend", "minutes": 2}).get_json()
    assert extended["board"]["timer"]["ends_at"] > timer["ends_at"]
    # Let the time run out: the poll opens.
    board = db.get(Board, board_id)
    assert board is not None
    board.timer_ends_at = utcnow() - timedelta(seconds=1)
    db.commit()
    poll = f"/api/v1/boards/{board_id}/poll"
    assert world.alice_client.post(poll, json={"answer": "up"}).status_code == 200
    assert world.bob_client.post(poll, json={"answer": "down"}).status_code == 200
    answer = world.bob_client.post(poll, json={"answer": "up"}).get_json()
    assert answer["board"]["poll"]["up"] == 2 and answer["board"]["poll"]["down"] == 0
    assert world.alice_client.post(poll, json={"answer": "maybe"}).status_code == 422
    stopped = facilitator.post(url, json={"action": "stop"}).get_json()
    assert stopped["board"]["timer"] is None and stopped["board"]["poll"] is None


def test_every_write_has_a_gap_free_sequence(world: BoardWorld, db: Db) -> None:
    board_id = _board(world)["board"]["id"]
    topic = _topic_id(world.alice_client, board_id)
    world.bob_client.post(f"/api/v1/topics/{topic}/vote")
    world.bob_client.delete(f"/api/v1/topics/{topic}/vote")
    world.facilitator_client.post(f"/api/v1/topics/{topic}/move", json={"column": "done"})
    events = db.scalars(
        select(LiveEvent).where(LiveEvent.channel == f"board:{board_id}").order_by(LiveEvent.seq)
    ).all()
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert [e.kind for e in events] == [
        "topic.proposed",
        "vote.cast",
        "vote.retracted",
        "topic.moved",
    ]


def test_cookie_participant_after_join_link(world: BoardWorld, app: Flask, db: Db) -> None:
    client = app.test_client()
    with client.session_transaction() as session, app.app_context():
        from companion.sessions.join_links import join_link_for

        link = join_link_for(db, world.alice)
        session["pid"], session["pn"] = world.alice.id, link.nonce
    assert client.get(world.board_url).status_code == 200
    assert client.get(f"/sessions/{world.session.id}/board").status_code == 200
    panel = client.get(f"/panel/sessions/{world.session.id}")
    assert panel.status_code == 200
    assert "frame-ancestors 'self' https://*.zoom.us" in panel.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in panel.headers


def test_facilitator_pages(world: BoardWorld) -> None:
    client = world.facilitator_client
    show = client.get(f"/sessions/{world.session.id}")
    assert f"/sessions/{world.session.id}/board".encode() in show.data
    assert f"/panel/sessions/{world.session.id}".encode() in show.data
    page = client.get(f"/sessions/{world.session.id}/board")
    assert page.status_code == 200 and b"board-boot" in page.data
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_facilitators_of_the_programme_only(
    world: BoardWorld,
    app: Flask,
    db: Db,
    make_facilitator: Any,
    make_participant: Any,
    sign_in: Any,
) -> None:
    """The one-query access check: other organisations 404, a colleague without a role in
    the programme 403, an organisation admin and the programme's facilitator may act; a
    participant of the same programme but another group 404."""
    board_id = _board(world)["board"]["id"]
    topic = _topic_id(world.alice_client, board_id)
    organisation = world.facilitator.organisation
    colleague = sign_in(app.test_client(), make_facilitator(organisation=organisation))
    admin = sign_in(app.test_client(), make_facilitator(organisation=organisation, admin=True))
    stranger = sign_in(app.test_client(), make_facilitator())
    vote, lock = f"/api/v1/topics/{topic}/vote", f"/api/v1/boards/{board_id}"
    assert stranger.post(vote).status_code == 404
    assert stranger.patch(lock, json={"proposing_locked": True}).status_code == 404
    assert stranger.get(f"/api/v1/live/token?channel=board:{board_id}").status_code == 404
    assert colleague.post(vote).status_code == 403
    assert colleague.patch(lock, json={"proposing_locked": True}).status_code == 403
    assert admin.post(vote).status_code == 200
    assert world.facilitator_client.post(vote).status_code == 200
    assert admin.patch(lock, json={"proposing_locked": True}).status_code == 200

    programme = world.session.group.programme
    other_group = next(g for g in programme.groups if g.id != world.session.group_id)
    elsewhere = make_participant(programme, group=other_group, name="Gina Group-two")
    client = BearerClient(app.test_client(), token_for(app, db, elsewhere))
    assert client.post(vote).status_code == 404
    assert client.get(f"/api/v1/boards/{board_id}").status_code == 404

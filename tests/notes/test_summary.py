"""The group summary: revisions, and two saves on one revision (409 with both texts)."""

from __future__ import annotations

import threading

from flask import Flask

from tests.notes.conftest import World


def _summary_url(space_id: int) -> str:
    return f"/api/v1/notes/{space_id}/summary"


def test_two_saves_on_one_revision_conflict_with_both_texts(world: World) -> None:
    space_id = world.space_id()
    url = _summary_url(space_id)
    first = world.client("alice").put(
        url, json={"text": "Pricing\n- raise rates", "base_revision": 0}
    )
    assert first.status_code == 200
    assert first.get_json()["summary"]["revision"] == 1

    second = world.client("bob").put(
        url, json={"text": "Marketing\n- try LinkedIn", "base_revision": 0}
    )
    assert second.status_code == 409
    problem = second.get_json()
    assert second.mimetype == "application/problem+json"
    assert problem["current_text"] == "Pricing\n- raise rates"
    assert problem["current_revision"] == 1
    assert problem["your_text"] == "Marketing\n- try LinkedIn"
    assert problem["base_revision"] == 0
    # The suggested merge keeps both: theirs, then the lines of mine that it lacks.
    assert problem["merged_text"] == "Pricing\n- raise rates\n\nMarketing\n- try LinkedIn"

    merged = world.client("bob").put(
        url, json={"text": problem["merged_text"], "base_revision": problem["current_revision"]}
    )
    assert merged.status_code == 200
    assert merged.get_json()["summary"]["revision"] == 2

    history = world.client("carol").get(f"{url}/revisions").get_json()
    assert [r["number"] for r in history] == [2, 1]
    assert [r["author"]["name"] for r in history] == ["Bob Berg", "Alice Aho"]


def test_saving_the_same_text_twice_is_not_a_conflict(world: World) -> None:
    url = _summary_url(world.space_id())
    body = {"text": "Same", "base_revision": 0}
    assert world.client("alice").put(url, json=body).status_code == 200
    again = world.client("alice").put(url, json=body)
    assert again.status_code == 200
    assert again.get_json()["summary"]["revision"] == 1


def test_concurrent_saves_on_one_revision_let_exactly_one_win(app: Flask, world: World) -> None:
    url = _summary_url(world.space_id())
    results: list[int] = []
    barrier = threading.Barrier(4)

    def save(number: int) -> None:
        client = app.test_client()
        with world.client("facilitator").session_transaction() as cookie:
            fid, fv, sk = cookie["fid"], cookie["fv"], cookie["sk"]
        with client.session_transaction() as cookie:
            cookie["fid"], cookie["fv"], cookie["sk"] = fid, fv, sk
        barrier.wait()
        response = client.put(url, json={"text": f"version {number}", "base_revision": 0})
        results.append(response.status_code)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409, 409, 409]
    space = world.client("alice").get(world.notes_url()).get_json()
    assert space["summary"]["revision"] == 1


def test_a_stale_base_is_a_conflict_even_after_many_saves(world: World) -> None:
    url = _summary_url(world.space_id())
    for revision in range(3):
        assert (
            world.client("alice")
            .put(url, json={"text": f"v{revision}", "base_revision": revision})
            .status_code
            == 200
        )
    stale = world.client("bob").put(url, json={"text": "old idea", "base_revision": 1})
    assert stale.status_code == 409
    assert stale.get_json()["current_text"] == "v2"
    assert world.client("bob").put(url, json={"text": "x", "base_revision": -1}).status_code == 422

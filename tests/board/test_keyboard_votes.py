"""Voting with the keyboard alone in the side panel, while the vote's live event overtakes the
reply to the vote request: the count shown never runs ahead of the votes really cast, focus
stays on the control pressed (or its neighbour once that is disabled), and the count is read
out in the right plural form."""

from __future__ import annotations

import re
from typing import Any

import pytest

from companion.core.live import LiveServer
from tests.board.conftest import BoardWorld
from tests.services import wait_until

pytestmark = pytest.mark.browser

#: Records what the board shows after every change of its DOM and every 5 ms: the count on
#: the topic, the phrase a screen reader reads for it, and which control has focus.
RECORDER = """
(topicId) => {
  const samples = [];
  const take = () => {
    const item = document.querySelector(`.topic[data-topic-id="${topicId}"]`);
    const active = document.activeElement;
    samples.push({
      count: item ? Number(item.querySelector(".vote-count").textContent) : null,
      spoken: item ? item.querySelector(".vote-count + .visually-hidden").textContent : null,
      focus: active && active.dataset ? active.dataset.key || active.tagName : null,
    });
  };
  const observer = new MutationObserver(take);
  observer.observe(document.querySelector("[data-board]"), {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  const timer = setInterval(take, 5);
  window.__votes = { samples, stop: () => { observer.disconnect(); clearInterval(timer); } };
}
"""

VOTE_REQUEST = re.compile(r".*/api/v1/topics/\d+/vote(\?.*)?$")


def _samples(page: Any) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = page.evaluate(
        "() => { const s = window.__votes.samples.splice(0); return s; }"
    )
    return samples


def _seq(page: Any) -> int:
    return int(page.evaluate("() => Number(document.querySelector('.board-content').dataset.seq)"))


def _true_votes(world: BoardWorld, topic_id: int) -> int:
    snapshot = world.facilitator_client.get(world.board_url).get_json()
    return next(int(t["votes"]) for t in snapshot["topics"] if t["id"] == topic_id)


@pytest.mark.parametrize(
    ("lang", "one", "two"), [("en", "1 vote", "2 votes"), ("fi", "1 ääni", "2 ääntä")]
)
def test_keyboard_votes_are_counted_once_and_keep_focus(
    world: BoardWorld,
    live: LiveServer,
    live_server: str,
    browser: Any,
    lang: str,
    one: str,
    two: str,
) -> None:
    board = world.facilitator_client.get(world.board_url).get_json()["board"]
    response = world.facilitator_client.patch(
        f"/api/v1/boards/{board['id']}", json={"vote_budget": 3, "votes_per_topic": 2}
    )
    assert response.status_code == 200
    proposed = world.bob_client.post(
        f"/api/v1/boards/{board['id']}/topics", json={"title": "Pricing my work"}
    )
    topic_id = proposed.get_json()["topics"][0]["id"]

    context = browser.new_context(viewport={"width": 390, "height": 800})
    context.set_default_timeout(5000)
    held: list[tuple[Any, Any]] = []

    def hold_reply(route: Any) -> None:
        # The request reaches the server (which commits and publishes the event); only its
        # reply is kept back, so the live event arrives first.
        held.append((route, route.fetch()))

    try:
        page = context.new_page()
        page.route(VOTE_REQUEST, hold_reply)
        page.goto(
            f"{live_server}/panel/sessions/{world.session.id}?lang={lang}#token={world.tokens['alice']}"
        )
        page.wait_for_selector("[data-live-state][data-state='live']")
        page.wait_for_selector(f".topic[data-topic-id='{topic_id}'] .vote-up")

        vote_key, unvote_key = f"vote-{topic_id}", f"unvote-{topic_id}"
        for _ in range(40):  # Tab from the top of the page to the vote button
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.dataset.key") == vote_key:
                break
        else:
            pytest.fail("the vote button cannot be reached with Tab")
        page.evaluate(RECORDER, topic_id)

        def press_and_race(key: str, expected_votes: int) -> list[dict[str, Any]]:
            seq = _seq(page)
            page.keyboard.press(key)
            wait_until(
                page, f"() => Number(document.querySelector('.board-content').dataset.seq) > {seq}"
            )
            assert len(held) == 1, "the event came after the reply: nothing raced"
            page.wait_for_timeout(150)  # the board sits with the event applied, reply pending
            route, reply = held.pop()
            route.fulfill(response=reply)
            wait_until(page, "() => !document.querySelector('.topic.pending')")
            page.wait_for_timeout(100)
            assert _true_votes(world, topic_id) == expected_votes
            return _samples(page)

        # First vote (Enter): the count goes 0 -> 1 and never shows 2; focus stays.
        samples = press_and_race("Enter", 1)
        assert samples, "nothing was recorded"
        assert max(s["count"] for s in samples) == 1, samples
        assert {s["focus"] for s in samples} == {vote_key}, samples
        assert samples[-1]["spoken"] == one

        # Second vote (Space) reaches the per-topic cap: the button is disabled and focus
        # moves to its neighbour, the take-back button, never to the page.
        samples = press_and_race("Space", 2)
        assert max(s["count"] for s in samples) == 2, samples
        assert {s["focus"] for s in samples} <= {vote_key, unvote_key}, samples
        assert samples[-1]["focus"] == unvote_key
        assert samples[-1]["spoken"] == two
        assert page.is_disabled(f"[data-key='{vote_key}']")

        # Taking one back (Enter on "−"): 2 -> 1, never 0; focus stays on "−".
        samples = press_and_race("Enter", 1)
        assert {s["count"] for s in samples} <= {1, 2}, samples
        assert samples[-1]["count"] == 1
        assert {s["focus"] for s in samples} == {unvote_key}, samples
        assert page.is_enabled(f"[data-key='{vote_key}']")
        page.evaluate("() => window.__votes.stop()")
    finally:
        context.close()

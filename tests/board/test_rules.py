"""The voting rules as plain functions: budget, per-topic cap, unvote, merge, moves, order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from companion.board import rules
from companion.board.rules import TopicFacts

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
OPEN = {1: "to_discuss", 2: "to_discuss", 3: "discussing", 4: "done"}


def _vote(my_votes: dict[int, int], topic_id: int, budget: int = 3, cap: int = 2) -> str | None:
    return rules.check_vote(
        budget=budget, per_topic=cap, my_votes=my_votes, columns=OPEN, topic_id=topic_id
    )


def test_budget_counts_votes_on_topics_not_done() -> None:
    assert rules.votes_left(3, {}, OPEN) == 3
    assert rules.votes_left(3, {1: 1, 3: 1}, OPEN) == 1
    assert rules.votes_left(3, {1: 1, 4: 2}, OPEN) == 2  # votes on a done topic come back
    assert rules.votes_left(3, {1: 2, 2: 2}, OPEN) == 0  # never negative after a budget cut


def test_vote_within_budget_and_cap() -> None:
    assert _vote({}, 1) is None
    assert _vote({1: 1}, 1) is None
    assert _vote({1: 2}, 1) == "cap"
    assert _vote({1: 2, 2: 1}, 2) == "budget"
    assert _vote({1: 1}, 1, budget=1) == "budget"
    assert _vote({}, 3) == "closed"  # being discussed
    assert _vote({}, 4) == "closed"  # done
    assert _vote({}, 99) == "closed"  # not on the board


def test_unvote() -> None:
    assert rules.check_unvote(my_votes={1: 1}, columns=OPEN, topic_id=1) is None
    assert rules.check_unvote(my_votes={}, columns=OPEN, topic_id=1) == "none"
    assert rules.check_unvote(my_votes={3: 1}, columns=OPEN, topic_id=3) == "closed"


def test_merge_carries_votes_and_refunds_over_the_cap() -> None:
    merged, refunded = rules.merge_votes({"a": 2, "b": 1}, {"a": 1, "c": 2}, per_topic=2)
    assert merged == {"a": 2, "b": 1, "c": 2}
    assert refunded == {"a": 1}


def test_merge_keeps_votes_above_a_lowered_cap() -> None:
    merged, refunded = rules.merge_votes({"a": 1}, {"a": 3}, per_topic=2)
    assert merged == {"a": 3} and refunded == {"a": 1}


def test_merge_of_empty_topics() -> None:
    assert rules.merge_votes({}, {}, per_topic=2) == ({}, {})


def test_one_topic_discussed_at_a_time() -> None:
    assert rules.plan_move(OPEN, 1, "discussing") == {3: "done", 1: "discussing"}
    assert rules.plan_move(OPEN, 3, "done") == {3: "done"}
    assert rules.plan_move(OPEN, 3, "discussing") == {}
    assert rules.plan_move(OPEN, 4, "to_discuss") == {4: "to_discuss"}
    with pytest.raises(ValueError):
        rules.plan_move(OPEN, 1, "archive")


def test_order_by_votes_then_age() -> None:
    topics = [
        TopicFacts(1, "to_discuss", 2, T0 + timedelta(minutes=2)),
        TopicFacts(2, "to_discuss", 5, T0 + timedelta(minutes=3)),
        TopicFacts(3, "to_discuss", 2, T0),
        TopicFacts(4, "done", 9, T0),
        TopicFacts(5, "discussing", 0, T0),
    ]
    assert [t.id for t in rules.order_topics(topics)] == [4, 2, 3, 1, 5]
    assert rules.top_ids(topics, 3) == [2, 3, 1]
    assert rules.top_ids(topics, 0) == []


def test_poll_opens_when_the_time_is_up() -> None:
    assert not rules.poll_open(None, T0)
    assert not rules.poll_open(T0 + timedelta(seconds=1), T0)
    assert rules.poll_open(T0, T0)

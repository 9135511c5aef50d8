"""The board's rules as plain functions over plain data: voting, merging, moving, ordering.

Nothing here knows Flask or the database, so the rules are tested directly and the
operations only load the facts, ask these functions, and write what they answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TO_DISCUSS = "to_discuss"
DISCUSSING = "discussing"
DONE = "done"
#: The columns in the order topics travel through them.
COLUMNS = (TO_DISCUSS, DISCUSSING, DONE)

#: Why a vote is refused: no votes left, the per-topic cap, the topic is not open for votes,
#: nothing to take back.
VoteRefusal = Literal["budget", "cap", "closed", "none"]


@dataclass(frozen=True)
class TopicFacts:
    """What ordering needs to know about a topic."""

    id: int
    column: str
    votes: int
    created_at: datetime


def order_topics(topics: Iterable[TopicFacts]) -> list[TopicFacts]:
    """Most votes first; among equals the older topic first (then the lower id)."""
    return sorted(topics, key=lambda t: (-t.votes, t.created_at, t.id))


def top_ids(topics: Iterable[TopicFacts], n: int) -> list[int]:
    """The ids of the `n` best-voted topics not yet done, in order."""
    open_topics = [t for t in topics if t.column != DONE]
    return [t.id for t in order_topics(open_topics)[: max(n, 0)]]


def votes_in_use(my_votes: Mapping[int, int], columns: Mapping[int, str]) -> int:
    """Votes a person has on topics not yet done (votes on done topics are given back)."""
    return sum(count for topic_id, count in my_votes.items() if columns.get(topic_id) != DONE)


def votes_left(budget: int, my_votes: Mapping[int, int], columns: Mapping[int, str]) -> int:
    """How many more votes the person may cast on this board."""
    return max(budget - votes_in_use(my_votes, columns), 0)


def check_vote(
    *,
    budget: int,
    per_topic: int,
    my_votes: Mapping[int, int],
    columns: Mapping[int, str],
    topic_id: int,
) -> VoteRefusal | None:
    """None if one more vote on the topic is allowed, otherwise why not."""
    if columns.get(topic_id) != TO_DISCUSS:
        return "closed"
    if my_votes.get(topic_id, 0) >= per_topic:
        return "cap"
    if votes_left(budget, my_votes, columns) <= 0:
        return "budget"
    return None


def check_unvote(
    *, my_votes: Mapping[int, int], columns: Mapping[int, str], topic_id: int
) -> VoteRefusal | None:
    """None if the person may take one vote back from the topic, otherwise why not."""
    if columns.get(topic_id) != TO_DISCUSS:
        return "closed"
    if my_votes.get(topic_id, 0) <= 0:
        return "none"
    return None


def merge_votes(
    source: Mapping[str, int], target: Mapping[str, int], per_topic: int
) -> tuple[dict[str, int], dict[str, int]]:
    """Carry each voter's votes from a duplicate topic onto the kept one.

    Returns (the kept topic's votes per voter, votes given back per voter): a voter who had
    voted for both keeps at most `per_topic` on the kept topic and gets the rest back.
    """
    merged = {voter: count for voter, count in target.items() if count > 0}
    refunded: dict[str, int] = {}
    for voter, count in source.items():
        if count <= 0:
            continue
        total = merged.get(voter, 0) + count
        merged[voter] = min(total, max(per_topic, merged.get(voter, 0)))
        if total > merged[voter]:
            refunded[voter] = total - merged[voter]
    return merged, refunded


def plan_move(columns: Mapping[int, str], topic_id: int, column: str) -> dict[int, str]:
    """The column changes a move causes: only one topic is discussed at a time, so the one
    being discussed goes to done when another takes its place."""
    if column not in COLUMNS:
        raise ValueError(column)
    changes: dict[int, str] = {}
    if column == DISCUSSING:
        for other, current in columns.items():
            if other != topic_id and current == DISCUSSING:
                changes[other] = DONE
    if columns.get(topic_id) != column:
        changes[topic_id] = column
    return changes


def poll_open(ends_at: datetime | None, now: datetime) -> bool:
    """The "keep going?" poll is open once the timer has run out (until it is extended or
    stopped)."""
    return ends_at is not None and now >= ends_at

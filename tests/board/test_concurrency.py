"""Votes under concurrency: many threads at once never break the budget or the per-topic cap,
and every accepted vote is one event in a gap-free sequence whose totals add up.

Runs on whichever database the suite uses (SQLite by default, PostgreSQL with
`COMPANION_TEST_DATABASE_URL`): SQLite serialises writers with BEGIN IMMEDIATE, PostgreSQL with
the row lock on the board.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.board.access import board_for_session, topic_for_actor
from companion.board.models import Topic, Vote
from companion.board.moves import move_topic
from companion.board.schemas import TopicIn
from companion.board.topics import propose_topic
from companion.board.votes import cast_vote, retract_vote
from companion.core.db import Db, get_database
from companion.core.errors import Conflict
from companion.core.events import LiveEvent
from companion.programmes.models import Participant


def _board_with_topics(
    app: Flask, db: Db, session: Any, facilitator: Any, titles: list[str], **settings: int
) -> tuple[int, list[int]]:
    with app.app_context():
        board = board_for_session(db, session)
        for name, value in settings.items():
            setattr(board, name, value)
        for title in titles:
            propose_topic(db, board, Actor(facilitator=facilitator), TopicIn(title=title))
        db.commit()
        topics = list(db.scalars(select(Topic.id).where(Topic.board_id == board.id)))
        return board.id, sorted(topics)


def _run_threads(work: Callable[[int], None], count: int) -> list[BaseException]:
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait()
            work(index)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return failures


def _vote(app: Flask, participant_id: int, topic_id: int, delta: int) -> dict[str, Any] | None:
    """One vote (or unvote) in its own transaction, as a request does; None when refused."""
    with app.app_context(), get_database(app).session() as db:
        participant = db.get(Participant, participant_id)
        actor = Actor(participant=participant)
        try:
            if delta > 0:
                event, own = cast_vote(db, actor, topic_id)
            else:
                event, own = retract_vote(db, actor, topic_id)
        except Conflict:
            db.rollback()
            return None
        db.commit()
        return {"seq": event.seq, **own.model_dump()}


def _events(db: Db, board_id: int) -> list[LiveEvent]:
    db.rollback()  # see what the threads committed
    return list(
        db.scalars(
            select(LiveEvent)
            .where(LiveEvent.channel == f"board:{board_id}")
            .order_by(LiveEvent.seq)
        )
    )


def test_one_voter_on_many_threads_keeps_the_budget_and_the_cap(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
) -> None:
    facilitator = make_facilitator()
    programme = make_programme(facilitator=facilitator)
    voters = [make_participant(programme, name=f"Voter {i}").id for i in range(3)]
    session = make_session(programme.groups[0])
    board_id, topics = _board_with_topics(
        app, db, session, facilitator, ["One", "Two", "Three"], vote_budget=3, votes_per_topic=2
    )
    accepted: list[dict[str, Any]] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        # Every voter has four threads, each trying to vote twice on every topic at once.
        voter = voters[index % len(voters)]
        for topic in topics * 2:
            result = _vote(app, voter, topic, +1)
            if result is not None:
                with lock:
                    accepted.append(result)

    assert _run_threads(work, 4 * len(voters)) == []

    db.rollback()  # see what the threads committed
    votes = db.execute(
        select(Vote.voter, Vote.topic_id, Vote.count)
        .join(Topic, Topic.id == Vote.topic_id)
        .where(Topic.board_id == board_id)
    ).all()
    per_voter = Counter[str]()
    for voter, _topic, count in votes:
        assert 1 <= count <= 2  # the per-topic cap
        per_voter[voter] += count
    assert per_voter == {f"p:{v}": 3 for v in voters}  # the whole budget, not one more
    assert len(accepted) == 3 * len(voters)
    assert all(a["left"] >= 0 for a in accepted)
    assert sorted(a["left"] for a in accepted) == sorted([0, 1, 2] * len(voters))

    events = _events(db, board_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # gap-free
    vote_events = [e for e in events if e.kind == "vote.cast"]
    assert sorted(e.seq for e in vote_events) == sorted(a["seq"] for a in accepted)


def test_casts_and_retracts_from_many_threads_add_up(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
) -> None:
    facilitator = make_facilitator()
    programme = make_programme(facilitator=facilitator)
    voters = [make_participant(programme, name=f"Voter {i}").id for i in range(6)]
    session = make_session(programme.groups[0])
    board_id, topics = _board_with_topics(
        app, db, session, facilitator, ["A", "B"], vote_budget=3, votes_per_topic=2
    )

    def work(index: int) -> None:
        chooser = random.Random(index)
        voter = voters[index % len(voters)]
        for _ in range(12):
            _vote(app, voter, chooser.choice(topics), chooser.choice((+1, +1, -1)))

    assert _run_threads(work, 12) == []

    events = _events(db, board_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    # Replaying the events in order gives the database's state: every total in an event was
    # read under the board's lock. (Events say no more than totals: who voted is private.)
    totals = Counter[int]()
    for event in events:
        if not event.kind.startswith("vote."):
            continue
        vote = event.data["vote"]
        assert "voter" not in vote and "count" not in vote
        step = 1 if event.kind == "vote.cast" else -1
        assert vote["votes"] == totals[vote["topic_id"]] + step
        totals[vote["topic_id"]] = vote["votes"]
    stored = Counter[int]()
    per_voter = Counter[str]()
    for topic_id, voter, count in db.execute(
        select(Vote.topic_id, Vote.voter, Vote.count)
        .join(Topic, Topic.id == Vote.topic_id)
        .where(Topic.board_id == board_id)
    ):
        assert 0 <= count <= 2  # the per-topic cap
        stored[topic_id] += count
        per_voter[voter] += count
    assert +stored == +totals
    assert all(count <= 3 for count in per_voter.values())  # the budget


def test_a_move_and_votes_at_once_never_count_a_vote_on_a_done_topic(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
) -> None:
    facilitator = make_facilitator()
    programme = make_programme(facilitator=facilitator)
    voters = [make_participant(programme, name=f"Voter {i}").id for i in range(8)]
    session = make_session(programme.groups[0])
    board_id, (topic,) = _board_with_topics(app, db, session, facilitator, ["Only"])
    facilitator_id = facilitator.id

    def work(index: int) -> None:
        if index == len(voters):
            with app.app_context(), get_database(app).session() as own:
                from companion.accounts.models import Facilitator

                actor = Actor(facilitator=own.get(Facilitator, facilitator_id))
                move_topic(own, topic_for_actor(own, actor, topic), actor, "done")
                own.commit()
            return
        _vote(app, voters[index], topic, +1)

    assert _run_threads(work, len(voters) + 1) == []
    events = _events(db, board_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    moved = next(e.seq for e in events if e.kind == "topic.moved")
    # No vote was accepted after the move; the move's event shows the votes before it.
    assert all(e.seq < moved for e in events if e.kind == "vote.cast")
    moved_event = next(e for e in events if e.kind == "topic.moved")
    total = sum(db.scalars(select(Vote.count).where(Vote.topic_id == topic)))
    assert moved_event.data["topics"][0]["votes"] == total

"""What clients of a topic board see: the board's state, its topics, the snapshot a client
draws from, and the events every write appends to the board's log.

Votes and poll answers are private: topics and events carry totals only, and a snapshot
gives the caller their own votes and answer (`me`). No voter key goes to anyone else, so
nobody can tell who voted for what, or link a vote to the author of a topic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.board import rules
from companion.board.access import channel_of, public_key, voter_of
from companion.board.models import Board, PollAnswer, Topic
from companion.board.schemas import BoardOut, MeOut, PollOut, SnapshotOut, TimerOut, TopicOut
from companion.core.db import Db, utcnow
from companion.core.events import LiveEvent, append_event, current_seq
from companion.sessions.models import Session


def topic_out(topic: Topic) -> TopicOut:
    """The topic as broadcast to everyone on the board."""
    board_id = topic.board_id
    return TopicOut(
        id=topic.id,
        title=topic.title,
        description=topic.description,
        column=topic.column,
        votes=topic.vote_count,
        author=None if topic.anonymous else (topic.author_name or None),
        author_key=None if topic.anonymous else public_key(board_id, topic.author),
        created_at=topic.created_at,
        moved_at=topic.moved_at,
    )


def _session_of(db: Db, board: Board) -> Session:
    session = db.get(Session, board.session_id)
    assert session is not None
    return session


def board_out(db: Db, board: Board) -> BoardOut:
    """The board's own state: settings, timer and poll."""
    timer = None
    poll = None
    if board.timer_ends_at is not None and board.timer_started_at is not None:
        timer = TimerOut(
            started_at=board.timer_started_at, ends_at=board.timer_ends_at, round=board.timer_round
        )
        answers = list(
            db.scalars(
                select(PollAnswer).where(
                    PollAnswer.board_id == board.id, PollAnswer.round == board.timer_round
                )
            )
        )
        poll = PollOut(
            round=board.timer_round,
            up=sum(a.answer == "up" for a in answers),
            down=sum(a.answer == "down" for a in answers),
        )
    return BoardOut(
        id=board.id,
        session_id=board.session_id,
        breakout_key=board.breakout_key,
        title=_session_of(db, board).title,
        channel=channel_of(board),
        proposing_locked=board.proposing_locked,
        vote_budget=board.vote_budget,
        votes_per_topic=board.votes_per_topic,
        timer=timer,
        poll=poll,
    )


def visible_topics(db: Db, board: Board) -> list[Topic]:
    """The board's topics that were not merged away, oldest first."""
    return list(
        db.scalars(
            select(Topic)
            .where(Topic.board_id == board.id, Topic.merged_into_id.is_(None))
            .order_by(Topic.id)
        )
    )


def snapshot(db: Db, board: Board, actor: Actor) -> SnapshotOut:
    """Everything the actor's client needs to draw the board, with the seq it reflects."""
    seq = current_seq(db, channel_of(board))  # before the data, see core.live
    person = actor.facilitator or actor.participant
    voter = voter_of(actor)
    topics = visible_topics(db, board)
    language = ""
    if actor.participant is not None:
        language = actor.participant.effective_language
    elif actor.facilitator is not None:
        language = actor.facilitator.language
    return SnapshotOut(
        seq=seq,
        server_time=utcnow(),
        board=board_out(db, board),
        topics=[topic_out(t) for t in topics],
        me=MeOut(
            key=public_key(board.id, voter),
            name=person.name if person is not None else "",
            facilitator=actor.is_facilitator,
            language=language,
            votes={t.id: v.count for t in topics for v in t.votes if v.voter == voter and v.count},
            poll_answer=_poll_answer(db, board, voter),
        ),
    )


def _poll_answer(db: Db, board: Board, voter: str) -> str | None:
    """The voter's own answer in the current poll round."""
    if board.timer_ends_at is None:
        return None
    return db.scalar(
        select(PollAnswer.answer).where(
            PollAnswer.board_id == board.id,
            PollAnswer.round == board.timer_round,
            PollAnswer.voter == voter,
        )
    )


def top_topics(db: Db, board: Board, n: int) -> list[Topic]:
    """The `n` best-voted topics not yet done (most votes, then oldest): for breakout rooms."""
    topics = visible_topics(db, board)
    facts = [rules.TopicFacts(t.id, t.column, t.vote_count, t.created_at) for t in topics]
    by_id = {t.id: t for t in topics}
    return [by_id[i] for i in rules.top_ids(facts, n)]


def board_event(db: Db, board: Board, kind: str, data: dict[str, Any]) -> LiveEvent:
    """Append an event with `data` to the board's log."""
    return append_event(db, channel_of(board), kind, data)


def topics_event(
    db: Db, board: Board, kind: str, topics: list[Topic], /, **extra: Any
) -> LiveEvent:
    """Append an event carrying the topics as they are now (and any `extra` fields)."""
    db.flush()
    for topic in topics:
        db.refresh(topic)
    data = {"topics": [topic_out(t).model_dump(mode="json") for t in topics], **extra}
    return board_event(db, board, kind, data)


def board_state_event(db: Db, board: Board, kind: str) -> LiveEvent:
    """Append an event carrying the board's own state (settings, timer, poll)."""
    db.flush()
    return board_event(db, board, kind, {"board": board_out(db, board).model_dump(mode="json")})

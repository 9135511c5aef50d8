"""Writes and access rules of the topic board; every write appends one event to the board's log.

Writes lock the board row first, so two people voting at once are checked one after the other
(their budgets and the per-topic cap hold on PostgreSQL as on SQLite).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from companion.accounts.identity import Actor
from companion.board import rules
from companion.board.models import (
    DEFAULT_VOTE_BUDGET,
    DEFAULT_VOTES_PER_TOPIC,
    Board,
    PollAnswer,
    Topic,
    Vote,
)
from companion.board.schemas import (
    BoardOut,
    BoardSettingsIn,
    MeOut,
    PollOut,
    SnapshotOut,
    TimerOut,
    TopicEdit,
    TopicIn,
    TopicOut,
)
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotAllowed, NotFound
from companion.core.events import LiveEvent, append_event, current_seq, register_channel
from companion.sessions.models import Session
from companion.sessions.operations import session_for_actor

CHANNEL_PREFIX = "board"


# --- identities on the board ------------------------------------------------------------------


def voter_of(actor: Actor) -> str:
    """The actor as stored on votes and topics: "p:<id>" or "f:<id>"."""
    if actor.facilitator is not None:
        return f"f:{actor.facilitator.id}"
    assert actor.participant is not None
    return f"p:{actor.participant.id}"


def name_of(actor: Actor) -> str:
    """The actor's display name."""
    person = actor.facilitator or actor.participant
    return person.name if person is not None else ""


def public_key(board_id: int, voter: str) -> str:
    """An opaque key for a voter on one board: a client recognises itself, not others."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = f"board-voter:{board_id}:{voter}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:12]


def channel_of(board: Board) -> str:
    """The live channel of the board."""
    return f"{CHANNEL_PREFIX}:{board.id}"


# --- access -----------------------------------------------------------------------------------


def board_for_session(db: Db, session: Session, breakout_key: str = "") -> Board:
    """The session's board (the plenary one by default), made on first use."""
    board = _find_board(db, session.id, breakout_key)
    if board is None:
        insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        # Two first visitors at once must end up on the same board.
        db.execute(
            insert(Board)
            .values(
                session_id=session.id,
                breakout_key=breakout_key,
                vote_budget=DEFAULT_VOTE_BUDGET,
                votes_per_topic=DEFAULT_VOTES_PER_TOPIC,
                proposing_locked=False,
                timer_round=0,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
        board = _find_board(db, session.id, breakout_key)
        assert board is not None
    return board


def _find_board(db: Db, session_id: int, breakout_key: str) -> Board | None:
    return db.scalar(
        select(Board).where(Board.session_id == session_id, Board.breakout_key == breakout_key)
    )


def board_for_actor(db: Db, actor: Actor, board_id: int) -> Board:
    """The board if the actor facilitates its programme or is a member of its group."""
    board = db.get(Board, board_id)
    if board is None:
        raise NotFound(_("No such board."))
    session_for_actor(db, actor, board.session_id)
    return board


def topic_for_actor(db: Db, actor: Actor, topic_id: int) -> Topic:
    """The topic if the actor may see its board (merged topics are gone)."""
    topic = db.get(Topic, topic_id)
    if topic is None or topic.merged_into_id is not None:
        raise NotFound(_("No such topic."))
    board_for_actor(db, actor, topic.board_id)
    return topic


def _require_facilitator(actor: Actor) -> None:
    if not actor.is_facilitator:
        raise NotAllowed(_("Only the facilitator can do this."))


def _lock(db: Db, board: Board) -> None:
    # Serialise the board's writes (SQLite: BEGIN IMMEDIATE already has; no-op there).
    db.refresh(board, with_for_update=True)


# --- what clients see -------------------------------------------------------------------------


def topic_out(topic: Topic) -> TopicOut:
    """The topic as broadcast to everyone on the board."""
    board_id = topic.board_id
    return TopicOut(
        id=topic.id,
        title=topic.title,
        description=topic.description,
        column=topic.column,  # type: ignore[arg-type]
        votes=topic.vote_count,
        voters={public_key(board_id, v.voter): v.count for v in topic.votes if v.count > 0},
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
            answers={public_key(board.id, a.voter): a.answer for a in answers},
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
    language = ""
    if actor.participant is not None:
        language = actor.participant.effective_language
    elif actor.facilitator is not None:
        language = actor.facilitator.language
    return SnapshotOut(
        seq=seq,
        server_time=utcnow(),
        board=board_out(db, board),
        topics=[topic_out(t) for t in visible_topics(db, board)],
        me=MeOut(
            key=public_key(board.id, voter_of(actor)),
            name=person.name if person is not None else "",
            facilitator=actor.is_facilitator,
            language=language,
        ),
    )


def top_topics(db: Db, board: Board, n: int) -> list[Topic]:
    """The `n` best-voted topics not yet done (most votes, then oldest): for breakout rooms."""
    topics = visible_topics(db, board)
    facts = [rules.TopicFacts(t.id, t.column, t.vote_count, t.created_at) for t in topics]
    by_id = {t.id: t for t in topics}
    return [by_id[i] for i in rules.top_ids(facts, n)]


def _event(db: Db, board: Board, kind: str, data: dict[str, Any]) -> LiveEvent:
    return append_event(db, channel_of(board), kind, data)


def _topics_event(
    db: Db, board: Board, kind: str, topics: list[Topic], /, **extra: Any
) -> LiveEvent:
    db.flush()
    for topic in topics:
        db.refresh(topic)
    data = {"topics": [topic_out(t).model_dump(mode="json") for t in topics], **extra}
    return _event(db, board, kind, data)


def _board_event(db: Db, board: Board, kind: str) -> LiveEvent:
    db.flush()
    return _event(db, board, kind, {"board": board_out(db, board).model_dump(mode="json")})


# --- topics -----------------------------------------------------------------------------------


def propose_topic(db: Db, board: Board, actor: Actor, data: TopicIn) -> LiveEvent:
    """Add a topic to "to discuss"; refused while proposing is locked (except facilitators)."""
    _lock(db, board)
    if board.proposing_locked and not actor.is_facilitator:
        raise Conflict(_("The facilitator has closed proposing for now."))
    duplicate = db.scalar(
        select(Topic.id).where(
            Topic.board_id == board.id,
            Topic.merged_into_id.is_(None),
            Topic.title == data.title,
        )
    )
    if duplicate is not None:
        raise Conflict(_("That topic is on the board already; vote for it instead."))
    topic = Topic(
        board_id=board.id,
        title=data.title,
        description=data.description,
        author=voter_of(actor),
        author_name="" if data.anonymous else name_of(actor),
        anonymous=data.anonymous,
        column=rules.TO_DISCUSS,
        created_at=utcnow(),
    )
    db.add(topic)
    return _topics_event(db, board, "topic.proposed", [topic])


def _author_or_facilitator(topic: Topic, actor: Actor) -> None:
    if not actor.is_facilitator and topic.author != voter_of(actor):
        raise NotAllowed(_("Only the author or the facilitator can change a topic."))


def edit_topic(db: Db, topic: Topic, actor: Actor, data: TopicEdit) -> LiveEvent:
    """Change the wording (its author or the facilitator)."""
    _author_or_facilitator(topic, actor)
    _lock(db, topic.board)
    if data.title is not None:
        topic.title = " ".join(data.title.split())
    if data.description is not None:
        topic.description = data.description.strip()
    return _topics_event(db, topic.board, "topic.edited", [topic])


def remove_topic(db: Db, topic: Topic, actor: Actor) -> LiveEvent:
    """Take a topic off the board (its author or the facilitator); its votes come back."""
    _author_or_facilitator(topic, actor)
    board = topic.board
    _lock(db, board)
    if not actor.is_facilitator and any(v.voter != topic.author for v in topic.votes):
        raise Conflict(_("Others have voted for this topic; ask the facilitator to remove it."))
    topic_id = topic.id
    db.delete(topic)
    db.flush()
    return _event(db, board, "topic.removed", {"topics": [], "removed": [topic_id]})


# --- votes ------------------------------------------------------------------------------------


def _my_votes(db: Db, board: Board, voter: str) -> tuple[dict[int, int], dict[int, str]]:
    """The voter's votes per topic, and every visible topic's column."""
    columns = {t.id: t.column for t in visible_topics(db, board)}
    rows = db.execute(
        select(Vote.topic_id, Vote.count)
        .join(Topic, Topic.id == Vote.topic_id)
        .where(Topic.board_id == board.id, Vote.voter == voter, Topic.merged_into_id.is_(None))
    )
    return {topic_id: count for topic_id, count in rows}, columns


_REFUSALS = {
    "budget": lambda: _("You have used all your votes. Take one back to vote again."),
    "cap": lambda: _("You have given this topic as many votes as one topic can get."),
    "closed": lambda: _("Voting is only for topics still to be discussed."),
    "none": lambda: _("You have no vote on this topic to take back."),
}


def cast_vote(db: Db, topic: Topic, actor: Actor) -> LiveEvent:
    """One more dot vote from the actor on the topic, within the budget and per-topic cap."""
    board = topic.board
    _lock(db, board)
    voter = voter_of(actor)
    mine, columns = _my_votes(db, board, voter)
    refusal = rules.check_vote(
        budget=board.vote_budget,
        per_topic=board.votes_per_topic,
        my_votes=mine,
        columns=columns,
        topic_id=topic.id,
    )
    if refusal is not None:
        raise Conflict(_REFUSALS[refusal](), reason=refusal)
    vote = db.scalar(select(Vote).where(Vote.topic_id == topic.id, Vote.voter == voter))
    if vote is None:
        db.add(Vote(topic_id=topic.id, voter=voter, count=1))
    else:
        vote.count += 1
    return _topics_event(db, board, "vote.cast", [topic])


def retract_vote(db: Db, topic: Topic, actor: Actor) -> LiveEvent:
    """Take one of the actor's votes back from the topic."""
    board = topic.board
    _lock(db, board)
    voter = voter_of(actor)
    mine, columns = _my_votes(db, board, voter)
    refusal = rules.check_unvote(my_votes=mine, columns=columns, topic_id=topic.id)
    if refusal is not None:
        raise Conflict(_REFUSALS[refusal](), reason=refusal)
    vote = db.scalar(select(Vote).where(Vote.topic_id == topic.id, Vote.voter == voter))
    assert vote is not None
    if vote.count <= 1:
        db.delete(vote)
    else:
        vote.count -= 1
    return _topics_event(db, board, "vote.retracted", [topic])


# --- the facilitator's moves ------------------------------------------------------------------


def move_topic(db: Db, topic: Topic, actor: Actor, column: str) -> LiveEvent:
    """Move a topic between columns; a new "discussing" topic sends the previous one to done
    and stops its timer."""
    _require_facilitator(actor)
    board = topic.board
    _lock(db, board)
    topics = {t.id: t for t in visible_topics(db, board)}
    before = {i for i, t in topics.items() if t.column == rules.DISCUSSING}
    changes = rules.plan_move({i: t.column for i, t in topics.items()}, topic.id, column)
    now = utcnow()
    for topic_id, new_column in changes.items():
        topics[topic_id].column = new_column
        topics[topic_id].moved_at = now
    after = {i for i, t in topics.items() if t.column == rules.DISCUSSING}
    extra: dict[str, Any] = {}
    if before != after and board.timer_ends_at is not None:
        # The timebox belonged to the topic that was being discussed.
        _clear_timer(board)
        db.flush()
        extra["board"] = board_out(db, board).model_dump(mode="json")
    changed = [topics[i] for i in changes] or [topic]
    return _topics_event(db, board, "topic.moved", changed, **extra)


def merge_topics(db: Db, source: Topic, target: Topic, actor: Actor) -> LiveEvent:
    """Fold a duplicate into the kept topic; votes come along up to the per-topic cap and the
    rest go back to their voters."""
    _require_facilitator(actor)
    board = source.board
    if source.id == target.id or target.board_id != source.board_id:
        raise Conflict(_("Choose another topic of the same board to merge into."))
    _lock(db, board)
    merged, _refunded = rules.merge_votes(
        {v.voter: v.count for v in source.votes},
        {v.voter: v.count for v in target.votes},
        board.votes_per_topic,
    )
    existing = {v.voter: v for v in target.votes}
    for voter, count in merged.items():
        if voter in existing:
            existing[voter].count = count
        else:
            target.votes.append(Vote(voter=voter, count=count))
    for vote in list(source.votes):
        db.delete(vote)
    source.merged_into_id = target.id
    if source.description and source.description not in target.description:
        target.description = (target.description + "\n" + source.description).strip()[:500]
    return _topics_event(db, board, "topics.merged", [target], removed=[source.id])


def update_board(db: Db, board: Board, actor: Actor, data: BoardSettingsIn) -> LiveEvent:
    """Lock or unlock proposing, or change the vote budget and per-topic cap."""
    _require_facilitator(actor)
    _lock(db, board)
    for name, value in data.model_dump(exclude_none=True).items():
        setattr(board, name, value)
    return _board_event(db, board, "board.updated")


# --- the timebox and its poll -----------------------------------------------------------------


def _clear_timer(board: Board) -> None:
    board.timer_started_at = None
    board.timer_ends_at = None


def start_timer(db: Db, board: Board, actor: Actor, minutes: int) -> LiveEvent:
    """Start a timebox of `minutes` from now (replacing any running one)."""
    _require_facilitator(actor)
    _lock(db, board)
    now = utcnow()
    board.timer_started_at = now
    board.timer_ends_at = now + timedelta(minutes=minutes)
    board.timer_round += 1
    return _board_event(db, board, "timer.started")


def extend_timer(db: Db, board: Board, actor: Actor, minutes: int) -> LiveEvent:
    """Add `minutes` (from now if the time was up); a new poll round starts when it runs out."""
    _require_facilitator(actor)
    _lock(db, board)
    if board.timer_ends_at is None:
        return start_timer(db, board, actor, minutes)
    now = utcnow()
    board.timer_ends_at = max(board.timer_ends_at, now) + timedelta(minutes=minutes)
    board.timer_round += 1
    return _board_event(db, board, "timer.extended")


def stop_timer(db: Db, board: Board, actor: Actor) -> LiveEvent:
    """Stop the timebox (and close its poll)."""
    _require_facilitator(actor)
    _lock(db, board)
    _clear_timer(board)
    return _board_event(db, board, "timer.stopped")


def answer_poll(db: Db, board: Board, actor: Actor, answer: str) -> LiveEvent:
    """Thumbs up (keep going) or down (move on) once the time is up; a second answer replaces
    the first."""
    _lock(db, board)
    if not rules.poll_open(board.timer_ends_at, utcnow()):
        raise Conflict(_("The poll opens when the time is up."))
    voter = voter_of(actor)
    row = db.scalar(
        select(PollAnswer).where(
            PollAnswer.board_id == board.id,
            PollAnswer.round == board.timer_round,
            PollAnswer.voter == voter,
        )
    )
    if row is None:
        db.add(PollAnswer(board_id=board.id, round=board.timer_round, voter=voter, answer=answer))
    else:
        row.answer = answer
    return _board_event(db, board, "poll.answered")


# --- the live channel -------------------------------------------------------------------------


def _board_of_channel(db: Db, channel: str) -> Board | None:
    _, _sep, raw = channel.partition(":")
    if not raw.isdigit():
        return None
    return db.get(Board, int(raw))


def _authorize(db: Db, actor: Actor, channel: str) -> bool:
    """Only the session's facilitators and its group's members may watch a board."""
    board = _board_of_channel(db, channel)
    if board is None:
        return False
    try:
        session_for_actor(db, actor, board.session_id)
    except (NotFound, NotAllowed):
        return False
    return True


def _snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    board = _board_of_channel(db, channel)
    if board is None:
        raise NotFound()
    return snapshot(db, board, actor).model_dump(mode="json")


register_channel(CHANNEL_PREFIX, authorize=_authorize, snapshot=_snapshot)

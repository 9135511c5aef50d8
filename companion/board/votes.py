"""Dot votes on the board's topics, within the voter's budget and the per-topic cap.

Votes are the hot path (a large session votes many times a second), so a vote is a few Core
statements: access and lock in one, the voter's votes on the board in one, the vote row as an
upsert, and the event. Its event carries the topic's new total only, never who voted; the
voter's own count comes back in the answer to their request.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from companion.accounts.identity import Actor
from companion.board import rules
from companion.board.access import (
    CHANNEL_PREFIX,
    AnySelect,
    actor_params,
    check_access,
    no_such_topic,
    voter_of,
    with_access,
)
from companion.board.models import Board, Topic, Vote
from companion.board.schemas import VoteEventOut, VoteOut
from companion.core.db import Db
from companion.core.errors import Conflict, NotFound
from companion.core.events import LiveEvent, append_event

_BOARD: Table = Board.__table__  # type: ignore[assignment]
_TOPIC: Table = Topic.__table__  # type: ignore[assignment]
_VOTE: Table = Vote.__table__  # type: ignore[assignment]

#: Statements built once per shape (they are immutable; SQLAlchemy caches their compiled SQL).
_STATEMENTS: dict[tuple[Any, ...], Any] = {}

_REFUSALS = {
    "budget": lambda: _("You have used all your votes. Take one back to vote again."),
    "cap": lambda: _("You have given this topic as many votes as one topic can get."),
    "closed": lambda: _("Voting is only for topics still to be discussed."),
    "none": lambda: _("You have no vote on this topic to take back."),
}


def _vote_board_statement(facilitator: bool, postgresql: bool) -> AnySelect:
    """The topic's board if the actor may vote there; locks the board row on PostgreSQL."""
    key = ("vote-board", facilitator, postgresql)
    if key not in _STATEMENTS:
        statement = (
            select(_BOARD.c.id, _BOARD.c.vote_budget, _BOARD.c.votes_per_topic)
            .select_from(_TOPIC)
            .join(_BOARD, _BOARD.c.id == _TOPIC.c.board_id)
            .where(_TOPIC.c.id == bindparam("topic_id"))
        )
        statement = with_access(statement, facilitator)
        if postgresql:
            statement = statement.with_for_update(of=_BOARD)
        _STATEMENTS[key] = statement
    return _STATEMENTS[key]  # type: ignore[no-any-return]


def _vote_facts_statement() -> AnySelect:
    """After the lock: the voter's votes on the board's visible topics and the voted topic's
    column and total (one row per topic the voter has votes on, plus the voted topic)."""
    key = ("vote-facts",)
    if key not in _STATEMENTS:
        everyone = _VOTE.alias("everyone")
        total = (
            select(func.coalesce(func.sum(everyone.c.count), 0))
            .where(everyone.c.topic_id == bindparam("topic_id"))
            .scalar_subquery()
        )
        mine = and_(_VOTE.c.topic_id == _TOPIC.c.id, _VOTE.c.voter == bindparam("voter"))
        _STATEMENTS[key] = (
            select(
                _TOPIC.c.id.label("topic_id"),
                _TOPIC.c.column.label("topic_column"),
                _VOTE.c.count.label("mine"),  # (not "count": a tuple method's name)
                total.label("total"),
            )
            .select_from(_TOPIC.outerjoin(_VOTE, mine))
            .where(
                _TOPIC.c.board_id == bindparam("board_id"),
                _TOPIC.c.merged_into_id.is_(None),
                or_(_VOTE.c.id.is_not(None), _TOPIC.c.id == bindparam("topic_id")),
            )
        )
    return _STATEMENTS[key]  # type: ignore[no-any-return]


def _add_vote_statement(postgresql: bool) -> Any:
    """One more vote: insert the row, or count up the one there is (one statement)."""
    key = ("vote-add", postgresql)
    if key not in _STATEMENTS:
        insert = pg_insert if postgresql else sqlite_insert
        statement = insert(_VOTE).values(
            topic_id=bindparam("topic_id"), voter=bindparam("voter"), count=1
        )
        _STATEMENTS[key] = statement.on_conflict_do_update(
            index_elements=[_VOTE.c.topic_id, _VOTE.c.voter],
            set_={"count": _VOTE.c.count + 1},
        )
    return _STATEMENTS[key]


# (An UPDATE's own bind names must not be column names.)
_THIS_VOTE = and_(_VOTE.c.topic_id == bindparam("b_topic"), _VOTE.c.voter == bindparam("b_voter"))
_COUNT_DOWN = update(_VOTE).where(_THIS_VOTE).values(count=_VOTE.c.count - 1)
_DELETE_VOTE = delete(_VOTE).where(_THIS_VOTE)


def _change_vote(
    db: Db, actor: Actor, topic_id: int, delta: int, request_id: str | None
) -> tuple[LiveEvent, VoteOut]:
    connection: Connection = db.connection()
    postgresql = connection.dialect.name == "postgresql"
    board = check_access(
        actor,
        connection.execute(
            _vote_board_statement(actor.is_facilitator, postgresql),
            {"topic_id": topic_id, **actor_params(actor)},
        ).first(),
        no_such_topic,
    )
    # Everything checked below is read after the lock.
    voter = voter_of(actor)
    params = {"board_id": board.id, "topic_id": topic_id, "voter": voter}
    rows = connection.execute(_vote_facts_statement(), params).all()
    columns = {row.topic_id: row.topic_column for row in rows}
    if topic_id not in columns:
        raise NotFound(no_such_topic())  # merged away or removed
    mine = {row.topic_id: row.mine for row in rows if row.mine}
    if delta > 0:
        refusal = rules.check_vote(
            budget=board.vote_budget,
            per_topic=board.votes_per_topic,
            my_votes=mine,
            columns=columns,
            topic_id=topic_id,
        )
    else:
        refusal = rules.check_unvote(my_votes=mine, columns=columns, topic_id=topic_id)
    if refusal is not None:
        raise Conflict(_REFUSALS[refusal](), reason=refusal)
    count = mine.get(topic_id, 0) + delta
    if delta > 0:
        connection.execute(_add_vote_statement(postgresql), params)
    else:
        this_vote = {"b_topic": topic_id, "b_voter": voter}
        connection.execute(_COUNT_DOWN if count > 0 else _DELETE_VOTE, this_vote)
    mine[topic_id] = count
    total = rows[0].total + delta
    # Everyone learns the new total; only the voter (in the answer) learns their own count.
    public = VoteEventOut(topic_id=topic_id, votes=total, request_id=request_id)
    kind = "vote.cast" if delta > 0 else "vote.retracted"
    event = append_event(db, f"{CHANNEL_PREFIX}:{board.id}", kind, {"vote": public.model_dump()})
    own = VoteOut(
        **public.model_dump(),
        count=count,
        left=rules.votes_left(board.vote_budget, mine, columns),
    )
    return event, own


def cast_vote(
    db: Db, actor: Actor, topic_id: int, request_id: str | None = None
) -> tuple[LiveEvent, VoteOut]:
    """One more dot vote from the actor on the topic, within the budget and per-topic cap.

    Returns the event (the new total, for everyone) and the vote as its voter sees it.
    """
    return _change_vote(db, actor, topic_id, +1, request_id)


def retract_vote(
    db: Db, actor: Actor, topic_id: int, request_id: str | None = None
) -> tuple[LiveEvent, VoteOut]:
    """Take one of the actor's votes back from the topic (returns as `cast_vote`)."""
    return _change_vote(db, actor, topic_id, -1, request_id)

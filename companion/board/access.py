"""Who is who on a topic board, who may reach it, and how its writes lock it.

Writes lock the board row first, so two people voting at once are checked one after the other
(their budgets and the per-topic cap hold on PostgreSQL as on SQLite): on PostgreSQL with
`SELECT ... FOR UPDATE` on the board; on SQLite the write transaction (`BEGIN IMMEDIATE`)
already serialises writers. Whatever a write checks is read after the lock.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Row, Select, Table, bindparam, exists, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InvalidRequestError

from companion.accounts.access import decide
from companion.accounts.identity import Actor
from companion.accounts.models import ProgrammeRole
from companion.board.models import (
    DEFAULT_VOTE_BUDGET,
    DEFAULT_VOTES_PER_TOPIC,
    Board,
    Topic,
    Vote,
)
from companion.core.db import Db, utcnow
from companion.core.errors import NotAllowed, NotFound
from companion.programmes.models import Group, Membership, Programme
from companion.sessions.models import Session

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


_BOARD: Table = Board.__table__  # type: ignore[assignment]
_SESSION: Table = Session.__table__  # type: ignore[assignment]
_GROUP: Table = Group.__table__  # type: ignore[assignment]
_PROGRAMME: Table = Programme.__table__  # type: ignore[assignment]
_MEMBERSHIP: Table = Membership.__table__  # type: ignore[assignment]
_ROLE: Table = ProgrammeRole.__table__  # type: ignore[assignment]

#: Any select, whatever its columns.
AnySelect = Select[*tuple[Any, ...]]

#: Statements built once per shape (they are immutable; SQLAlchemy caches their compiled SQL).
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def with_access(statement: AnySelect, facilitator: bool) -> AnySelect:
    """Join the board's session and keep the rows the actor may see.

    A participant must be a member of the session's group (`:participant_id`). For a
    facilitator (`:facilitator_id`) the programme's organisation and the role they hold in it
    (NULL for none) are added as columns, so `check_access` can decide as
    `companion.accounts.access.decide` does everywhere else.
    """
    statement = statement.join(_SESSION, _SESSION.c.id == _BOARD.c.session_id)
    if facilitator:
        role = (
            select(_ROLE.c.role)
            .where(
                _ROLE.c.programme_id == _GROUP.c.programme_id,
                _ROLE.c.facilitator_id == bindparam("facilitator_id"),
            )
            .scalar_subquery()
        )
        return (
            statement.join(_GROUP, _GROUP.c.id == _SESSION.c.group_id)
            .join(_PROGRAMME, _PROGRAMME.c.id == _GROUP.c.programme_id)
            .add_columns(_PROGRAMME.c.organisation_id, role.label("held_role"))
        )
    member = exists().where(
        _MEMBERSHIP.c.group_id == _SESSION.c.group_id,
        _MEMBERSHIP.c.participant_id == bindparam("participant_id"),
    )
    return statement.where(member)


def actor_params(actor: Actor) -> dict[str, Any]:
    """The bind parameters `with_access` needs for the actor."""
    if actor.facilitator is not None:
        return {"facilitator_id": actor.facilitator.id}
    assert actor.participant is not None
    return {"participant_id": actor.participant.id}


def check_access(actor: Actor, row: Row[Any] | None, missing: Callable[[], str]) -> Row[Any]:
    """The row if the actor may act on it: NotFound when it does not exist for them (another
    organisation's without a role, not a member), NotAllowed for a facilitator whose role does
    not allow the request (none in their own organisation's programme, an observer writing).

    `missing` gives the NotFound message; it is translated only when needed (choosing the
    language can cost a query)."""
    if row is None:
        raise NotFound(missing())
    facilitator = actor.facilitator
    if facilitator is not None:
        decide(facilitator, row.organisation_id, row.held_role, missing=missing)
    return row


def _no_board() -> str:
    return _("No such board.")


def no_such_topic() -> str:
    """The NotFound message for a topic the actor cannot reach (or that is gone)."""
    return _("No such topic.")


def _board_statement(facilitator: bool) -> AnySelect:
    key = ("board", facilitator)
    if key not in _STATEMENTS:
        statement = select(Board).where(Board.id == bindparam("board_id"))
        _STATEMENTS[key] = with_access(statement, facilitator).execution_options(
            populate_existing=True
        )
    return _STATEMENTS[key]  # type: ignore[no-any-return]


def _topic_statement(facilitator: bool) -> AnySelect:
    key = ("topic", facilitator)
    if key not in _STATEMENTS:
        statement = (
            select(Topic, Board)
            .join(Board, Board.id == Topic.board_id)
            .where(Topic.id == bindparam("topic_id"), Topic.merged_into_id.is_(None))
        )
        _STATEMENTS[key] = with_access(statement, facilitator).execution_options(
            populate_existing=True
        )
    return _STATEMENTS[key]  # type: ignore[no-any-return]


def board_for_actor(db: Db, actor: Actor, board_id: int) -> Board:
    """The board if the actor facilitates its programme or is a member of its group (one
    query)."""
    statement = _board_statement(actor.is_facilitator)
    row = db.execute(statement, {"board_id": board_id, **actor_params(actor)}).first()
    board: Board = check_access(actor, row, _no_board)[0]
    return board


def topic_for_actor(db: Db, actor: Actor, topic_id: int) -> Topic:
    """The topic if the actor may see its board (merged topics are gone); one query, which
    loads the board too."""
    statement = _topic_statement(actor.is_facilitator)
    row = db.execute(statement, {"topic_id": topic_id, **actor_params(actor)}).first()
    topic: Topic = check_access(actor, row, no_such_topic)[0]
    return topic


def require_facilitator(actor: Actor) -> None:
    """NotAllowed unless the actor is a facilitator (whose access `board_for_actor` checked)."""
    if not actor.is_facilitator:
        raise NotAllowed(_("Only the facilitator can do this."))


def _is_postgresql(db: Db) -> bool:
    return db.connection().dialect.name == "postgresql"


def lock_board(db: Db, board: Board) -> None:
    """Serialise the board's writes and read what they check afresh.

    PostgreSQL: lock the board row (`SELECT ... FOR UPDATE`, reloading it) and expire the
    board's topics and votes already loaded, so they are read again after the lock. SQLite: the
    write transaction began IMMEDIATE and holds the database's write lock already, and
    everything loaded in it is current.
    """
    if not _is_postgresql(db):
        return
    db.refresh(board, with_for_update=True)
    for instance in list(db.identity_map.values()):
        if isinstance(instance, Topic | Vote):
            db.expire(instance)


def lock_topics(db: Db, *topics: Topic) -> Board:
    """Lock the topics' board (see `lock_board`); NotFound if one was removed or merged away
    while this write waited for the lock."""
    board = topics[0].board
    lock_board(db, board)
    for topic in topics:
        try:
            if inspect(topic).expired_attributes:
                db.refresh(topic)  # PostgreSQL: read after the lock (raises if it was deleted)
        except InvalidRequestError:
            raise NotFound(no_such_topic()) from None
        if topic.merged_into_id is not None or topic.board_id != board.id:
            raise NotFound(no_such_topic())
    return board

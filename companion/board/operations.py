"""Writes and access rules of the topic board; every write appends one event to the board's log.

Writes lock the board row first, so two people voting at once are checked one after the other
(their budgets and the per-topic cap hold on PostgreSQL as on SQLite): on PostgreSQL with
`SELECT ... FOR UPDATE` on the board; on SQLite the write transaction (`BEGIN IMMEDIATE`)
already serialises writers. Whatever a write checks is read after the lock.

Votes are the hot path (a large session votes many times a second), so a vote is a few Core
statements: access and lock in one, the voter's votes on the board in one, the vote row as an
upsert, and the event. Its event carries the topic's new total and the voter's count on it, not
a reload of the topic.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    Row,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InvalidRequestError

from companion.accounts.identity import Actor
from companion.accounts.models import ProgrammeRole
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
    VoteOut,
)
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotAllowed, NotFound
from companion.core.events import LiveEvent, append_event, current_seq, register_channel
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
_TOPIC: Table = Topic.__table__  # type: ignore[assignment]
_VOTE: Table = Vote.__table__  # type: ignore[assignment]
_SESSION: Table = Session.__table__  # type: ignore[assignment]
_GROUP: Table = Group.__table__  # type: ignore[assignment]
_PROGRAMME: Table = Programme.__table__  # type: ignore[assignment]
_MEMBERSHIP: Table = Membership.__table__  # type: ignore[assignment]
_ROLE: Table = ProgrammeRole.__table__  # type: ignore[assignment]

#: Any select, whatever its columns.
AnySelect = Select[*tuple[Any, ...]]

#: Statements built once per shape (they are immutable; SQLAlchemy caches their compiled SQL).
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _with_access(statement: AnySelect, facilitator: bool) -> AnySelect:
    """Join the board's session and keep the rows the actor may see.

    A participant must be a member of the session's group (`:participant_id`). For a
    facilitator (`:facilitator_id`) the programme's organisation and whether they hold a role
    in it are added as columns, so `_check_access` can tell "not found" from "not yours".
    """
    statement = statement.join(_SESSION, _SESSION.c.id == _BOARD.c.session_id)
    if facilitator:
        role = exists().where(
            _ROLE.c.programme_id == _GROUP.c.programme_id,
            _ROLE.c.facilitator_id == bindparam("facilitator_id"),
        )
        return (
            statement.join(_GROUP, _GROUP.c.id == _SESSION.c.group_id)
            .join(_PROGRAMME, _PROGRAMME.c.id == _GROUP.c.programme_id)
            .add_columns(_PROGRAMME.c.organisation_id, role.label("has_role"))
        )
    member = exists().where(
        _MEMBERSHIP.c.group_id == _SESSION.c.group_id,
        _MEMBERSHIP.c.participant_id == bindparam("participant_id"),
    )
    return statement.where(member)


def _actor_params(actor: Actor) -> dict[str, Any]:
    if actor.facilitator is not None:
        return {"facilitator_id": actor.facilitator.id}
    assert actor.participant is not None
    return {"participant_id": actor.participant.id}


def _check_access(actor: Actor, row: Row[Any] | None, missing: Callable[[], str]) -> Row[Any]:
    """The row if the actor may act on it: NotFound when it does not exist for them (another
    organisation, not a member), NotAllowed for a facilitator not holding this programme.

    `missing` gives the NotFound message; it is translated only when needed (choosing the
    language can cost a query)."""
    if row is None:
        raise NotFound(missing())
    facilitator = actor.facilitator
    if facilitator is not None:
        if row.organisation_id != facilitator.organisation_id:
            raise NotFound(missing())
        if not facilitator.active or not (facilitator.is_admin or row.has_role):
            raise NotAllowed(_("Only the facilitator can do this."))
    return row


def _no_board() -> str:
    return _("No such board.")


def _no_topic() -> str:
    return _("No such topic.")


def _board_statement(facilitator: bool) -> AnySelect:
    key = ("board", facilitator)
    if key not in _STATEMENTS:
        statement = select(Board).where(Board.id == bindparam("board_id"))
        _STATEMENTS[key] = _with_access(statement, facilitator).execution_options(
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
        _STATEMENTS[key] = _with_access(statement, facilitator).execution_options(
            populate_existing=True
        )
    return _STATEMENTS[key]  # type: ignore[no-any-return]


def board_for_actor(db: Db, actor: Actor, board_id: int) -> Board:
    """The board if the actor facilitates its programme or is a member of its group (one
    query)."""
    statement = _board_statement(actor.is_facilitator)
    row = db.execute(statement, {"board_id": board_id, **_actor_params(actor)}).first()
    board: Board = _check_access(actor, row, _no_board)[0]
    return board


def topic_for_actor(db: Db, actor: Actor, topic_id: int) -> Topic:
    """The topic if the actor may see its board (merged topics are gone); one query, which
    loads the board too."""
    statement = _topic_statement(actor.is_facilitator)
    row = db.execute(statement, {"topic_id": topic_id, **_actor_params(actor)}).first()
    topic: Topic = _check_access(actor, row, _no_topic)[0]
    return topic


def _require_facilitator(actor: Actor) -> None:
    if not actor.is_facilitator:
        raise NotAllowed(_("Only the facilitator can do this."))


def _is_postgresql(db: Db) -> bool:
    return db.connection().dialect.name == "postgresql"


def _lock(db: Db, board: Board) -> None:
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


def _lock_topics(db: Db, *topics: Topic) -> Board:
    """Lock the topics' board (see `_lock`); NotFound if one was removed or merged away while
    this write waited for the lock."""
    board = topics[0].board
    _lock(db, board)
    for topic in topics:
        try:
            if inspect(topic).expired_attributes:
                db.refresh(topic)  # PostgreSQL: read after the lock (raises if it was deleted)
        except InvalidRequestError:
            raise NotFound(_no_topic()) from None
        if topic.merged_into_id is not None or topic.board_id != board.id:
            raise NotFound(_no_topic())
    return board


# --- what clients see -------------------------------------------------------------------------


def topic_out(topic: Topic) -> TopicOut:
    """The topic as broadcast to everyone on the board."""
    board_id = topic.board_id
    return TopicOut(
        id=topic.id,
        title=topic.title,
        description=topic.description,
        column=topic.column,
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
    board = _lock_topics(db, topic)
    if data.title is not None:
        topic.title = " ".join(data.title.split())
    if data.description is not None:
        topic.description = data.description.strip()
    return _topics_event(db, board, "topic.edited", [topic])


def remove_topic(db: Db, topic: Topic, actor: Actor) -> LiveEvent:
    """Take a topic off the board (its author or the facilitator); its votes come back."""
    _author_or_facilitator(topic, actor)
    board = _lock_topics(db, topic)
    if not actor.is_facilitator and any(v.voter != topic.author for v in topic.votes):
        raise Conflict(_("Others have voted for this topic; ask the facilitator to remove it."))
    topic_id = topic.id
    db.delete(topic)
    db.flush()
    return _event(db, board, "topic.removed", {"topics": [], "removed": [topic_id]})


# --- votes ------------------------------------------------------------------------------------


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
        statement = _with_access(statement, facilitator)
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


def _change_vote(db: Db, actor: Actor, topic_id: int, delta: int) -> LiveEvent:
    connection: Connection = db.connection()
    postgresql = connection.dialect.name == "postgresql"
    board = _check_access(
        actor,
        connection.execute(
            _vote_board_statement(actor.is_facilitator, postgresql),
            {"topic_id": topic_id, **_actor_params(actor)},
        ).first(),
        _no_topic,
    )
    # Everything checked below is read after the lock.
    voter = voter_of(actor)
    params = {"board_id": board.id, "topic_id": topic_id, "voter": voter}
    rows = connection.execute(_vote_facts_statement(), params).all()
    columns = {row.topic_id: row.topic_column for row in rows}
    if topic_id not in columns:
        raise NotFound(_no_topic())  # merged away or removed
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
    vote = VoteOut(
        topic_id=topic_id,
        votes=rows[0].total + delta,
        voter=public_key(board.id, voter),
        count=count,
        left=rules.votes_left(board.vote_budget, mine, columns),
    )
    kind = "vote.cast" if delta > 0 else "vote.retracted"
    return append_event(db, f"{CHANNEL_PREFIX}:{board.id}", kind, {"vote": vote.model_dump()})


def cast_vote(db: Db, actor: Actor, topic_id: int) -> LiveEvent:
    """One more dot vote from the actor on the topic, within the budget and per-topic cap."""
    return _change_vote(db, actor, topic_id, +1)


def retract_vote(db: Db, actor: Actor, topic_id: int) -> LiveEvent:
    """Take one of the actor's votes back from the topic."""
    return _change_vote(db, actor, topic_id, -1)


# --- the facilitator's moves ------------------------------------------------------------------


def move_topic(db: Db, topic: Topic, actor: Actor, column: str) -> LiveEvent:
    """Move a topic between columns; a new "discussing" topic sends the previous one to done
    and stops its timer."""
    _require_facilitator(actor)
    board = _lock_topics(db, topic)
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
    if source.id == target.id or target.board_id != source.board_id:
        raise Conflict(_("Choose another topic of the same board to merge into."))
    board = _lock_topics(db, source, target)
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


def _board_id_of_channel(channel: str) -> int | None:
    _, _sep, raw = channel.partition(":")
    return int(raw) if raw.isdigit() else None


def _authorize(db: Db, actor: Actor, channel: str) -> bool:
    """Only the session's facilitators and its group's members may watch a board."""
    board_id = _board_id_of_channel(channel)
    if board_id is None:
        return False
    try:
        board_for_actor(db, actor, board_id)
    except (NotFound, NotAllowed):
        return False
    return True


def _snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    board_id = _board_id_of_channel(channel)
    board = db.get(Board, board_id) if board_id is not None else None
    if board is None:
        raise NotFound()
    return snapshot(db, board, actor).model_dump(mode="json")


register_channel(CHANNEL_PREFIX, authorize=_authorize, snapshot=_snapshot)

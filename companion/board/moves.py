"""The facilitator's moves on the board: move topics between columns, merge duplicates, and
change the board's settings."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from companion.accounts.identity import Actor
from companion.board import rules
from companion.board.access import lock_board, lock_topics, require_facilitator
from companion.board.models import Board, Topic, Vote
from companion.board.schemas import BoardSettingsIn
from companion.board.snapshot import board_out, board_state_event, topics_event, visible_topics
from companion.board.timebox import clear_timer
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict
from companion.core.events import LiveEvent


def move_topic(db: Db, topic: Topic, actor: Actor, column: str) -> LiveEvent:
    """Move a topic between columns; a new "discussing" topic sends the previous one to done
    and stops its timer."""
    require_facilitator(actor)
    board = lock_topics(db, topic)
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
        clear_timer(board)
        db.flush()
        extra["board"] = board_out(db, board).model_dump(mode="json")
    changed = [topics[i] for i in changes] or [topic]
    return topics_event(db, board, "topic.moved", changed, **extra)


def merge_topics(db: Db, source: Topic, target: Topic, actor: Actor) -> LiveEvent:
    """Fold a duplicate into the kept topic; votes come along up to the per-topic cap and the
    rest go back to their voters."""
    require_facilitator(actor)
    if source.id == target.id or target.board_id != source.board_id:
        raise Conflict(_("Choose another topic of the same board to merge into."))
    board = lock_topics(db, source, target)
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
    return topics_event(db, board, "topics.merged", [target], removed=[source.id])


def update_board(db: Db, board: Board, actor: Actor, data: BoardSettingsIn) -> LiveEvent:
    """Lock or unlock proposing, or change the vote budget and per-topic cap."""
    require_facilitator(actor)
    lock_board(db, board)
    for name, value in data.model_dump(exclude_none=True).items():
        setattr(board, name, value)
    return board_state_event(db, board, "board.updated")

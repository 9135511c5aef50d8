"""Topics on the board: propose, reword and remove them (their author or the facilitator)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.board import rules
from companion.board.access import lock_board, lock_topics, name_of, voter_of
from companion.board.models import Board, Topic
from companion.board.schemas import TopicEdit, TopicIn
from companion.board.snapshot import board_event, topics_event
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotAllowed
from companion.core.events import LiveEvent


def propose_topic(db: Db, board: Board, actor: Actor, data: TopicIn) -> LiveEvent:
    """Add a topic to "to discuss"; refused while proposing is locked (except facilitators)."""
    lock_board(db, board)
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
    return topics_event(db, board, "topic.proposed", [topic])


def _author_or_facilitator(topic: Topic, actor: Actor) -> None:
    if not actor.is_facilitator and topic.author != voter_of(actor):
        raise NotAllowed(_("Only the author or the facilitator can change a topic."))


def edit_topic(db: Db, topic: Topic, actor: Actor, data: TopicEdit) -> LiveEvent:
    """Change the wording (its author or the facilitator)."""
    _author_or_facilitator(topic, actor)
    board = lock_topics(db, topic)
    if data.title is not None:
        topic.title = " ".join(data.title.split())
    if data.description is not None:
        topic.description = data.description.strip()
    return topics_event(db, board, "topic.edited", [topic])


def remove_topic(db: Db, topic: Topic, actor: Actor) -> LiveEvent:
    """Take a topic off the board (its author or the facilitator); its votes come back."""
    _author_or_facilitator(topic, actor)
    board = lock_topics(db, topic)
    if not actor.is_facilitator and any(v.voter != topic.author for v in topic.votes):
        raise Conflict(_("Others have voted for this topic; ask the facilitator to remove it."))
    topic_id = topic.id
    db.delete(topic)
    db.flush()
    return board_event(db, board, "topic.removed", {"topics": [], "removed": [topic_id]})

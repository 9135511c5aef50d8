"""The board's share of personal data (see `companion.privacy.registry`): topics a person
proposed and their dot votes.

Erasure keeps both: a topic belongs to the group's discussion and stays, shown as proposed by
a former participant; votes stay as anonymous counts (their key names the stand-in row, which
nobody can act as), so the votes per topic do not change.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import literal, select, union_all, update

from companion.board.models import Board, PollAnswer, Topic, Vote
from companion.core.db import Db
from companion.privacy.erasure import former_participant_name
from companion.privacy.registry import Section, register_personal_data
from companion.programmes.models import Participant
from companion.sessions.models import Session


def _key(participant_id: int) -> str:
    return f"p:{participant_id}"


def export_board(db: Db, participant_id: int) -> list[Section]:
    """The topics they proposed and their votes."""
    key = _key(participant_id)
    proposed = db.execute(
        select(Topic, Session.title)
        .join(Board, Board.id == Topic.board_id)
        .join(Session, Session.id == Board.session_id)
        .where(Topic.author == key)
        .order_by(Topic.created_at, Topic.id)
    )
    voted = db.execute(
        select(Vote.count, Topic.title, Session.title)
        .join(Topic, Topic.id == Vote.topic_id)
        .join(Board, Board.id == Topic.board_id)
        .join(Session, Session.id == Board.session_id)
        .where(Vote.voter == key)
        .order_by(Session.starts_at, Topic.id)
    )
    return [
        Section(
            key="topics",
            title=_("Topics you proposed"),
            records=[
                {
                    "session": session_title,
                    "title": topic.title,
                    "description": topic.description,
                    "anonymous": topic.anonymous,
                    "proposed_at": topic.created_at,
                }
                for topic, session_title in proposed
            ],
            labels={
                "session": _("Session"),
                "title": _("Topic"),
                "description": _("Description"),
                "anonymous": _("Proposed anonymously"),
                "proposed_at": _("Proposed"),
            },
        ),
        Section(
            key="votes",
            title=_("Your votes"),
            records=[
                {"session": session_title, "topic": title, "votes": count}
                for count, title, session_title in voted
            ],
            labels={"session": _("Session"), "topic": _("Topic"), "votes": _("Votes")},
        ),
    ]


def erase_board(db: Db, participant_id: int) -> None:
    """Their topics now read as by a former participant (anonymous ones stay nameless)."""
    participant = db.get(Participant, participant_id)
    if participant is None:
        return
    db.execute(
        update(Topic)
        .where(Topic.author == _key(participant_id), Topic.anonymous.is_(False))
        .values(author_name=former_participant_name(participant.programme.language))
        .execution_options(synchronize_session="fetch")
    )


def board_took_part(db: Db, participant_id: int) -> bool:
    """Whether they proposed, voted or answered a poll (keyed by text, so no foreign key)."""
    key = _key(participant_id)
    query = union_all(
        select(literal(1)).where(Topic.author == key),
        select(literal(1)).where(Vote.voter == key),
        select(literal(1)).where(PollAnswer.voter == key),
    )
    return db.execute(query.limit(1)).first() is not None


register_personal_data(
    "board",
    tables=("board_topic", "board_vote", "board_poll_answer"),
    export_participant=export_board,
    erase_participant=erase_board,
    took_part=board_took_part,
)

"""Topics of the session's board for the digest ("topics discussed, with their votes")."""

from __future__ import annotations

from sqlalchemy import select

from companion.board import rules
from companion.board.models import Board
from companion.board.snapshot import visible_topics
from companion.core.db import Db
from companion.digest.content import TopicLine
from companion.sessions.models import Session


def topics_for_digest(db: Db, session: Session) -> list[TopicLine]:
    """The plenary board's topics that were discussed, most votes first.

    Topics moved to "discussing" or "done" count as discussed; a board used only for voting
    (nothing moved) gives its topics with votes instead, so the digest still says what the
    group chose. No board, no topics.
    """
    board = db.scalar(select(Board).where(Board.session_id == session.id, Board.breakout_key == ""))
    if board is None:
        return []
    topics = visible_topics(db, board)
    discussed = [t for t in topics if t.column in (rules.DISCUSSING, rules.DONE)]
    chosen = discussed or [t for t in topics if t.vote_count > 0]
    lines = [TopicLine(title=t.title, votes=t.vote_count, status=t.column) for t in chosen]
    return sorted(lines, key=lambda line: -line.votes)

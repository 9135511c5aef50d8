"""The facilitator's timebox for the topic being discussed, and the thumbs poll when it is up."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.board import rules
from companion.board.access import lock_board, require_facilitator, voter_of
from companion.board.models import Board, PollAnswer
from companion.board.snapshot import board_state_event
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict
from companion.core.events import LiveEvent


def clear_timer(board: Board) -> None:
    """Take the timebox off the board (its poll closes with it)."""
    board.timer_started_at = None
    board.timer_ends_at = None


def start_timer(db: Db, board: Board, actor: Actor, minutes: int) -> LiveEvent:
    """Start a timebox of `minutes` from now (replacing any running one)."""
    require_facilitator(actor)
    lock_board(db, board)
    now = utcnow()
    board.timer_started_at = now
    board.timer_ends_at = now + timedelta(minutes=minutes)
    board.timer_round += 1
    return board_state_event(db, board, "timer.started")


def extend_timer(db: Db, board: Board, actor: Actor, minutes: int) -> LiveEvent:
    """Add `minutes` (from now if the time was up); a new poll round starts when it runs out."""
    require_facilitator(actor)
    lock_board(db, board)
    if board.timer_ends_at is None:
        return start_timer(db, board, actor, minutes)
    now = utcnow()
    board.timer_ends_at = max(board.timer_ends_at, now) + timedelta(minutes=minutes)
    board.timer_round += 1
    return board_state_event(db, board, "timer.extended")


def stop_timer(db: Db, board: Board, actor: Actor) -> LiveEvent:
    """Stop the timebox (and close its poll)."""
    require_facilitator(actor)
    lock_board(db, board)
    clear_timer(board)
    return board_state_event(db, board, "timer.stopped")


def answer_poll(db: Db, board: Board, actor: Actor, answer: str) -> LiveEvent:
    """Thumbs up (keep going) or down (move on) once the time is up; a second answer replaces
    the first."""
    lock_board(db, board)
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
    return board_state_event(db, board, "poll.answered")

"""A participant's rating of a session: one per person and session, a second answer updates it.

A session can be rated once it has started (in the side panel, at its end) and after it was
held (the summary email's link); not before, and not when it was cancelled. Operations never
commit.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotFound
from companion.outcomes.models import SessionFeedback
from companion.outcomes.schemas import FeedbackIn, FeedbackOut
from companion.programmes.models import Participant
from companion.sessions import operations as session_ops
from companion.sessions.lifecycle import SessionState
from companion.sessions.models import Session

#: The states in which a session can be rated.
RATEABLE = (SessionState.RUNNING, SessionState.ENDED, SessionState.SUMMARY_SENT)
#: Where an answer came from.
SOURCES = ("email", "panel", "page")


def can_rate(session: Session, now: datetime | None = None) -> bool:
    """Whether the session can be rated now: it is on, or it was held."""
    return session_ops.state_of(session, now) in RATEABLE


def rateable_session(session: Session, participant: Participant) -> Session:
    """The session if the participant is in its group (NotFound otherwise)."""
    if not session_ops.is_member(participant, session):
        raise NotFound(_("No such session."))
    return session


def feedback_of(db: Db, session: Session, participant: Participant) -> SessionFeedback | None:
    """The participant's rating of the session, if they gave one."""
    return db.scalar(
        select(SessionFeedback).where(
            SessionFeedback.session_id == session.id,
            SessionFeedback.participant_id == participant.id,
        )
    )


def feedback_out(db: Db, session: Session, participant: Participant) -> FeedbackOut:
    """The participant's own rating and whether rating is possible now."""
    given = feedback_of(db, session, participant)
    return FeedbackOut(
        session_id=session.id,
        session_title=session.title,
        open=can_rate(session),
        rating=given.rating if given else None,
        comment=given.comment if given else "",
    )


def record_feedback(
    db: Db, session: Session, participant: Participant, data: FeedbackIn, *, source: str = "page"
) -> SessionFeedback:
    """Save the participant's rating of the session; a second answer replaces the first."""
    rateable_session(session, participant)
    if not can_rate(session):
        if session.is_cancelled:
            raise Conflict(_("The session was cancelled, so it cannot be rated."))
        raise Conflict(_("The session can be rated once it has started."))
    now = utcnow()
    source = source if source in SOURCES else "page"
    existing = feedback_of(db, session, participant)
    if existing is None:
        row = SessionFeedback(
            session_id=session.id,
            participant_id=participant.id,
            rating=data.rating,
            comment=data.comment,
            source=source,
            created_at=now,
            updated_at=now,
        )
        try:
            # Two taps at once (the panel and the email): the unique index keeps one row.
            with db.begin_nested():
                db.add(row)
                db.flush()
            return row
        except IntegrityError:
            existing = feedback_of(db, session, participant)
            if existing is None:
                raise
    existing.rating = data.rating
    existing.comment = data.comment
    existing.source = source
    existing.updated_at = now
    db.flush()
    return existing

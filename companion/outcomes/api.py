"""The JSON API: a participant's rating of a session (the side panel) and a programme's
headline figures (counts only, no names)."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from companion.accounts.identity import require_actor, require_facilitator
from companion.core.api import api_view
from companion.core.db import get_db
from companion.core.errors import NotFound
from companion.outcomes import feedback as ops
from companion.outcomes.figures import figures as compute_figures
from companion.outcomes.gather import programme_facts
from companion.outcomes.operations import outcomes_programme
from companion.outcomes.schemas import (
    FeedbackIn,
    FeedbackOut,
    KindCountOut,
    OutcomesOut,
    ShareOut,
)
from companion.programmes.models import Participant
from companion.sessions.models import Session
from companion.sessions.operations import session_for_actor

api = Blueprint("outcomes_api", __name__, url_prefix="/api/v1")


def _participant_session(session_id: int) -> tuple[Session, Participant]:
    actor = require_actor()
    if actor.participant is None:
        raise NotFound(_("Only participants rate sessions."))
    session = session_for_actor(get_db(), actor, session_id)
    return session, actor.participant


@api.get("/sessions/<int:session_id>/feedback")
@api_view(summary="My rating of a session", response=FeedbackOut, tags=("outcomes",))
def my_feedback(session_id: int) -> FeedbackOut:
    """The caller's rating of the session, and whether it can be rated now."""
    session, participant = _participant_session(session_id)
    return ops.feedback_out(get_db(), session, participant)


@api.put("/sessions/<int:session_id>/feedback")
@api_view(summary="Rate a session", body=FeedbackIn, response=FeedbackOut, tags=("outcomes",))
def rate_session(session_id: int, body: FeedbackIn) -> FeedbackOut:
    """Save the caller's rating (1-5) and comment; a second call replaces the first."""
    db = get_db()
    session, participant = _participant_session(session_id)
    ops.record_feedback(db, session, participant, body, source="panel")
    db.commit()
    return ops.feedback_out(db, session, participant)


@api.get("/programmes/<int:programme_id>/outcomes")
@api_view(summary="A programme's outcome figures", response=OutcomesOut, tags=("outcomes",))
def programme_outcomes(programme_id: int) -> OutcomesOut:
    """Headline figures over the held sessions: counts only, so nothing here is logged."""
    facilitator = require_facilitator()
    db = get_db()
    programme = outcomes_programme(db, facilitator, programme_id)
    figures = compute_figures(programme_facts(db, programme), whole_label=_("All participants"))
    return OutcomesOut(
        participants=figures.participants,
        sessions_held=figures.sessions_held,
        sessions_cancelled=figures.sessions_cancelled,
        expert_talks=len(figures.expert_talks),
        hours_total=round(figures.total_minutes / 60, 2),
        dropped_out=len(figures.dropped_out),
        with_contact=[
            ShareOut(label=s.label, count=s.count, total=s.total) for s in figures.contact_shares
        ],
        contacts_by_kind=[
            KindCountOut(kind=k.kind, mutual=k.mutual, pending=k.pending)
            for k in figures.contacts_by_kind
        ],
        pairs_met=figures.pairs_met,
        pairs_possible=figures.pairs,
        feedback_average=figures.feedback_average,
        feedback_count=sum(f.count for f in figures.feedback),
    )

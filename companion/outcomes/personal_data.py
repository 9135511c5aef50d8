"""The outcomes package's share of personal data (see `companion.privacy.registry`): a
person's session ratings and comments, their survey invitation and their survey answers.

Erasure keeps the ratings and the answers to scale, yes/no and choice questions as anonymous
counts (unlinked from the person), so the averages and the survey's results do not change;
their comments and free-text answers go.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from companion.core.db import Db
from companion.outcomes.models import (
    QuestionKind,
    SessionFeedback,
    Survey,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from companion.privacy.registry import Section, register_personal_data
from companion.sessions.models import Session


def export_outcomes(db: Db, participant_id: int) -> list[Section]:
    """Their ratings of sessions and, where the survey was not anonymous, their answers."""
    ratings = db.execute(
        select(SessionFeedback, Session.title)
        .join(Session, Session.id == SessionFeedback.session_id)
        .where(SessionFeedback.participant_id == participant_id)
        .order_by(SessionFeedback.created_at, SessionFeedback.id)
    )
    responses = db.execute(
        select(SurveyResponse, Survey.title)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(SurveyResponse.participant_id == participant_id)
        .order_by(SurveyResponse.id)
    )
    return [
        Section(
            key="session_ratings",
            title=_("Your ratings of the sessions"),
            records=[
                {
                    "session": title,
                    "rating": row.rating,
                    "comment": row.comment,
                    "updated_at": row.updated_at,
                }
                for row, title in ratings
            ],
            labels={
                "session": _("Session"),
                "rating": _("Rating"),
                "comment": _("Comment"),
                "updated_at": _("Given"),
            },
        ),
        Section(
            key="survey_answers",
            title=_("Your survey answers"),
            records=[
                {"survey": title, "submitted_on": row.submitted_on, "answers": row.answers}
                for row, title in responses
            ],
            labels={"survey": _("Survey"), "submitted_on": _("Answered"), "answers": _("Answers")},
        ),
    ]


def erase_outcomes(db: Db, participant_id: int) -> None:
    """Ratings and survey answers stay as anonymous counts; comments and free text go."""
    db.execute(
        update(SessionFeedback)
        .where(SessionFeedback.participant_id == participant_id)
        .values(participant_id=None, comment="")
        .execution_options(synchronize_session="fetch")
    )
    db.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.participant_id == participant_id)
        .values(participant_id=None)
        .execution_options(synchronize_session="fetch")
    )
    for response in db.scalars(
        select(SurveyResponse).where(SurveyResponse.participant_id == participant_id)
    ):
        free_text = {
            str(question_id)
            for question_id in db.scalars(
                select(SurveyQuestion.id).where(
                    SurveyQuestion.survey_id == response.survey_id,
                    SurveyQuestion.kind == QuestionKind.TEXT,
                )
            )
        }
        response.answers = {k: v for k, v in response.answers.items() if k not in free_text}
        response.participant_id = None
    db.flush()


def identifying_outcomes(db: Db, participant_id: int) -> list[str]:
    """Their comments on sessions (free text that may name them)."""
    return [
        comment
        for comment in db.scalars(
            select(SessionFeedback.comment).where(SessionFeedback.participant_id == participant_id)
        )
        if comment
    ]


register_personal_data(
    "outcomes",
    tables=("session_feedback", "survey_invitation", "survey_response"),
    export_participant=export_outcomes,
    erase_participant=erase_outcomes,
    identifying_texts=identifying_outcomes,
)

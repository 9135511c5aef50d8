"""The end-of-programme survey: the facilitator's editor and sending (with a confirmation of
what goes out to whom), and the participant's answer page behind their personal link."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from companion.accounts.roles import Capability
from companion.config import Config
from companion.core.db import get_db, writes
from companion.core.errors import Conflict
from companion.core.validation import submit_form
from companion.outcomes import surveys as ops
from companion.outcomes.answers import AnswerError, read_answers
from companion.outcomes.blueprint import bp, facilitator_or_not_found
from companion.outcomes.models import QuestionKind, Survey, SurveyStatus
from companion.outcomes.operations import outcomes_programme, record_audit
from companion.outcomes.schemas import QuestionIn, SurveySettingsIn
from companion.programmes.models import Programme


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _editor_url(programme: Programme, anchor: str = "") -> str:
    return url_for("outcomes.survey_editor", programme_id=programme.id) + anchor


def _question_values(survey: Survey) -> dict[int, dict[str, Any]]:
    return {
        q.id: {
            "kind": q.kind,
            "text": q.text,
            "choices": "\n".join(q.choices),
            "multiple": q.multiple,
            "required": q.required,
        }
        for q in survey.questions
    }


def _render_editor(
    programme: Programme, survey: Survey, forms: dict[str, Any], status: int = 200
) -> ResponseReturnValue:
    db = get_db()
    invited = ops.invitations_of(db, survey)
    return render_template(
        "outcomes/survey_edit.html",
        programme=programme,
        survey=survey,
        editable=survey.status == SurveyStatus.DRAFT,
        kinds=[
            (QuestionKind.SCALE.value, _("Scale 1–5")),
            (QuestionKind.YES_NO.value, _("Yes or no")),
            (QuestionKind.CHOICE.value, _("Choice")),
            (QuestionKind.TEXT.value, _("Free text")),
        ],
        invited=len(invited),
        answered=sum(1 for i in invited.values() if i.answered),
        waiting=len(ops.recipients(db, survey, programme)),
        question_values=_question_values(survey),
        forms=forms,
    ), status


@bp.route("/programmes/<int:programme_id>/survey", methods=["GET", "POST"])
@writes
def survey_editor(programme_id: int) -> ResponseReturnValue:
    """The survey's settings and questions (made with the defaults on first visit)."""
    facilitator = facilitator_or_not_found()
    db = get_db()
    programme = outcomes_programme(db, facilitator, programme_id)
    survey = ops.survey_for(db, programme)
    db.commit()

    def save(data: SurveySettingsIn) -> ResponseReturnValue:
        ops.update_settings(db, survey, data)
        flash(_("Survey saved."))
        return redirect(_editor_url(programme), code=303)

    values, errors, response = submit_form(
        SurveySettingsIn,
        save,
        defaults={
            "title": survey.title,
            "intro": survey.intro,
            "anonymous": survey.anonymous,
            "reminder_days": survey.reminder_days,
            "max_reminders": survey.max_reminders,
        },
    )
    if response is not None:
        return response
    return _render_editor(programme, survey, {"settings": (values, errors)}, 422 if errors else 200)


def _question_form(programme_id: int, question_id: int | None) -> ResponseReturnValue:
    facilitator = facilitator_or_not_found()
    db = get_db()
    programme = outcomes_programme(db, facilitator, programme_id)
    survey = ops.survey_for(db, programme)

    def save(data: QuestionIn) -> ResponseReturnValue:
        if question_id is None:
            question = ops.add_question(db, survey, data)
            flash(_("Question added."))
        else:
            question = ops.update_question(db, survey, question_id, data)
            flash(_("Question saved."))
        return redirect(_editor_url(programme, f"#q-{question.id}"), code=303)

    values, errors, response = submit_form(QuestionIn, save)
    if response is not None:
        return response
    key = "new" if question_id is None else f"q{question_id}"
    return _render_editor(programme, survey, {key: (values, errors)}, 422)


@bp.route("/programmes/<int:programme_id>/survey/questions", methods=["POST"])
def add_question(programme_id: int) -> ResponseReturnValue:
    """Add a question at the end."""
    return _question_form(programme_id, None)


@bp.route("/programmes/<int:programme_id>/survey/questions/<int:question_id>", methods=["POST"])
def edit_question(programme_id: int, question_id: int) -> ResponseReturnValue:
    """Change a question."""
    return _question_form(programme_id, question_id)


@bp.route(
    "/programmes/<int:programme_id>/survey/questions/<int:question_id>/<action>",
    methods=["POST"],
)
def question_action(programme_id: int, question_id: int, action: str) -> ResponseReturnValue:
    """Move a question up or down, or remove it."""
    facilitator = facilitator_or_not_found()
    db = get_db()
    programme = outcomes_programme(db, facilitator, programme_id)
    survey = ops.survey_for(db, programme)
    if action == "up":
        ops.move_question(db, survey, question_id, -1)
    elif action == "down":
        ops.move_question(db, survey, question_id, 1)
    elif action == "delete":
        ops.delete_question(db, survey, question_id)
        flash(_("Question removed."))
    else:
        ops.question_of(survey, -1)  # NotFound: no such action
    db.commit()
    return redirect(_editor_url(programme, "#questions"), code=303)


@bp.route("/programmes/<int:programme_id>/survey/send", methods=["GET", "POST"])
@writes
def send_survey(programme_id: int) -> ResponseReturnValue:
    """Show exactly what goes out to whom, then send it (to those not sent it yet)."""
    facilitator = facilitator_or_not_found()
    db = get_db()
    programme = outcomes_programme(
        db, facilitator, programme_id, capability=Capability.CONTACT_DETAILS
    )
    survey = ops.survey_for(db, programme)
    if request.method == "POST":
        queued = ops.send_survey(db, survey, programme)
        record_audit(db, facilitator, "survey.send", programme, recipients=queued)
        db.commit()
        flash(
            _("The survey is on its way to %(num)s people. See the outbox.", num=queued)
            if queued
            else _("Everyone has been sent the survey already.")
        )
        return redirect(_editor_url(programme), code=303)
    people = ops.recipients(db, survey, programme)
    preview = ops.render_survey_email(db, _config(), survey, people[0]) if people else None
    db.commit()  # join links are made on first need
    return render_template(
        "outcomes/survey_send.html",
        programme=programme,
        survey=survey,
        people=people,
        preview=preview,
        example=people[0] if people else None,
    )


@bp.route("/programmes/<int:programme_id>/survey/close", methods=["POST"])
def close_survey(programme_id: int) -> ResponseReturnValue:
    """Stop taking answers and reminding."""
    facilitator = facilitator_or_not_found()
    db = get_db()
    programme = outcomes_programme(db, facilitator, programme_id)
    survey = ops.survey_for(db, programme)
    ops.close_survey(db, survey)
    db.commit()
    flash(_("The survey is closed."))
    return redirect(_editor_url(programme), code=303)


# --- the participant's answer page ----------------------------------------------------------


ANSWER_ERRORS = {
    "required": lambda: _("Please answer this question."),
    "scale": lambda: _("Choose a number from 1 to 5."),
    "yes_no": lambda: _("Choose yes or no."),
    "choice": lambda: _("Choose one of the options."),
    "long": lambda: _("Please keep the answer under 4,000 characters."),
}


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer_survey(token: str) -> ResponseReturnValue:
    """The survey behind a participant's personal link; each person answers once."""
    db = get_db()
    found = ops.resolve_survey_token(db, token)
    if found is None:
        return render_template("sessions/join_invalid.html", reason="revoked"), 410
    survey, participant = found
    invitation = ops.invitation_of(db, survey, participant)
    state = "open"
    if invitation is None:
        state = "not_sent"
    elif invitation.answered:
        state = "answered"
    elif survey.status != SurveyStatus.OPEN:
        state = "closed"
    errors: dict[str, str] = {}
    form: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        form = {key: request.form.getlist(key) for key in request.form if key != "csrf_token"}
        if state != "open":
            status = 409
        else:
            try:
                answers = read_answers(ops.question_facts(survey), form)
                ops.submit_response(db, survey, participant, answers)
                db.commit()
            except AnswerError as error:
                db.rollback()
                errors = {f"q{qid}": ANSWER_ERRORS[why]() for qid, why in error.problems.items()}
                status = 422
            except Conflict as error:
                db.rollback()
                errors = {"form": str(error.detail)}
                status = 409
            else:
                state = "thanks"
    return render_template(
        "outcomes/survey_answer.html",
        survey=survey,
        programme=participant.programme,
        participant=participant,
        state=state,
        form=form,
        errors=errors,
    ), status

"""The end-of-programme survey: editing it, sending it, reminders, answers and results.

One survey per programme, made with the default questions on first need. It is edited as a
draft; sending opens it and emails each participant a personal link (their join link's
nonce is in it, so revoking the join link revokes the survey link too); the worker reminds
those who have not answered, `reminder_days` apart, at most `max_reminders` times. Each
person answers once. An anonymous survey stores no person with the answers. Operations never
commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotFound
from companion.core.jobs import periodic
from companion.core.mail import NewMail, queue_mails
from companion.core.security import TokenError, sign, unsign
from companion.outcomes.answers import QuestionFacts, ResponseFacts
from companion.outcomes.models import (
    QuestionKind,
    Survey,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from companion.outcomes.schemas import QuestionIn, SurveySettingsIn
from companion.programmes.models import Participant, Programme
from companion.sessions.join_links import join_link_for
from companion.sessions.models import JoinLink

#: The default questions: (key, kind, text, options, several options, required).
DEFAULT_QUESTIONS: tuple[tuple[str, QuestionKind, object, tuple[object, ...], bool, bool], ...] = (
    (
        "usefulness",
        QuestionKind.SCALE,
        _l("How useful was the programme for you? (1 = not at all, 5 = very useful)"),
        (),
        False,
        True,
    ),
    ("again", QuestionKind.YES_NO, _l("Would you take part again?"), (), False, False),
    (
        "found",
        QuestionKind.CHOICE,
        _l("Did you find a new … through the programme? Tick all that apply."),
        (
            _l("lunch companion"),
            _l("sparring partner"),
            _l("business partner"),
            _l("customer"),
            _l("none of these"),
        ),
        True,
        False,
    ),
    ("change", QuestionKind.TEXT, _l("What should change?"), (), False, False),
)


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


# --- the survey and its questions ---------------------------------------------------------------


def survey_of(db: Db, programme: Programme) -> Survey | None:
    """The programme's survey, if one was made."""
    return db.scalar(select(Survey).where(Survey.programme_id == programme.id))


def survey_for(db: Db, programme: Programme) -> Survey:
    """The programme's survey, made with the default questions (in its language) if missing."""
    survey = survey_of(db, programme)
    if survey is not None:
        return survey
    with force_locale(programme.language):
        survey = Survey(
            programme_id=programme.id,
            title=_("Feedback on %(programme)s", programme=programme.name)[:200],
            intro=_(
                "Thank you for taking part. Your answers help us decide whether the programme "
                "continues and what to change."
            ),
            anonymous=True,
        )
        for position, (key, kind, text, options, multiple, required) in enumerate(
            DEFAULT_QUESTIONS
        ):
            survey.questions.append(
                SurveyQuestion(
                    position=position,
                    kind=kind.value,
                    text=str(text),
                    choices=[str(o) for o in options],
                    multiple=multiple,
                    required=required,
                    key=key,
                )
            )
    db.add(survey)
    db.flush()
    return survey


def _editable(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise Conflict(_("The survey has been sent, so its questions can no longer change."))


def update_settings(db: Db, survey: Survey, data: SurveySettingsIn) -> Survey:
    """Change the title, introduction, anonymity (only before sending) and reminders."""
    if survey.status != SurveyStatus.DRAFT and data.anonymous != survey.anonymous:
        raise Conflict(_("Anonymity cannot change once the survey has been sent."))
    survey.title = data.title
    survey.intro = data.intro
    survey.anonymous = data.anonymous
    survey.reminder_days = data.reminder_days
    survey.max_reminders = data.max_reminders
    db.flush()
    return survey


def question_of(survey: Survey, question_id: int) -> SurveyQuestion:
    """One of the survey's questions (NotFound for another survey's)."""
    for question in survey.questions:
        if question.id == question_id:
            return question
    raise NotFound(_("No such question."))


def _apply(question: SurveyQuestion, data: QuestionIn) -> None:
    question.kind = data.kind.value
    question.text = data.text
    question.choices = data.options
    question.multiple = data.multiple and data.kind is QuestionKind.CHOICE
    question.required = data.required


def add_question(db: Db, survey: Survey, data: QuestionIn) -> SurveyQuestion:
    """Add a question at the end."""
    _editable(survey)
    question = SurveyQuestion(position=len(survey.questions))
    _apply(question, data)
    survey.questions.append(question)
    db.flush()
    return question


def update_question(db: Db, survey: Survey, question_id: int, data: QuestionIn) -> SurveyQuestion:
    """Change a question."""
    _editable(survey)
    question = question_of(survey, question_id)
    _apply(question, data)
    db.flush()
    return question


def delete_question(db: Db, survey: Survey, question_id: int) -> None:
    """Remove a question."""
    _editable(survey)
    survey.questions.remove(question_of(survey, question_id))
    for position, question in enumerate(survey.questions):
        question.position = position
    db.flush()


def move_question(db: Db, survey: Survey, question_id: int, step: int) -> None:
    """Move a question one place up (-1) or down (+1)."""
    _editable(survey)
    questions = list(survey.questions)
    question = question_of(survey, question_id)
    index = questions.index(question)
    target = max(0, min(len(questions) - 1, index + step))
    questions.insert(target, questions.pop(index))
    for position, item in enumerate(questions):
        item.position = position
    survey.questions.sort(key=lambda q: q.position)
    db.flush()


def question_facts(survey: Survey) -> list[QuestionFacts]:
    """The questions as the pure rules take them."""
    return [
        QuestionFacts(q.id, q.kind, q.text, tuple(q.choices), q.multiple, q.required, q.key)
        for q in survey.questions
    ]


# --- sending and reminding ----------------------------------------------------------------------


def survey_token(survey: Survey, participant: Participant, link: JoinLink) -> str:
    """The signed token of a person's survey link."""
    return sign({"s": survey.id, "p": participant.id, "n": link.nonce}, "survey")


def survey_url(config: Config, survey: Survey, participant: Participant, link: JoinLink) -> str:
    """The absolute address of a person's survey link."""
    return config.external_url(f"/survey/{survey_token(survey, participant, link)}")


def resolve_survey_token(db: Db, token: str) -> tuple[Survey, Participant] | None:
    """The survey and person of a link, or None (tampered, or the join link was renewed)."""
    try:
        data = unsign(token, "survey")
    except TokenError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("s", "p")):
        return None
    survey = db.get(Survey, data["s"])
    participant = db.get(Participant, data["p"])
    if survey is None or participant is None or participant.programme_id != survey.programme_id:
        return None
    link = db.scalar(select(JoinLink).where(JoinLink.participant_id == participant.id))
    if link is None or link.revoked_at is not None:
        return None
    if not secrets.compare_digest(str(link.nonce), str(data.get("n", ""))):
        return None
    return survey, participant


def invitations_of(db: Db, survey: Survey) -> dict[int, SurveyInvitation]:
    """The survey's invitations by participant."""
    rows = db.scalars(select(SurveyInvitation).where(SurveyInvitation.survey_id == survey.id))
    return {row.participant_id: row for row in rows if row.participant_id is not None}


def recipients(db: Db, survey: Survey, programme: Programme) -> list[Participant]:
    """Who sending now would email: the participants not invited yet, by name."""
    invited = invitations_of(db, survey)
    return sorted(
        (p for p in programme.participants if p.id not in invited and p.email),
        key=lambda p: (p.name.casefold(), p.id),
    )


@dataclass(frozen=True)
class SurveyEmail:
    """One survey email, ready to queue."""

    subject: str
    text: str
    html: str


def render_survey_email(
    db: Db, config: Config, survey: Survey, participant: Participant, *, reminder: int = 0
) -> SurveyEmail:
    """The invitation (or the `reminder`-th reminder) in the participant's language."""
    programme = participant.programme
    link = join_link_for(db, participant)
    context = {
        "participant": participant,
        "programme": programme,
        "survey": survey,
        "url": survey_url(config, survey, participant, link),
        "reminder": reminder,
        "organisation": programme.organisation.name,
    }
    with force_locale(participant.effective_language):
        subject = _("Reminder: %(title)s", title=survey.title) if reminder else survey.title
        text = render_template("outcomes/email/survey.txt", subject=subject, **context)
        html = render_template("outcomes/email/survey.html", subject=subject, **context)
    return SurveyEmail(subject, text, html)


def invite_key(survey: Survey, participant_id: int) -> str:
    """Dedupe key of a person's invitation."""
    return f"survey-{survey.id}-invite-{participant_id}"


def reminder_key(survey: Survey, participant_id: int, number: int) -> str:
    """Dedupe key of a person's `number`-th reminder."""
    return f"survey-{survey.id}-reminder-{participant_id}-{number}"


def send_survey(db: Db, survey: Survey, programme: Programme, now: datetime | None = None) -> int:
    """Open the survey and email everyone not invited yet; how many were queued."""
    if survey.status == SurveyStatus.CLOSED:
        raise Conflict(_("The survey is closed."))
    if not survey.questions:
        raise Conflict(_("Add at least one question first."))
    now = now or utcnow()
    config = _config()
    people = recipients(db, survey, programme)
    mails = []
    for person in people:
        email = render_survey_email(db, config, survey, person)
        db.add(SurveyInvitation(survey_id=survey.id, participant_id=person.id, sent_at=now))
        mails.append(
            NewMail(
                to_address=person.email,
                to_name=person.name,
                subject=email.subject,
                text_body=email.text,
                html_body=email.html,
                kind="survey",
                programme_id=programme.id,
                dedupe_key=invite_key(survey, person.id),
            )
        )
    if survey.status == SurveyStatus.DRAFT:
        survey.status = SurveyStatus.OPEN.value
        survey.sent_at = now
    db.flush()
    return queue_mails(db, mails)


def close_survey(db: Db, survey: Survey, now: datetime | None = None) -> Survey:
    """Stop taking answers and sending reminders."""
    if survey.status != SurveyStatus.OPEN:
        raise Conflict(_("Only an open survey can be closed."))
    survey.status = SurveyStatus.CLOSED.value
    survey.closed_at = now or utcnow()
    db.flush()
    return survey


def reminder_due(survey: Survey, invitation: SurveyInvitation, now: datetime) -> bool:
    """Whether the person gets their next reminder now."""
    if invitation.answered or invitation.reminders_sent >= survey.max_reminders:
        return False
    last = invitation.last_reminded_at or invitation.sent_at
    return now >= last + timedelta(days=survey.reminder_days)


def send_due_survey_reminders(db: Db, now: datetime | None = None) -> int:
    """Queue the reminders that are due to people who have not answered an open survey."""
    now = now or utcnow()
    config = _config()
    queued = 0
    for survey in db.scalars(select(Survey).where(Survey.status == SurveyStatus.OPEN)):
        if survey.max_reminders <= 0:
            continue
        mails = []
        for invitation in invitations_of(db, survey).values():
            if not reminder_due(survey, invitation, now):
                continue
            participant = db.get(Participant, invitation.participant_id)
            if participant is None:
                continue
            number = invitation.reminders_sent + 1
            email = render_survey_email(db, config, survey, participant, reminder=number)
            invitation.reminders_sent = number
            invitation.last_reminded_at = now
            mails.append(
                NewMail(
                    to_address=participant.email,
                    to_name=participant.name,
                    subject=email.subject,
                    text_body=email.text,
                    html_body=email.html,
                    kind="survey",
                    programme_id=survey.programme_id,
                    dedupe_key=reminder_key(survey, participant.id, number),
                )
            )
        db.flush()
        queued += queue_mails(db, mails)
    return queued


@periodic(600)
def _send_due_survey_reminders(db: Db) -> None:
    send_due_survey_reminders(db)


# --- answering ----------------------------------------------------------------------------------


def invitation_of(db: Db, survey: Survey, participant: Participant) -> SurveyInvitation | None:
    """The person's invitation to the survey, if they were sent it."""
    return db.scalar(
        select(SurveyInvitation).where(
            SurveyInvitation.survey_id == survey.id,
            SurveyInvitation.participant_id == participant.id,
        )
    )


def submit_response(
    db: Db,
    survey: Survey,
    participant: Participant,
    answers: dict[str, object],
    now: datetime | None = None,
) -> SurveyResponse:
    """Store the person's answers (once: a second answer is refused)."""
    if survey.status != SurveyStatus.OPEN:
        raise Conflict(_("The survey is closed. Thank you for your interest."))
    # Lock the invitation row (PostgreSQL), so two submits at once store one answer.
    invitation = db.scalar(
        select(SurveyInvitation)
        .where(
            SurveyInvitation.survey_id == survey.id,
            SurveyInvitation.participant_id == participant.id,
        )
        .with_for_update()
    )
    if invitation is None:
        raise NotFound(_("This survey was not sent to you."))
    if invitation.answered:
        raise Conflict(_("You have already answered. Thank you!"))
    invitation.answered = True
    response = SurveyResponse(
        survey_id=survey.id,
        participant_id=None if survey.anonymous else participant.id,
        submitted_on=(now or utcnow()).date(),
        answers=answers,
    )
    db.add(response)
    db.flush()
    return response


def responses_of(db: Db, survey: Survey) -> list[ResponseFacts]:
    """The answers as the results take them; names only when the survey is not anonymous."""
    rows = list(
        db.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.survey_id == survey.id)
            .order_by(SurveyResponse.id)
        )
    )
    names: dict[int, str] = {}
    if not survey.anonymous:
        ids = [r.participant_id for r in rows if r.participant_id is not None]
        if ids:
            names = {
                p.id: p.name for p in db.scalars(select(Participant).where(Participant.id.in_(ids)))
            }
    return [
        ResponseFacts(
            answers=row.answers,
            name=None
            if survey.anonymous or row.participant_id is None
            else names.get(row.participant_id),
        )
        for row in rows
    ]

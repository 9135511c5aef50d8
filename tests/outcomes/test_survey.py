"""The end-of-programme survey: the default questions, editing, sending by email, answering
once through the personal link, anonymity, reminders to those who have not answered, and the
results on the outcomes page and in the export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.core.db import Db, utcnow
from companion.core.mail.outbox import OutboxMessage
from companion.outcomes import surveys
from companion.outcomes.models import Survey, SurveyInvitation, SurveyResponse
from tests.outcomes.conftest import Outcomes

Signer = Callable[[FlaskClient, Any], FlaskClient]
LINK = re.compile(r"https?://[^\s\"<]+/survey/([^\s\"<]+)")


def _survey(db: Db) -> Survey:
    db.rollback()
    survey = db.scalar(select(Survey))
    assert survey is not None
    return survey


def _send(client: FlaskClient, db: Db, world: Outcomes) -> dict[str, str]:
    """Send the survey and return each person's survey path by email address."""
    pid = world.programme.id
    preview = client.get(f"/programmes/{pid}/survey/send")
    assert preview.status_code == 200
    assert "Aino Aalto" in preview.get_data(as_text=True)
    assert client.post(f"/programmes/{pid}/survey/send").status_code == 303
    mails = list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "survey")))
    paths = {}
    for mail in mails:
        match = LINK.search(mail.text_body)
        assert match, mail.text_body
        paths[mail.to_address] = f"/survey/{match.group(1)}"
    return paths


def test_default_questions_and_editing(
    client: FlaskClient, db: Db, sign_in: Signer, outcomes_world: Outcomes
) -> None:
    sign_in(client, outcomes_world.facilitator)
    pid = outcomes_world.programme.id
    assert client.get(f"/programmes/{pid}/survey").status_code == 200
    survey = _survey(db)
    assert [q.key for q in survey.questions] == ["usefulness", "again", "found", "change"]
    assert [q.kind for q in survey.questions] == ["scale", "yes_no", "choice", "text"]
    assert "lunch companion" in survey.questions[2].choices
    assert survey.anonymous is True
    response = client.post(
        f"/programmes/{pid}/survey/questions",
        data={"kind": "choice", "text": "Best format?", "choices": "Online\nOn site\n"},
    )
    assert response.status_code == 303
    bad = client.post(
        f"/programmes/{pid}/survey/questions", data={"kind": "choice", "text": "Only one"}
    )
    assert bad.status_code == 422
    survey = _survey(db)
    assert survey.questions[-1].text == "Best format?"
    assert survey.questions[-1].choices == ["Online", "On site"]
    last = survey.questions[-1].id
    assert client.post(f"/programmes/{pid}/survey/questions/{last}/up").status_code == 303
    survey = _survey(db)
    assert [q.text for q in survey.questions][3] == "Best format?"
    assert client.post(f"/programmes/{pid}/survey/questions/{last}/delete").status_code == 303
    assert len(_survey(db).questions) == 4


def test_send_answer_once_remind_and_results(
    app: Flask, client: FlaskClient, db: Db, sign_in: Signer, outcomes_world: Outcomes
) -> None:
    sign_in(client, outcomes_world.facilitator)
    pid = outcomes_world.programme.id
    client.get(f"/programmes/{pid}/survey")
    paths = _send(client, db, outcomes_world)
    people = outcomes_world.people
    assert set(paths) == {p.email for p in people.values()}
    # Sending again sends nobody a second invitation.
    client.post(f"/programmes/{pid}/survey/send")
    assert len(list(db.scalars(select(OutboxMessage)))) == 6
    # The survey is no longer editable.
    survey = _survey(db)
    q = {question.key: question.id for question in survey.questions}
    edit = client.post(
        f"/programmes/{pid}/survey/questions", data={"kind": "text", "text": "Late question"}
    )
    assert edit.status_code in (409, 422)
    assert "can no longer change" in edit.get_data(as_text=True)
    assert len(_survey(db).questions) == 4

    answerer = app.test_client()
    path = paths[people["A"].email]
    page = answerer.get(path)
    assert page.status_code == 200 and "Would you take part again?" in page.get_data(as_text=True)
    missing = answerer.post(path, data={f"q{q['again']}": "yes"})
    assert missing.status_code == 422  # usefulness is required
    answers = {
        f"q{q['usefulness']}": "4",
        f"q{q['again']}": "yes",
        f"q{q['found']}": ["lunch companion", "customer"],
        f"q{q['change']}": "More time in small groups",
    }
    assert answerer.post(path, data=answers).status_code == 200
    assert answerer.post(path, data=answers).status_code == 409  # once per person
    other = app.test_client().post(
        paths[people["B"].email], data={f"q{q['usefulness']}": "2", f"q{q['again']}": "no"}
    )
    assert other.status_code == 200
    tampered = app.test_client().get(path[:-3] + "abc")
    assert tampered.status_code == 410

    db.rollback()
    rows = list(db.scalars(select(SurveyResponse)))
    assert len(rows) == 2
    assert all(r.participant_id is None for r in rows)  # anonymous: no person stored
    answered = {i.participant_id for i in db.scalars(select(SurveyInvitation)) if i.answered}
    assert answered == {people["A"].id, people["B"].id}

    # Reminders: none before `reminder_days`, then one to each of the four who have not
    # answered, and not a second one the same day.
    with app.test_request_context():
        assert surveys.send_due_survey_reminders(db, utcnow() + timedelta(days=1)) == 0
        later = utcnow() + timedelta(days=8)
        assert surveys.send_due_survey_reminders(db, later) == 4
        assert surveys.send_due_survey_reminders(db, later) == 0
        db.commit()
    reminded = {
        m.to_address for m in db.scalars(select(OutboxMessage)) if m.subject.startswith("Reminder:")
    }
    assert reminded == {people[k].email for k in "CDEF"}

    # Results on the outcomes page: average 3.0, yes 1 / no 1, the comment without a name.
    html = client.get(f"/programmes/{pid}/outcomes").get_data(as_text=True)
    assert "More time in small groups" in html
    assert "<strong>Aino Aalto:</strong>" not in html  # anonymous: no name with the text
    export = client.get(f"/programmes/{pid}/outcomes/survey.csv").data
    rows_csv = list(csv.reader(io.StringIO(export.decode("utf-8-sig")), delimiter=";"))
    assert rows_csv[0][0].startswith("How useful")  # no name column: the survey is anonymous
    assert sorted(r[0] for r in rows_csv[1:]) == ["2", "4"]
    assert ["4", "yes", "lunch companion, customer", "More time in small groups"] in rows_csv
    funder = client.get(f"/programmes/{pid}/outcomes/funder.csv").data.decode("utf-8-sig")
    assert "Answers;2" in funder
    assert "Sent to;6" in funder


def test_a_named_survey_shows_who_wrote_what_to_facilitators(
    app: Flask, client: FlaskClient, db: Db, sign_in: Signer, outcomes_world: Outcomes
) -> None:
    sign_in(client, outcomes_world.facilitator)
    pid = outcomes_world.programme.id
    client.get(f"/programmes/{pid}/survey")
    settings = {"title": "Palaute", "intro": "", "reminder_days": "7", "max_reminders": "1"}
    assert client.post(f"/programmes/{pid}/survey", data=settings).status_code == 303
    assert _survey(db).anonymous is False  # the box was not ticked
    paths = _send(client, db, outcomes_world)
    survey = _survey(db)
    q = {question.key: question.id for question in survey.questions}
    aino = outcomes_world.people["A"]
    answered = app.test_client().post(
        paths[aino.email], data={f"q{q['usefulness']}": "5", f"q{q['change']}": "Nothing"}
    )
    assert answered.status_code == 200
    db.rollback()
    assert [r.participant_id for r in db.scalars(select(SurveyResponse))] == [aino.id]
    html = client.get(f"/programmes/{pid}/outcomes").get_data(as_text=True)
    assert "<strong>Aino Aalto:</strong> Nothing" in html
    export = client.get(f"/programmes/{pid}/outcomes/survey.csv").data.decode("utf-8-sig")
    assert export.splitlines()[0].startswith("Name;")
    assert "Aino Aalto;5;" in export

"""Schedule changes reach people: a moved, cancelled or restored session is emailed to its
members (real SMTP) with a calendar entry that replaces theirs (parsed with icalendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar

from companion.core.db import Db
from companion.sessions.models import Session
from tests.digest.conftest import by_recipient, run_worker, use_smtp  # noqa: F401
from tests.services import SmtpServer

START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # 9:00 in Helsinki


def _calendar(message: Any) -> tuple[str, Any]:
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachment.get_content())
    (event,) = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def _world(make_programme: Any, make_participant: Any, make_session: Any) -> Any:
    programme = make_programme(timezone="Europe/Helsinki")
    group = programme.groups[0]
    aino = make_participant(programme, group=group, name="Aino Aalto", language="fi")
    bob = make_participant(programme, group=group, name="Bob Berg", language="en")
    make_participant(programme, group=programme.groups[1], name="Other Group")
    session = make_session(group, starts_at=START, title="Hinnoittelu")
    return programme, aino, bob, session


def test_a_moved_session_reaches_every_member_with_an_updated_calendar_entry(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    make_programme: Any,
    make_participant: Any,
    make_session: Any,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    programme, aino, bob, session = _world(make_programme, make_participant, make_session)
    sign_in(client, programme.roles[0].facilitator)
    form = {"date": "2027-03-08", "start_time": "10:00", "confirm": "yes"}
    preview = client.post(f"/sessions/{session.id}/edit", data={**form, "confirm": ""})
    text = preview.get_data(as_text=True)
    # The confirmation shows who gets what before anything goes out.
    assert "2 members" in text and "Aino Aalto" in text and "Uusi aika" in text
    run_worker(app)
    assert use_smtp.messages == []
    assert client.post(f"/sessions/{session.id}/edit", data=form).status_code == 303
    run_worker(app)
    mail = by_recipient(use_smtp)
    assert set(mail) == {aino.email, bob.email}  # the other group hears nothing
    (finnish,) = mail[aino.email]
    (english,) = mail[bob.email]
    assert str(finnish["Subject"]).startswith("Uusi aika: Hinnoittelu")
    assert str(english["Subject"]).startswith("New time: Hinnoittelu")
    method, event = _calendar(english)
    assert method == "PUBLISH"
    assert str(event["UID"]).startswith(f"kollega-session-{session.id}@")
    assert int(event["SEQUENCE"]) == 1
    start = event.decoded("DTSTART")
    assert str(start.tzinfo) == "Europe/Helsinki" and (start.hour, start.day) == (10, 8)
    assert str(event["STATUS"]) == "CONFIRMED"
    # The invitation's calendar carries the same UID and the raised SEQUENCE too.
    with app.app_context():
        from companion.sessions.invitations import calendar_for
        from companion.sessions.join_links import join_link_for

        ics = calendar_for(app.extensions["companion.config"], bob, join_link_for(db, bob))
    events = {str(e["UID"]): e for e in Calendar.from_ical(ics).walk("VEVENT")}
    assert int(events[str(event["UID"])]["SEQUENCE"]) == 1


def test_a_cancelled_session_is_removed_and_a_restored_one_comes_back(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    make_programme: Any,
    make_participant: Any,
    make_session: Any,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    programme, _aino, bob, session = _world(make_programme, make_participant, make_session)
    sign_in(client, programme.roles[0].facilitator)
    asked = client.get(f"/sessions/{session.id}/cancel", headers={"Accept-Language": "en"})
    assert asked.status_code == 200 and "Cancel the session?" in asked.get_data(as_text=True)
    assert client.post(f"/sessions/{session.id}/cancel").status_code == 303
    run_worker(app)
    (cancel,) = by_recipient(use_smtp)[bob.email]
    assert str(cancel["Subject"]).startswith("Cancelled: Hinnoittelu")
    method, event = _calendar(cancel)
    assert method == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert str(event["ATTENDEE"]) == f"mailto:{bob.email}"
    assert client.post(f"/sessions/{session.id}/restore").status_code == 303
    run_worker(app)
    _cancelled, back = by_recipient(use_smtp)[bob.email]
    assert str(back["Subject"]).startswith("Back on: Hinnoittelu")
    method, event = _calendar(back)
    assert (method, str(event["STATUS"]), int(event["SEQUENCE"])) == ("PUBLISH", "CONFIRMED", 2)


def test_a_date_outside_the_programme_needs_a_confirmation(
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    make_programme: Any,
    make_session: Any,
) -> None:
    programme = make_programme()
    with client.application.app_context():
        programme.starts_on = date(2027, 1, 10)
        programme.ends_on = date(2027, 5, 31)
        db.merge(programme)
        db.commit()
    sign_in(client, programme.roles[0].facilitator)
    group_id = programme.groups[0].id
    series = {"group_id": group_id, "first_date": "2027-05-03", "count": "3", "every_weeks": "3"}
    refused = client.post(f"/programmes/{programme.id}/sessions", data=series)
    assert refused.status_code == 422
    assert "dates (10.1.2027–31.5.2027). Tick the box" in refused.get_data(as_text=True)
    assert db.query(Session).count() == 0  # nothing half-made
    accepted = client.post(
        f"/programmes/{programme.id}/sessions", data={**series, "outside_dates_ok": "on"}
    )
    assert accepted.status_code == 303
    assert db.query(Session).count() == 3
    # The API asks for the same confirmation.
    api = client.post(
        f"/api/v1/programmes/{programme.id}/sessions",
        json={"group_id": group_id, "title": "Late", "date": "2027-06-10", "start_time": "09:00"},
    )
    assert api.status_code == 422
    assert [e["field"] for e in api.get_json()["errors"]] == ["outside_dates_ok"]
    # Inside the dates, no question is asked.
    inside = make_session(programme.groups[0], starts_at=START + timedelta(days=30))
    moved = client.post(
        f"/sessions/{inside.id}/edit",
        data={"date": "2027-04-05", "start_time": "09:00", "confirm": "yes"},
    )
    assert moved.status_code == 303

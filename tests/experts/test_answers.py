"""The expert answers the invitation, describes the talk and chooses their time zone; the
invitation carries the session's calendar entry; the facilitator sees the answer."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from icalendar import Calendar

from companion.config import Config
from companion.core.db import Db
from companion.digest.reminders import send_due_reminders
from companion.experts.mail import render_expert_reminder
from companion.sessions.notices import calendar_uid
from tests.digest.conftest import by_recipient, parts, run_worker, use_smtp  # noqa: F401
from tests.experts.conftest import Talk, make_talk
from tests.notes.conftest import World
from tests.services import SmtpServer


def _agenda_talk(talk: Talk) -> dict[str, Any]:
    agenda = talk.world.client("facilitator").get(f"/api/v1/sessions/{talk.session.id}")
    items: list[dict[str, Any]] = agenda.get_json()["agenda"]
    return next(i for i in items if i["id"] == talk.item.id)


def test_the_invitation_carries_the_sessions_calendar_entry(
    app: Flask,
    talk: Talk,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    token = talk.invite(language="en")
    run_worker(app)
    message = by_recipient(use_smtp)["eeva@asiantuntija.fi"][0]
    text, _html = parts(message)
    assert "please confirm that you can come" in text
    assert "The attached calendar file adds the session to your calendar." in text
    ics = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    events = list(Calendar.from_ical(ics.get_content()).walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    config: Config = app.extensions["companion.config"]
    # The same UID as the participants' entry: a moved session updates every copy.
    assert str(event["uid"]) == calendar_uid(config, talk.session.id)
    assert event.decoded("dtstart") == talk.session.starts_at
    assert event.decoded("dtend") == talk.session.ends_at
    description = str(event["description"])
    assert "Your expert talk: Expert talk, about 10:15–10:35 (Europe/Helsinki)" in description
    assert f"/x/{token}" in description

    # The same file from the expert's page, for a lost email.
    served = app.test_client().get(f"/x/{token}/calendar.ics")
    assert served.status_code == 200 and served.mimetype == "text/calendar"
    again = list(Calendar.from_ical(served.data).walk("VEVENT"))
    assert again[0].decoded("dtstart") == talk.session.starts_at


def test_the_expert_confirms_describes_the_talk_and_participants_see_it(
    app: Flask, talk: Talk
) -> None:
    token = talk.invite(language="en")
    facilitator = talk.world.client("facilitator")
    slot_page = f"/agenda/{talk.item.id}/expert"
    assert "No answer yet" in facilitator.get(slot_page).get_data(as_text=True)

    expert = app.test_client()  # no cookie, no CSRF token: the link is the key
    assert "Can you come?" in expert.get(f"/x/{token}").get_data(as_text=True)
    confirmed = expert.post(f"/x/{token}/answer", data={"answer": "confirm"})
    assert confirmed.status_code == 303
    assert "You have confirmed" in expert.get(f"/x/{token}").get_data(as_text=True)
    assert talk.expert().status == "confirmed" and talk.expert().responded_at is not None
    assert "Confirmed " in facilitator.get(slot_page).get_data(as_text=True)
    show = facilitator.get(f"/sessions/{talk.session.id}").get_data(as_text=True)
    assert re.search(r'<span class="badge ok">confirmed</span>', show)

    described = expert.post(
        f"/x/{token}/talk",
        data={
            "title": "Hinnoittelu ilman arvailua",
            "abstract": "Kolme tapaa hinnoitella palvelu.",
            "bio": "Eeva on hinnoittelun konsultti.",
        },
    )
    assert described.status_code == 303
    line = _agenda_talk(talk)
    assert line["title"] == "Hinnoittelu ilman arvailua"
    assert line["description"] == "Kolme tapaa hinnoitella palvelu."
    assert "Eeva on hinnoittelun konsultti." in facilitator.get(slot_page).get_data(as_text=True)

    # Participants see the title, the abstract and the bio in the agenda.
    agenda = talk.world.client("alice").get(f"/api/v1/sessions/{talk.session.id}/agenda")
    talk_line = next(i for i in agenda.get_json()["items"] if i["kind"] == "expert_talk")
    assert talk_line["title"] == "Hinnoittelu ilman arvailua"
    assert talk_line["speaker_name"] == "Eeva Asiantuntija"
    assert talk_line["speaker_bio"] == "Eeva on hinnoittelun konsultti."

    # The title is required; what was typed stays in the form.
    empty = expert.post(f"/x/{token}/talk", data={"title": " ", "abstract": "Kept"})
    assert empty.status_code == 422
    assert "Kept</textarea>" in empty.get_data(as_text=True)
    assert _agenda_talk(talk)["title"] == "Hinnoittelu ilman arvailua"
    status = facilitator.get(f"/api/v1/agenda/{talk.item.id}/expert")
    assert status.status_code == 200
    assert status.get_json()["status"] == "confirmed"
    assert status.get_json()["bio"] == "Eeva on hinnoittelun konsultti."
    participant = talk.world.client("alice").get(f"/api/v1/agenda/{talk.item.id}/expert")
    assert participant.status_code == 401  # facilitators only


def test_a_declining_expert_leaves_the_agenda_and_gets_no_reminder(
    app: Flask,
    db: Db,
    world: World,
    make_session: Any,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    soon = make_talk(app, db, world, make_session, starts_in=timedelta(hours=20))
    token = soon.invite(language="en")
    expert = app.test_client()
    assert expert.post(f"/x/{token}/answer", data={"answer": "decline"}).status_code == 303
    # The facilitators hear of it by email, with the way to the talk's page.
    run_worker(app)
    told = by_recipient(use_smtp)[world.facilitator.email.lower()]
    answer = next(m for m in told if "Eeva Asiantuntija" in str(m["Subject"]))
    text, html = parts(answer)
    assert "eeva@asiantuntija.fi" in text and f"/agenda/{soon.item.id}/expert" in text
    assert f"/agenda/{soon.item.id}/expert" in html and f"/x/{token}" not in text
    assert soon.expert().status == "declined"
    assert _agenda_talk(soon)["speaker_name"] == ""
    page = world.client("facilitator").get(f"/agenda/{soon.item.id}/expert")
    assert "Declined " in page.get_data(as_text=True)
    assert "You have declined" in expert.get(f"/x/{token}").get_data(as_text=True)
    # A declined talk cannot be described, and no reminder goes to them.
    refused = expert.post(f"/x/{token}/talk", data={"title": "Something"})
    assert refused.status_code == 409
    reminded = by_recipient(use_smtp, "Reminder")  # the worker's due reminders: members only
    assert "eeva@asiantuntija.fi" not in reminded and len(reminded) == 3
    with app.app_context():
        db.rollback()
        assert send_due_reminders(db, soon.session.starts_at - timedelta(hours=20)) == 0
        db.commit()
    # They can come after all: their name is back on the slot.
    assert expert.post(f"/x/{token}/answer", data={"answer": "confirm"}).status_code == 303
    assert _agenda_talk(soon)["speaker_name"] == "Eeva Asiantuntija"
    assert expert.post(f"/x/{token}/answer", data={"answer": "maybe"}).status_code == 422


def test_the_expert_sees_times_in_their_own_time_zone(app: Flask, talk: Talk) -> None:
    token = talk.invite(language="en")
    expert = app.test_client()
    page = expert.get(f"/x/{token}").get_data(as_text=True)
    assert 'data-local-time data-zone="Europe/Helsinki"' in page  # the browser's zone too
    chosen = expert.post(f"/x/{token}/timezone", data={"timezone": "America/New_York"})
    assert chosen.status_code == 303
    page = expert.get(f"/x/{token}").get_data(as_text=True)
    new_york = talk.session.starts_at.astimezone(ZoneInfo("America/New_York"))
    assert f"{new_york:%H:%M}</time>" in page and "(America/New York)" in page
    assert "In the organisers' time zone (Europe/Helsinki)" in page
    # Their reminder speaks their zone as well.
    with app.test_request_context():
        talk.db.rollback()
        reminder = render_expert_reminder(app.extensions["companion.config"], talk.expert(), 24)
    assert f"{new_york:%H:%M}" in reminder.text and "America/New York" in reminder.text
    assert expert.post(f"/x/{token}/timezone", data={"timezone": "Mars/Olympus"}).status_code == 422
    assert talk.expert().timezone == "America/New_York"


def test_a_link_for_one_talk_cannot_answer_or_describe_another(
    app: Flask, db: Db, talk: Talk, make_session: Any
) -> None:
    token = talk.invite()
    other = make_talk(app, db, talk.world, make_session, starts_in=timedelta(days=10))
    other_token = other.invite(email="olavi@asiantuntija.fi")
    browser = app.test_client()
    browser.post(f"/x/{token}/answer", data={"answer": "decline"})
    browser.post(f"/x/{token}/talk", data={"title": "Eevan aihe"})
    assert other.expert().status == "invited"
    assert _agenda_talk(other)["title"] == "Asiantuntijatietoisku"  # make_talk titles it
    assert _agenda_talk(other)["speaker_name"] == "Eeva Asiantuntija"
    # A tampered token, or one whose link was renewed, changes nothing.
    tampered = other_token[:-2] + ("AA" if not other_token.endswith("AA") else "BB")
    assert browser.post(f"/x/{tampered}/talk", data={"title": "X"}).status_code == 404
    renewed = talk.world.client("facilitator").post(
        f"/agenda/{other.item.id}/expert/link", data={"action": "renew"}
    )
    assert renewed.status_code == 303
    old = browser.post(f"/x/{other_token}/answer", data={"answer": "confirm"})
    assert old.status_code == 410
    assert other.expert().status == "invited"


def test_a_moved_and_a_cancelled_session_reach_the_expert_with_the_calendar_entry(
    app: Flask,
    talk: Talk,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    token = talk.invite(language="en")
    run_worker(app)  # the invitation
    facilitator = talk.world.client("facilitator")
    new_day = (talk.session.starts_at + timedelta(days=7)).astimezone(ZoneInfo("Europe/Helsinki"))
    form = {"date": new_day.date().isoformat(), "start_time": "13:00", "confirm": "yes"}
    assert facilitator.post(f"/sessions/{talk.session.id}/edit", data=form).status_code == 303
    run_worker(app)
    moved = by_recipient(use_smtp, "New time for your expert talk")["eeva@asiantuntija.fi"]
    assert len(moved) == 1
    text, html = parts(moved[0])
    assert "13:00" in text and "was " in text and f"/x/{token}" in text and f"/x/{token}" in html
    ics = next(p for p in moved[0].walk() if p.get_content_type() == "text/calendar")
    event = next(iter(Calendar.from_ical(ics.get_content()).walk("VEVENT")))
    assert event.decoded("dtstart").astimezone(ZoneInfo("Europe/Helsinki")).hour == 13
    assert int(event["sequence"]) >= 1

    assert facilitator.post(f"/sessions/{talk.session.id}/cancel").status_code == 303
    run_worker(app)
    cancelled = by_recipient(use_smtp, "Cancelled:")["eeva@asiantuntija.fi"]
    assert len(cancelled) == 1
    ics = next(p for p in cancelled[0].walk() if p.get_content_type() == "text/calendar")
    calendar = Calendar.from_ical(ics.get_content())
    assert str(calendar["method"]) == "CANCEL"
    assert str(next(iter(calendar.walk("VEVENT")))["status"]) == "CANCELLED"
    # A cancelled session takes no answers.
    answer = app.test_client().post(f"/x/{token}/answer", data={"answer": "confirm"})
    assert answer.status_code == 409

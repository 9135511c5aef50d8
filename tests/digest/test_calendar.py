"""The digest's .ics invitation parses with icalendar and holds the right local time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from icalendar import Calendar

from companion.core.db import Db
from companion.digest import operations as digest_ops
from companion.sessions.models import Session
from tests.digest.conftest import Held, by_recipient, end_session, run_worker
from tests.services import SmtpServer

HELSINKI = ZoneInfo("Europe/Helsinki")


def _event(ics: bytes | str) -> object:
    calendar = Calendar.from_ical(ics)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Helsinki"]
    return events[0]


def test_the_invitation_to_the_next_session_is_at_nine_local_time(
    app: Flask, held: Held, use_smtp: SmtpServer
) -> None:
    end_session(held.world)
    run_worker(app)
    message = by_recipient(use_smtp)[held.world.alice.email][0]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "kollega.ics"
    event = _event(attachment.get_content())

    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Helsinki"
    assert start.replace(tzinfo=None) == datetime(2031, 6, 3, 9, 0)  # summer time, UTC+3
    assert start.utcoffset().total_seconds() == 3 * 3600
    assert event.decoded("DTEND").astimezone(HELSINKI).hour == 11
    assert str(event["SUMMARY"]) == "eKollega spring: Session two"
    assert str(event["URL"]).startswith("http://127.0.0.1:") and "/j/" in str(event["URL"])
    assert str(event["UID"]).startswith(f"kollega-session-{held.next_session.id}@")


def test_a_winter_session_keeps_nine_oclock_across_daylight_saving(
    app: Flask, db: Db, held: Held
) -> None:
    with app.app_context():
        upcoming = db.get(Session, held.next_session.id)
        assert upcoming is not None
        upcoming.starts_at = datetime(2031, 1, 14, 9, 0, tzinfo=HELSINKI).astimezone(
            ZoneInfo("UTC")
        )
        db.commit()
        session = db.get(Session, held.world.session.id)
        participant = held.world.alice
        _content, email = digest_ops.preview_digest(
            db, app.extensions["companion.config"], session, db.merge(participant), missed=None
        )
        db.rollback()
    event = _event(email.attachments[0].content)
    start = event.decoded("DTSTART")
    assert start.replace(tzinfo=None) == datetime(2031, 1, 14, 9, 0)
    assert start.utcoffset().total_seconds() == 2 * 3600  # winter time, UTC+2

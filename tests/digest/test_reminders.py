"""Reminders 24 hours and one hour before each session, with the join link and agenda;
participants can turn them off."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from companion.core.db import Db, utcnow
from companion.digest.reminders import due_reminder_hours, send_due_reminders
from companion.sessions.models import AgendaItem, Session, SessionStatus
from tests.digest.conftest import by_recipient, parts, run_worker
from tests.notes.conftest import World
from tests.services import SmtpServer


def _remind(app: Flask, db: Db, now: datetime) -> int:
    db.expire_all()  # the worker reads afresh; so must this stand-in for it
    with app.app_context():
        count = send_due_reminders(db, now)
        db.commit()
    return count


def _upcoming(app: Flask, db: Db, world: World, make_session: Any, hours: float) -> Session:
    session = make_session(
        world.programme.groups[0], starts_at=utcnow() + timedelta(hours=hours), title="Kick-off"
    )
    with app.app_context():
        db.add(
            AgendaItem(
                session_id=session.id,
                position=0,
                title="Pricing clinic",
                speaker_name="Eeva Expert",
            )
        )
        db.commit()
    return session


def test_the_day_before_and_the_hour_before(
    app: Flask, db: Db, world: World, make_session: Any, use_smtp: SmtpServer
) -> None:
    session = _upcoming(app, db, world, make_session, hours=23)
    now = utcnow()
    assert _remind(app, db, now) == 3  # Alice, Bob, Carol (not Dave of group 2)
    assert _remind(app, db, now + timedelta(minutes=5)) == 0  # once
    run_worker(app)
    received = by_recipient(use_smtp, "Reminder")
    assert set(received) == {world.alice.email, world.bob.email, world.carol.email}
    text, html = parts(received[world.alice.email][0])
    assert "Kick-off" in str(received[world.alice.email][0]["Subject"])
    for body in (text, html):
        assert "Pricing clinic" in body and "Eeva Expert" in body
        assert re.search(r"/j/[\w.\-]+", body)
        assert "next=reminders" in body

    hour_before = session.starts_at - timedelta(minutes=50)
    assert _remind(app, db, hour_before) == 3
    assert _remind(app, db, session.starts_at + timedelta(minutes=1)) == 0  # started: no more


def test_participants_who_turned_reminders_off_get_none(
    app: Flask, db: Db, world: World, make_session: Any
) -> None:
    world.client("bob").post("/me/reminders", data={"reminders": "off"})
    _upcoming(app, db, world, make_session, hours=2)
    assert _remind(app, db, utcnow()) == 2


def test_a_moved_session_is_reminded_of_again_and_a_cancelled_one_not(
    app: Flask, db: Db, world: World, make_session: Any
) -> None:
    session = _upcoming(app, db, world, make_session, hours=20)
    assert _remind(app, db, utcnow()) == 3
    with app.app_context():
        row = db.get(Session, session.id)
        assert row is not None
        row.starts_at = row.starts_at + timedelta(hours=2)
        db.commit()
    assert _remind(app, db, utcnow()) == 3  # the new time deserves a new reminder
    with app.app_context():
        row = db.get(Session, session.id)
        assert row is not None
        row.status = SessionStatus.CANCELLED
        row.starts_at = row.starts_at + timedelta(hours=1)
        db.commit()
    assert _remind(app, db, utcnow()) == 0


def test_which_reminder_is_due() -> None:
    start = datetime(2030, 5, 5, 9, 0).astimezone()

    class Fake:
        starts_at = start

    fake: Any = Fake()
    assert due_reminder_hours(fake, (24, 1), start - timedelta(hours=30)) is None
    assert due_reminder_hours(fake, (24, 1), start - timedelta(hours=23)) == 24
    assert due_reminder_hours(fake, (24, 1), start - timedelta(minutes=30)) == 1
    assert due_reminder_hours(fake, (24,), start - timedelta(minutes=30)) == 24
    assert due_reminder_hours(fake, (24, 1), start + timedelta(minutes=1)) is None
    assert due_reminder_hours(fake, (), start - timedelta(minutes=1)) is None

"""Retention: facilitators are warned first, the data goes on time, mail bodies go sooner."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.config import Config
from companion.core.db import Db
from companion.core.mail import OutboxMessage, queue_mail
from companion.privacy.models import AuditEntry, ProgrammeRetention
from companion.privacy.retention import add_months, run_retention
from companion.programmes.models import ERASED, Participant, Programme
from tests.privacy.conftest import EMAIL, NAME, PHONE, World, traces

NOW = datetime(2027, 12, 20, 9, 0, tzinfo=UTC)


def _config(app: Flask) -> Config:
    config: Config = app.extensions["companion.config"]
    return config


def _end_programme(db: Db, world: World, ends_on: date) -> None:
    programme = db.get_one(Programme, world.programme.id)
    programme.ends_on = ends_on
    db.commit()


def test_add_months_keeps_the_day_or_the_month_end() -> None:
    assert add_months(date(2026, 12, 15), 12) == date(2027, 12, 15)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


def test_warned_thirty_days_before_then_erased(app: Flask, db: Db, world: World) -> None:
    config = _config(app)
    assert (config.retention_months, config.retention_warning_days) == (12, 30)
    # Ended 15 Jan 2027: due at the start of 16 Jan 2028 in Helsinki (22:00 UTC the day
    # before), so warned from 30 days before that.
    _end_programme(db, world, date(2027, 1, 15))
    warn_at = datetime(2027, 12, 16, 22, 0, tzinfo=UTC)
    with app.app_context():
        early = run_retention(db, config, warn_at - timedelta(minutes=1))
        assert early.warned == [] and early.erased == []

        first = run_retention(db, config, warn_at)
        db.commit()
        assert first.warned == [world.programme.id] and first.erased == []
        warning = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "retention_warning"))
        assert warning is not None and warning.to_address == world.facilitator.email
        assert "16.01.2028" in warning.subject
        assert db.get_one(Participant, world.hannele.id).name == NAME

        # Warned once only; nothing goes before the date.
        again = run_retention(db, config, warn_at + timedelta(days=30, seconds=-1))
        assert again.warned == [] and again.erased == []
        assert db.get_one(Participant, world.hannele.id).name == NAME

        due = run_retention(db, config, warn_at + timedelta(days=30))
        db.commit()
        assert due.erased == [world.programme.id]
        people = db.scalars(
            select(Participant).where(Participant.programme_id == world.programme.id)
        ).all()
        assert {p.source for p in people} == {ERASED}
        assert traces(db, (NAME, EMAIL, PHONE, "bob@example.fi", "carol@example.fi")) == []
        state = db.get_one(ProgrammeRetention, world.programme.id)
        assert state.erased_at is not None
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "retention.erase"))
        assert entry is not None and entry.details["participants"] == 3

        assert run_retention(db, config, warn_at + timedelta(days=60)).erased == []


def test_a_late_warning_still_gives_the_full_notice(app: Flask, db: Db, world: World) -> None:
    # Due long ago (the end date was set late): deletion waits 30 days from the warning.
    _end_programme(db, world, date(2026, 1, 1))
    with app.app_context():
        assert run_retention(db, _config(app), NOW).warned == [world.programme.id]
        assert run_retention(db, _config(app), NOW + timedelta(days=29)).erased == []
        assert run_retention(db, _config(app), NOW + timedelta(days=30)).erased == [
            world.programme.id
        ]


def test_running_or_undated_programmes_are_kept(app: Flask, db: Db, world: World) -> None:
    with app.app_context():
        assert run_retention(db, _config(app), NOW + timedelta(days=3650)).warned == []
    _end_programme(db, world, date(2027, 6, 30))
    with app.app_context():
        assert run_retention(db, _config(app), NOW).warned == []


def test_sent_mail_bodies_go_after_ninety_days(app: Flask, db: Db) -> None:
    with app.app_context():
        old, recent, queued = (
            queue_mail(db, to_address=f"x{n}@example.fi", subject="S", text_body=f"body {n}")
            for n in range(3)
        )
        assert old is not None and recent is not None and queued is not None
        old.status, old.sent_at = "sent", NOW - timedelta(days=91)
        recent.status, recent.sent_at = "sent", NOW - timedelta(days=89)
        db.commit()
        ids = (old.id, recent.id, queued.id)
        assert run_retention(db, _config(app), NOW).mail_bodies_cleared == 1
        db.commit()
        db.expire_all()
        bodies = [db.get_one(OutboxMessage, i).text_body for i in ids]
    assert bodies == ["", "body 1", "body 2"]


def test_the_periodic_check_is_registered(app: Flask) -> None:
    from companion.core.jobs import _PERIODIC

    assert any(p.name.endswith("retention._retention") for p in _PERIODIC)


def test_retention_rules_are_configurable(app: Flask, db: Db, world: World) -> Any:
    config = _config(app).model_copy(update={"retention_months": 1, "retention_warning_days": 5})
    _end_programme(db, world, date(2027, 11, 1))
    with app.app_context():
        assert run_retention(db, config, NOW).warned == [world.programme.id]
        assert run_retention(db, config, NOW + timedelta(days=5)).erased == [world.programme.id]


def test_the_programme_page_tells_when_the_data_goes(
    app: Flask, db: Db, world: World, client: Any, sign_in: Any
) -> None:
    _end_programme(db, world, date(2027, 1, 15))
    sign_in(client, world.facilitator)
    page = client.get(f"/programmes/{world.programme.id}?lang=en").get_data(as_text=True)
    assert "will be deleted on 16.1.2028" in page

"""Sessions nobody ended are ended at their scheduled end plus the grace without sending
anything; an unsent summary goes out by itself `summary_delay_minutes` after the end, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.core.db import Db, utcnow
from companion.core.jobs import Job
from companion.digest.operations import end_overdue_sessions, send_due_summaries
from companion.sessions.models import Session, SessionStatus
from tests.notes.conftest import World


def _run(app: Flask, db: Db, now: Any) -> int:
    with app.app_context():
        ended = end_overdue_sessions(db, now)
        db.commit()
    return ended


def test_the_scheduled_end_plus_grace_ends_the_session_once(
    app: Flask, db: Db, world: World
) -> None:
    grace = app.extensions["companion.config"].digest_grace_minutes
    ends_at = world.session.ends_at
    assert _run(app, db, ends_at + timedelta(minutes=grace - 1)) == 0
    assert _run(app, db, ends_at + timedelta(minutes=grace + 1)) == 2  # Olli's session too
    assert _run(app, db, ends_at + timedelta(minutes=grace + 2)) == 0
    db.rollback()
    session = db.get(Session, world.session.id)
    assert session is not None and session.status == SessionStatus.ENDED
    assert session.ended_at == ends_at and session.ended_by == "worker"
    jobs = db.scalars(select(Job).where(Job.dedupe_key == f"digest-{world.session.id}")).all()
    assert jobs == []  # ending sends nothing: the summary waits for review


def _send(app: Flask, db: Db, now: Any) -> int:
    with app.app_context():
        sent = send_due_summaries(db, now)
        db.commit()
    return sent


def test_an_unreviewed_summary_goes_out_by_itself_after_the_delay_once(
    app: Flask, db: Db, world: World
) -> None:
    delay = app.extensions["companion.config"].summary_delay_minutes
    assert delay == 120  # the documented default
    ended_at = utcnow() - timedelta(minutes=5)
    response = world.client("facilitator").post(f"/sessions/{world.session.id}/end")
    assert response.status_code == 303
    db.rollback()
    session = db.get(Session, world.session.id)
    assert session is not None
    ended_at = session.ended_at
    assert ended_at is not None
    assert _send(app, db, ended_at + timedelta(minutes=delay - 1)) == 0
    assert _send(app, db, ended_at + timedelta(minutes=delay)) == 1
    assert _send(app, db, ended_at + timedelta(minutes=delay + 5)) == 0
    db.rollback()
    session = db.get(Session, world.session.id)
    assert session is not None and session.status == SessionStatus.SUMMARY_SENT
    jobs = db.scalars(select(Job).where(Job.dedupe_key == f"digest-{world.session.id}")).all()
    assert len(jobs) == 1


def test_a_summary_sent_by_the_facilitator_is_not_sent_again_by_the_worker(
    app: Flask, db: Db, world: World
) -> None:
    facilitator = world.client("facilitator")
    assert facilitator.post(f"/sessions/{world.session.id}/end").status_code == 303
    assert facilitator.post(f"/sessions/{world.session.id}/digest/send").status_code == 303
    assert _send(app, db, utcnow() + timedelta(days=1)) == 0
    db.rollback()
    jobs = db.scalars(select(Job).where(Job.dedupe_key == f"digest-{world.session.id}")).all()
    assert len(jobs) == 1


def test_old_and_cancelled_sessions_are_left_alone(
    app: Flask, db: Db, world: World, make_session: Any
) -> None:
    old = make_session(world.programme.groups[0], starts_at=utcnow() - timedelta(days=10))
    cancelled = make_session(world.programme.groups[0], starts_at=utcnow() - timedelta(hours=5))
    with app.app_context():
        row = db.get(Session, cancelled.id)
        assert row is not None
        row.status = SessionStatus.CANCELLED
        db.commit()
    _run(app, db, utcnow())
    db.rollback()
    assert db.get(Session, old.id).status == SessionStatus.SCHEDULED  # type: ignore[union-attr]
    assert db.get(Session, cancelled.id).status == SessionStatus.CANCELLED  # type: ignore[union-attr]

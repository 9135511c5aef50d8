"""Sessions nobody ended are ended at their scheduled end plus the grace, and sent once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.core.db import Db, utcnow
from companion.core.jobs import Job
from companion.digest.operations import end_overdue_sessions
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
    assert session.ended_at == ends_at
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

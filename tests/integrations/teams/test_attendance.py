"""Attendance from the attendance reports of the main meeting and every group meeting, read
by the worker after the session ends (again, later, until the reports appear), matched by
email and merged into the session's one presence fact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.core.db import Db, utcnow
from companion.core.jobs import Job, Worker
from companion.meetings.models import MeetingRoom
from companion.sessions import attendance
from companion.sessions import operations as session_ops
from companion.sessions.presence import PresenceSource
from tests.integrations.teams.conftest import TeamsFakes, english, locked_round


def _due_now(db: Db) -> list[Job]:
    jobs = db.scalars(
        select(Job).where(Job.kind == "teams.attendance", Job.status == "queued")
    ).all()
    for job in jobs:
        job.run_at = utcnow()
    db.commit()
    return list(jobs)


def test_reports_of_the_main_and_group_meetings_are_merged_into_presence(
    app: Flask, db: Db, teams: TeamsFakes, rounds: dict[str, Any]
) -> None:
    session = rounds["session"]
    locked = locked_round(rounds["facilitator"], session)
    db.rollback()
    groups = db.scalars(select(MeetingRoom).where(MeetingRoom.purpose == "breakout")).all()
    assert len(groups) == 2
    session.starts_at = utcnow() - timedelta(minutes=30)  # it has begun: it can be ended
    db.commit()
    with english(app):
        session_ops.end_session(db, session, by="facilitator")
        db.commit()
    [first] = _due_now(db)
    assert first.payload == {"session_id": session.id, "attempt": 0}

    # No meeting has ended in Teams yet: no reports, so the worker looks again later.
    Worker(app).run_jobs()
    db.rollback()
    [later] = db.scalars(select(Job).where(Job.kind == "teams.attendance", Job.status == "queued"))
    assert later.payload["attempt"] == 1 and later.run_at > utcnow() + timedelta(minutes=5)
    assert attendance.reports_of(db, session) == []

    main = session.room.data["online_meeting_id"]
    teams.graph.end_meeting(
        main,
        [
            {"email": "aino.aalto@EXAMPLE.fi", "name": "Aino Aalto", "minutes": 50},
            {"email": None, "name": "Vieras Puhelimella", "minutes": 20},
            {"email": teams.graph.default_user.mail, "name": "Fanni", "role": "Organizer"},
        ],
    )
    aino_group = next(
        g for g in locked["groups"] if any(m["name"] == "Aino Aalto" for m in g["members"])
    )
    by_url = {row.join_url: row for row in groups}
    teams.graph.end_meeting(
        by_url[aino_group["room_url"]].data["online_meeting_id"],
        [{"email": "Aino.Aalto@example.fi", "name": "Aino Aalto", "minutes": 30}],
    )
    other = next(row for row in groups if row.join_url != aino_group["room_url"])
    teams.graph.end_meeting(
        other.data["online_meeting_id"],
        [{"email": "eero@example.fi", "name": "Eero Esimerkki", "minutes": 25}],
    )
    teams.graph.page_size = 1  # records come a page at a time (@odata.nextLink)
    _due_now(db)
    Worker(app).run_jobs()
    db.rollback()
    assert teams.graph.count("GET", "/v1.0/me/onlineMeetings/*/attendanceRecords") >= 4
    presence = attendance.presence_of(db, session)
    aino, eero = rounds["aino"], rounds["eero"]
    assert presence[aino.id].present and presence[aino.id].source is PresenceSource.PLATFORM
    assert presence[aino.id].minutes == 80  # the main meeting and her group's, added up
    assert presence[eero.id].present and presence[eero.id].minutes == 25
    reports = [r for r in attendance.reports_of(db, session) if r.source == "platform"]
    assert {r.detail for r in reports} == {"teams"}
    summary = session.room.data["attendance_import"]
    assert summary["meetings"] == 3 and summary["reported"] == 3 and summary["matched"] == 2
    assert summary["unmatched"] == ["Vieras Puhelimella"]
    # Every meeting reported: no more passes.
    assert (
        db.scalars(select(Job).where(Job.kind == "teams.attendance", Job.status == "queued")).all()
        == []
    )

    # Reading again (the facilitator's button) counts nobody twice.
    facilitator = rounds["facilitator"]
    answer = facilitator.post(f"/integrations/teams/sessions/{session.id}/attendance")
    assert answer.status_code == 303
    assert attendance.presence_of(db, session)[aino.id].minutes == 80


def test_polling_stops_at_the_cutoff(
    app: Flask, db: Db, teams: TeamsFakes, world: dict[str, Any]
) -> None:
    session = world["session"]
    session.starts_at = utcnow() - timedelta(days=3)
    db.commit()
    with english(app):
        session_ops.end_session(db, session, by="facilitator")
        db.commit()
    _due_now(db)
    Worker(app).run_jobs()
    db.rollback()
    assert (
        db.scalars(select(Job).where(Job.kind == "teams.attendance", Job.status == "queued")).all()
        == []
    )
    assert session.room.data["attendance_import"]["reported"] == 0

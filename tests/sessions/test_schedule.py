"""Schedules keep the local wall-clock time across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.sessions.schedule import local_to_utc, next_weekday, series

HELSINKI = ZoneInfo("Europe/Helsinki")


def test_series_stays_at_nine_across_both_clock_changes() -> None:
    # 2027: clocks go forward on 28 March and back on 31 October in the EU.
    starts = series(date(2027, 2, 15), time(9, 0), "Europe/Helsinki", count=20, every_weeks=3)
    local = [s.astimezone(HELSINKI) for s in starts]
    assert all((t.hour, t.minute) == (9, 0) for t in local)
    offsets = {s.astimezone(HELSINKI).utcoffset().total_seconds() / 3600 for s in starts}  # type: ignore[union-attr]
    assert offsets == {2.0, 3.0}  # both winter and summer time are covered
    assert starts[0] == datetime(2027, 2, 15, 7, 0, tzinfo=UTC)  # UTC+2 in winter
    assert starts[3] == datetime(2027, 4, 19, 6, 0, tzinfo=UTC)  # UTC+3 in summer
    assert all((b - a).days in (20, 21) for a, b in pairwise(starts))


def test_nonexistent_local_time_moves_forward() -> None:
    # 03:30 does not exist in Helsinki on 28 March 2027 (03:00 -> 04:00).
    instant = local_to_utc(date(2027, 3, 28), time(3, 30), HELSINKI)
    assert instant.astimezone(HELSINKI).time() == time(4, 30)


def test_ambiguous_local_time_takes_the_first() -> None:
    # 03:30 happens twice in Helsinki on 31 October 2027; the first is still summer time.
    instant = local_to_utc(date(2027, 10, 31), time(3, 30), HELSINKI)
    assert instant == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_invalid_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        series(date(2027, 1, 1), time(9), "Europe/Helsinki", count=0, every_weeks=3)
    with pytest.raises(ValueError):
        series(date(2027, 1, 1), time(9), "Europe/Helsinki", count=3, every_weeks=0)


def test_next_weekday_is_strictly_after() -> None:
    assert next_weekday(date(2026, 11, 27), 0) == date(2026, 11, 30)  # a Friday -> Monday
    assert next_weekday(date(2026, 11, 30), 0) == date(2026, 12, 7)  # Monday -> next Monday


def test_schedule_page_creates_sessions_with_rooms(
    app: Flask, client: FlaskClient, make_programme, sign_in, db
) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    group = programme.groups[0]
    response = client.post(
        f"/programmes/{programme.id}/sessions",
        data={
            "group_id": group.id,
            "first_date": "2027-02-15",
            "start_time": "09:00",
            "count": "6",
            "every_weeks": "3",
            "duration_minutes": "120",
            "with_agenda": "on",
        },
    )
    assert response.status_code == 303
    db.expire_all()
    sessions = sorted(db.get(type(group), group.id).sessions, key=lambda s: s.starts_at)
    assert len(sessions) == 6
    assert [s.starts_at.astimezone(HELSINKI).time() for s in sessions] == [time(9, 0)] * 6
    assert all(
        s.room is not None and s.room.join_url.startswith("https://meet.jit.si/") for s in sessions
    )
    assert [item.kind for item in sessions[0].agenda][:2] == ["welcome", "topic_board"]
    page = client.get(f"/programmes/{programme.id}/sessions")
    assert page.status_code == 200
    assert b"Session 6" in page.data


def test_schedule_form_errors_are_shown(client: FlaskClient, make_programme, sign_in) -> None:
    programme = make_programme()
    sign_in(client, programme.roles[0].facilitator)
    response = client.post(
        f"/programmes/{programme.id}/sessions",
        data={
            "group_id": "999999",
            "first_date": "not a date",
            "start_time": "25:99",
            "count": "0",
        },
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Enter a date as YYYY-MM-DD." in text
    assert "Enter a time as HH:MM." in text
    assert "Enter 1 or more." in text


def test_moving_one_session_leaves_the_others(
    client: FlaskClient, make_programme, make_session, sign_in, db
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    first = make_session(group, starts_at=datetime(2027, 3, 1, 7, 0, tzinfo=UTC))
    second = make_session(group, starts_at=datetime(2027, 3, 22, 7, 0, tzinfo=UTC))
    sign_in(client, programme.roles[0].facilitator)
    form = {"title": "Moved", "date": "2027-03-29", "start_time": "10:30"}
    asked = client.post(f"/sessions/{first.id}/edit", data=form)
    assert asked.status_code == 200 and "Move the session?" in asked.get_data(as_text=True)
    db.expire_all()
    assert db.get(type(first), first.id).title != "Moved"  # asking changed nothing
    response = client.post(f"/sessions/{first.id}/edit", data={**form, "confirm": "yes"})
    assert response.status_code == 303
    db.expire_all()
    moved = db.get(type(first), first.id)
    other = db.get(type(second), second.id)
    assert moved.starts_at == datetime(2027, 3, 29, 7, 30, tzinfo=UTC)  # 10:30 summer time
    assert moved.title == "Moved"
    assert other.starts_at == datetime(2027, 3, 22, 7, 0, tzinfo=UTC)


def test_cancel_and_restore_one_session(
    client: FlaskClient, make_programme, make_session, sign_in, db
) -> None:
    programme = make_programme()
    session = make_session(programme.groups[0])
    other = make_session(programme.groups[0])
    sign_in(client, programme.roles[0].facilitator)
    assert client.post(f"/sessions/{session.id}/cancel").status_code == 303
    db.expire_all()
    cancelled = db.get(type(session), session.id)
    assert cancelled.status == "cancelled"
    assert cancelled.room is None  # the room was removed
    assert db.get(type(other), other.id).status == "scheduled"
    assert client.post(f"/sessions/{session.id}/restore").status_code == 303
    db.expire_all()
    restored = db.get(type(session), session.id)
    assert restored.status == "scheduled"
    assert restored.room is not None and restored.room.status == "active"

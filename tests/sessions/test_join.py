"""Personal join links: attendance, forwarding, waiting page, bad and revoked links."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import unquote

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from companion.core.db import utcnow
from companion.sessions import join_links
from companion.sessions import operations as ops
from companion.sessions.models import JoinLink, PresenceReport


def _link(app: Flask, db, participant) -> str:
    with app.app_context():
        link = join_links.join_link_for(db, participant)
        db.commit()
        return f"/j/{join_links.join_token(link)}"


def test_open_session_records_attendance_and_forwards(
    app: Flask, client: FlaskClient, db, make_programme, make_participant, make_session
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    session = make_session(group, starts_at=utcnow() - timedelta(minutes=5))
    participant = make_participant(programme, group=group, name="Aino Virtanen")
    url = _link(app, db, participant)

    first = client.get(url)
    assert first.status_code == 303
    assert first.headers["Location"].startswith(session.room.join_url)
    assert 'displayName="Aino Virtanen"' in unquote(first.headers["Location"])
    second = client.get(url)
    assert second.status_code == 303

    rows = db.scalars(select(PresenceReport)).all()
    assert len(rows) == 1
    assert rows[0].participant_id == participant.id and rows[0].session_id == session.id
    assert rows[0].source == "link" and rows[0].count == 2
    assert rows[0].last_seen_at >= rows[0].first_seen_at  # type: ignore[operator]


def test_room_opens_fifteen_minutes_early(
    app: Flask, client: FlaskClient, db, make_programme, make_participant, make_session
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    make_session(group, starts_at=utcnow() + timedelta(minutes=10))
    url = _link(app, db, make_participant(programme, group=group))
    assert client.get(url).status_code == 303


def test_two_concurrent_opens_record_one_attendance(
    app: Flask, db, make_programme, make_participant, make_session
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    make_session(group, starts_at=utcnow() - timedelta(minutes=1))
    url = _link(app, db, make_participant(programme, group=group))
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def open_link() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.get(url).status_code)

    threads = [threading.Thread(target=open_link) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [303, 303, 303, 303]
    db.rollback()
    rows = db.scalars(select(PresenceReport)).all()
    assert len(rows) == 1
    assert rows[0].count == 4


def test_waiting_page_before_the_session(
    app: Flask, client: FlaskClient, db, make_programme, make_participant, make_session
) -> None:
    programme = make_programme(timezone="Europe/Helsinki")
    group = programme.groups[0]
    session = make_session(group, starts_at=utcnow() + timedelta(days=2), title="Ajanhallinta")
    url = _link(app, db, make_participant(programme, group=group, name="Mikko Laine"))
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Hello Mikko!" in page
    assert "Ajanhallinta" in page
    assert "data-countdown" in page
    opens = (session.starts_at - timedelta(minutes=15)).isoformat()
    assert opens in page
    assert "Europe/Helsinki" in page
    assert db.scalars(select(PresenceReport)).all() == []  # waiting is not attending
    finnish = client.get(url + "?lang=fi").get_data(as_text=True)
    assert "Hei Mikko!" in finnish


def test_calendar_download_has_local_times(
    app: Flask, client: FlaskClient, db, make_programme, make_participant, make_session
) -> None:
    programme = make_programme(timezone="Europe/Helsinki")
    group = programme.groups[0]
    session = make_session(group, starts_at=utcnow() + timedelta(days=3))
    url = _link(app, db, make_participant(programme, group=group))
    response = client.get(url + "/sessions.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    start = events[0].decoded("dtstart")
    assert str(start.tzinfo) == "Europe/Helsinki"
    assert start == session.starts_at.replace(microsecond=0)  # iCalendar has whole seconds
    assert url in str(events[0]["url"])
    assert list(calendar.walk("VTIMEZONE"))  # clients get the zone rules too


def test_after_the_programme_a_friendly_page(
    app: Flask, client: FlaskClient, db, make_programme, make_participant, make_session
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    make_session(group, starts_at=utcnow() - timedelta(days=30))
    url = _link(app, db, make_participant(programme, group=group))
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Thank you for taking part!" in response.get_data(as_text=True)


def test_no_sessions_yet(
    app: Flask, client: FlaskClient, db, make_programme, make_participant
) -> None:
    programme = make_programme()
    url = _link(app, db, make_participant(programme))
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "No sessions yet" in response.get_data(as_text=True)


def test_cancelled_session_is_skipped(
    app: Flask, client: FlaskClient, db, make_programme, make_participant, make_session
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    now_session = make_session(group, starts_at=utcnow() - timedelta(minutes=5))
    with app.app_context():
        ops.cancel_session(db, now_session)
        db.commit()
    make_session(group, starts_at=utcnow() + timedelta(days=21), title="Next one")
    url = _link(app, db, make_participant(programme, group=group))
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Next one" in response.get_data(as_text=True)


def test_tampered_token_gets_a_clear_page(
    app: Flask, client: FlaskClient, db, make_programme, make_participant
) -> None:
    programme = make_programme()
    url = _link(app, db, make_participant(programme))
    for bad in (url[:-2] + "xx", "/j/garbage", "/j/" + "A" * 500, "/j/%00%ff", url + ".x"):
        response = client.get(bad, headers={"Accept-Language": "en"})
        assert response.status_code == 404, bad
        assert "This link does not work" in response.get_data(as_text=True)


def test_revoked_and_renewed_links(
    app: Flask, client: FlaskClient, db, make_programme, make_participant, make_session, sign_in
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    make_session(group, starts_at=utcnow() - timedelta(minutes=1))
    participant = make_participant(programme, group=group)
    old_url = _link(app, db, participant)
    facilitator_client = sign_in(app.test_client(), programme.roles[0].facilitator)

    response = facilitator_client.post(
        f"/participants/{participant.id}/join-link", data={"action": "revoke"}
    )
    assert response.status_code == 303
    revoked = client.get(old_url, headers={"Accept-Language": "en"})
    assert revoked.status_code == 410
    assert "replaced or stopped" in revoked.get_data(as_text=True)

    facilitator_client.post(f"/participants/{participant.id}/join-link", data={"action": "renew"})
    db.rollback()
    new_url = _link(app, db, participant)
    assert new_url != old_url
    assert client.get(old_url).status_code == 410
    assert client.get(new_url).status_code == 303


def test_revoking_ends_the_participant_cookie_identity(
    app: Flask, client: FlaskClient, db, make_programme, make_participant, make_session
) -> None:
    programme = make_programme()
    group = programme.groups[0]
    make_session(group, starts_at=utcnow() - timedelta(minutes=1))
    participant = make_participant(programme, group=group)
    client.get(_link(app, db, participant))
    with app.test_request_context():
        from flask import session as cookie_session

        from companion.accounts.identity import current_participant

        with client.session_transaction() as stored:
            pid, nonce = stored["pid"], stored["pn"]
        cookie_session["pid"], cookie_session["pn"] = pid, nonce
        assert current_participant() is not None
    with app.app_context():
        join_links.revoke_join_link(db, participant)
        db.commit()
    with app.test_request_context():
        from flask import session as cookie_session

        from companion.accounts.identity import current_participant

        cookie_session["pid"], cookie_session["pn"] = pid, nonce
        assert current_participant() is None
    assert db.scalar(select(JoinLink)).revoked_at is not None

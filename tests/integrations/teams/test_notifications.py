"""Graph's change notifications: the subscription and its handshake, clientState, duplicates,
an event moved or cancelled in Outlook, lifecycle events and renewal before expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.jobs import Job, Worker
from companion.core.mail import OutboxMessage
from companion.sessions import operations as session_ops
from companion.sessions.notices import platform_sends_its_own
from integrations.teams import meeting_views
from integrations.teams.meetings import set_invitations
from integrations.teams.models import TeamsNotification, TeamsSubscription
from integrations.teams.subscriptions import LIFETIME, keep_subscriptions
from tests.integrations.teams.conftest import TeamsFakes, english

TOKEN = "Validation: Testing client application reachability for subscription Request-Id: 1 2"


def test_the_validation_token_is_echoed_as_plain_text_before_anything_else(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_database() -> None:
        raise AssertionError("the handshake must not wait for the database")

    monkeypatch.setattr(meeting_views, "get_db", no_database)
    for path in ("/integrations/teams/notifications", "/integrations/teams/lifecycle"):
        answer = client.post(path, query_string={"validationToken": TOKEN})
        assert answer.status_code == 200
        assert answer.mimetype == "text/plain"
        assert answer.get_data(as_text=True) == TOKEN


@pytest.fixture()
def subscribed(
    app: Flask, db: Db, teams: TeamsFakes, world: dict[str, Any], live_server: str
) -> dict[str, Any]:
    """The world, with the worker having subscribed to the host's calendar (live handshake)."""
    Worker(app).run_jobs()
    db.rollback()
    assert teams.graph.handshake_failures == []
    row = db.scalar(select(TeamsSubscription))
    assert row is not None
    return {**world, "row": row, "sid": row.subscription_id}


def test_the_worker_subscribes_to_the_hosts_calendar(
    app: Flask, db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    [subscription] = teams.graph.live_subscriptions()
    assert subscription["id"] == subscribed["sid"]
    assert subscription["resource"] == "me/events"
    assert subscription["changeType"] == "updated,deleted"
    assert subscription["notificationUrl"].endswith("/integrations/teams/notifications")
    assert subscription["lifecycleNotificationUrl"].endswith("/integrations/teams/lifecycle")
    state = subscription["clientState"]
    assert len(state) >= 32 and state not in subscribed["row"].client_state  # kept encrypted
    # Both URLs answered Graph's validation request.
    checks = [d for d in teams.graph.deliveries if "validationToken=" in d.url]
    assert len(checks) == 2 and all(d.status == 200 for d in checks)
    assert subscribed["row"].facilitator_id == subscribed["host"].id


def test_a_notification_with_a_wrong_client_state_is_refused(
    app: Flask, db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    event_id = subscribed["session"].room.external_id
    delivery = teams.graph.notify(subscribed["sid"], "updated", event_id, client_state="guess")
    assert delivery.status == 403
    db.rollback()
    assert db.scalars(select(TeamsNotification)).all() == []


def test_a_repeated_notification_is_kept_once(
    app: Flask, db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    event_id = subscribed["session"].room.external_id
    first = teams.graph.notify(subscribed["sid"], "updated", event_id)
    assert first.status == 202
    again = teams.graph.post_to(first.url, first.body)
    assert again.status == 202
    db.rollback()
    assert len(db.scalars(select(TeamsNotification)).all()) == 1
    assert len(db.scalars(select(Job).where(Job.kind == "teams.notification")).all()) == 1
    # Kollega's own change coming back changes nothing.
    Worker(app).run_jobs()
    db.rollback()
    assert db.scalar(select(TeamsNotification)).status == "done"
    assert teams.graph.count("PATCH", "/v1.0/me/events/*") == 0


def test_an_event_moved_in_outlook_moves_the_session(
    app: Flask, config: Callable[[], Config], db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    session = subscribed["session"]
    sequence = session.calendar_sequence
    new_start = session.starts_at + timedelta(days=1, hours=2)
    teams.graph.move_event_in_outlook(
        session.room.external_id, new_start, new_start + timedelta(minutes=90)
    )
    [delivery] = teams.graph.deliver_notifications()
    assert delivery.status == 202
    Worker(app).run_jobs()
    db.rollback()
    assert session.starts_at == new_start and session.duration_minutes == 90
    assert session.calendar_sequence == sequence + 1  # moved as Kollega moves sessions
    assert session.room.data["outlook_change"]["kind"] == "moved"
    # Not sent back to Outlook (it already has the time), and Outlook told the attendees:
    # recorded, and what the platform answers Kollega's own calendar emails.
    assert teams.graph.count("PATCH", "/v1.0/me/events/*") == 0
    assert session.room.data["outlook_change"]["participants_told"] is True
    with english(app):
        assert platform_sends_its_own(config(), db, session)
    mails = db.scalars(select(OutboxMessage)).all()
    assert [m.to_address for m in mails] == [subscribed["host"].email]  # not the participants
    assert "moved in Outlook" in mails[0].subject
    assert "Outlook has already sent the participants the new time." in mails[0].text_body


def test_a_move_in_outlook_without_invited_participants_is_emailed_to_them_by_kollega(
    app: Flask, config: Callable[[], Config], db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    session = subscribed["session"]
    with english(app):
        set_invitations(db, subscribed["programme"], False)
        db.commit()
    assert teams.graph.event(session.room.external_id)["attendees"] == []
    new_start = session.starts_at + timedelta(hours=1)
    teams.graph.move_event_in_outlook(
        session.room.external_id, new_start, new_start + timedelta(minutes=120)
    )
    teams.graph.deliver_notifications()
    Worker(app).run_jobs()
    db.rollback()
    assert session.starts_at == new_start
    assert session.room.data["outlook_change"]["participants_told"] is False
    with english(app):
        assert not platform_sends_its_own(config(), db, session)
    mails = db.scalars(select(OutboxMessage)).all()
    [told] = [m for m in mails if m.kind == "teams_outlook_change"]
    assert "so Kollega emailed them the new time" in told.text_body
    # Outlook did not tell them, so Kollega's change email with the calendar entry did.
    schedule = [m for m in mails if m.kind == "schedule"]
    assert sorted(m.to_address for m in schedule) == ["Aino.Aalto@example.fi", "eero@example.fi"]


def test_a_started_session_moved_in_outlook_keeps_its_time_and_the_facilitator_is_told(
    app: Flask, db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    session = subscribed["session"]
    session.starts_at = utcnow().replace(microsecond=0) - timedelta(minutes=10)  # running
    db.commit()
    started = session.starts_at
    new_start = started + timedelta(days=1)
    teams.graph.move_event_in_outlook(
        session.room.external_id, new_start, new_start + timedelta(minutes=120)
    )
    teams.graph.deliver_notifications()
    Worker(app).run_jobs()
    db.rollback()
    assert session.starts_at == started and not session.is_cancelled
    assert session.room.data["outlook_change"]["kind"] == "move_refused"
    assert teams.graph.count("PATCH", "/v1.0/me/events/*") == 0
    [mail] = db.scalars(select(OutboxMessage)).all()
    assert mail.to_address == subscribed["host"].email
    assert "Kollega kept its time" in mail.subject
    assert "already started or taken place" in mail.text_body


def test_an_event_cancelled_in_outlook_cancels_the_session(
    app: Flask, config: Callable[[], Config], db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    session = subscribed["session"]
    teams.graph.cancel_event_in_outlook(session.room.external_id, "Sairastuin")
    [delivery] = teams.graph.deliver_notifications()
    assert delivery.status == 202
    Worker(app).run_jobs()
    db.rollback()
    assert session.is_cancelled
    assert teams.graph.count("POST", "/v1.0/me/events/*/cancel") == 0  # Outlook did it already
    with english(app):
        assert platform_sends_its_own(config(), db, session)  # Outlook sent the cancellation
    mails = db.scalars(select(OutboxMessage)).all()
    assert [m.to_address for m in mails] == [subscribed["host"].email]
    assert "cancelled in Outlook" in mails[0].subject
    assert "Outlook has already told the participants" in mails[0].text_body


def test_a_held_session_cancelled_in_outlook_stays_and_the_facilitator_is_told(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    teams: TeamsFakes,
    subscribed: dict[str, Any],
) -> None:
    session = subscribed["session"]
    session.starts_at = utcnow() - timedelta(hours=3)
    db.commit()
    with english(app):
        session_ops.end_session(db, session, by="facilitator")
        db.commit()
    # Tidying the calendar afterwards: the event is deleted in Outlook.
    teams.graph.cancel_event_in_outlook(session.room.external_id, "Siivous")
    teams.graph.deliver_notifications()
    Worker(app).run_jobs()
    db.rollback()
    assert not session.is_cancelled and session.status == "ended"
    assert session.room.data["event_gone"] is True
    assert session.room.data["outlook_change"]["kind"] == "cancel_refused"
    [mail] = db.scalars(select(OutboxMessage)).all()
    assert "cancelled in Outlook, but Kollega kept it" in mail.subject
    assert "has already taken place" in mail.text_body
    sign_in(client, subscribed["host"])
    page = client.get(f"/integrations/teams/sessions/{session.id}?lang=en")
    assert "after the session was held; Kollega kept the session." in page.get_data(as_text=True)


def test_lifecycle_reauthorization_renews_and_removal_subscribes_again(
    app: Flask, db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    sid = subscribed["sid"]
    teams.graph.advance(3600)
    teams.identity.expire_access_tokens()  # the host's access token has expired by now, too
    assert teams.graph.send_lifecycle(sid, "reauthorizationRequired").status == 202
    Worker(app).run_jobs()
    renewals = teams.graph.requests_to("PATCH", f"/v1.0/subscriptions/{sid}")
    assert [r.status for r in renewals] == [401, 200]  # one refresh, then renewed
    assert teams.identity.count("refresh") == 1
    db.rollback()
    assert subscribed["row"].renewed_at is not None
    assert set(renewals[-1].json) == {"expirationDateTime"}

    assert teams.graph.send_lifecycle(sid, "subscriptionRemoved").status == 202
    Worker(app).run_jobs()
    db.rollback()
    rows = db.scalars(select(TeamsSubscription)).all()
    assert len(rows) == 1 and rows[0].subscription_id != sid
    assert [s["id"] for s in teams.graph.live_subscriptions()] == [rows[0].subscription_id]
    # Removal may have hidden changes: the watched event was read back.
    assert teams.graph.count("GET", "/v1.0/me/events/*") == 1


def test_missed_notifications_are_caught_up_by_reading_the_events(
    app: Flask, db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    session = subscribed["session"]
    new_start = session.starts_at + timedelta(hours=3)
    teams.graph.move_event_in_outlook(
        session.room.external_id, new_start, new_start + timedelta(minutes=120)
    )
    teams.graph.pending.clear()  # Graph lost it
    assert teams.graph.send_lifecycle(subscribed["sid"], "missed").status == 202
    Worker(app).run_jobs()
    db.rollback()
    assert session.starts_at == new_start


def test_the_worker_renews_before_expiry_and_drops_what_nothing_needs(
    app: Flask, db: Db, teams: TeamsFakes, subscribed: dict[str, Any]
) -> None:
    row = subscribed["row"]
    row.expires_at = utcnow() + timedelta(hours=5)  # less than a day left
    db.commit()
    with english(app):
        keep_subscriptions(db)
        db.commit()
    db.rollback()
    assert teams.graph.count("PATCH", f"/v1.0/subscriptions/{subscribed['sid']}") == 1
    assert row.expires_at > utcnow() + LIFETIME - timedelta(minutes=5)
    body = teams.graph.requests_to("PATCH", "/v1.0/subscriptions/*")[0].json
    assert set(body) == {"expirationDateTime"}

    # The session is cancelled: nothing to watch any more, so the subscription goes.
    with english(app):
        session_ops.cancel_session(db, subscribed["session"])
        db.commit()
        keep_subscriptions(db)
        db.commit()
    db.rollback()
    assert db.scalars(select(TeamsSubscription)).all() == []
    assert teams.graph.live_subscriptions() == []

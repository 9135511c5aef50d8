"""Change subscriptions to the hosts' calendars, so Outlook's changes reach Kollega (NOTES §3).

One subscription per host facilitator with upcoming Teams sessions, to `me/events`
(`updated,deleted`), with a lifecycle URL and a random `clientState` kept encrypted. Graph
lets a subscription to events live at most 4,230 minutes (NOTES §8), so the worker renews each
one a day before it ends, makes the missing ones, and removes those no session needs any more.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select

from companion.config import Config
from companion.core.crypto import encrypt_secret
from companion.core.db import Db, utcnow
from companion.core.jobs import enqueue_job, job_handler, periodic
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import PlatformError
from companion.sessions.models import Session
from integrations.teams.errors import GraphError, GraphUncertain
from integrations.teams.graph import GraphClient, client_for
from integrations.teams.models import TeamsSubscription
from integrations.teams.times import offset_time, parse_offset_time

log = logging.getLogger(__name__)

PLATFORM = "teams"
NOTIFICATION_PATH = "/integrations/teams/notifications"
LIFECYCLE_PATH = "/integrations/teams/lifecycle"
#: NOTES §8: at most 4,230 minutes for Outlook events; a little less, for clock skew.
LIFETIME = timedelta(minutes=4200)
#: Renewed when less than this is left (the periodic check runs every half hour).
RENEW_BEFORE = timedelta(hours=24)
#: A session's event is watched until this long after it ends.
WATCH_AFTER_END = timedelta(days=1)


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def notification_url(config: Config) -> str:
    """Where Graph sends change notifications."""
    return config.external_url(NOTIFICATION_PATH)


def lifecycle_url(config: Config) -> str:
    """Where Graph sends lifecycle notifications (NOTES §3.1: only settable at creation)."""
    return config.external_url(LIFECYCLE_PATH)


def subscription_of(db: Db, facilitator_id: int) -> TeamsSubscription | None:
    """The facilitator's newest subscription row, if any."""
    return db.scalar(
        select(TeamsSubscription)
        .where(TeamsSubscription.facilitator_id == facilitator_id)
        .order_by(TeamsSubscription.id.desc())
        .limit(1)
    )


def watched_rooms(db: Db, facilitator_id: int | None = None) -> list[MeetingRoom]:
    """Active Teams events of sessions that have not long ended (of one host, or all)."""
    rows = db.scalars(
        select(MeetingRoom)
        .join(Session, Session.id == MeetingRoom.session_id)
        .where(
            MeetingRoom.platform == PLATFORM,
            MeetingRoom.purpose == "plenary",
            MeetingRoom.status == "active",
            Session.starts_at >= utcnow() - WATCH_AFTER_END - timedelta(hours=8),
        )
    )
    return [
        row
        for row in rows
        if row.data.get("kind") == "event"
        and not row.session.is_cancelled
        and (facilitator_id is None or row.data.get("host_facilitator_id") == facilitator_id)
    ]


def request_subscription(db: Db, facilitator_id: int) -> None:
    """Make sure the host's calendar is watched: a job, unless a fresh subscription exists."""
    row = subscription_of(db, facilitator_id)
    if row is not None and row.expires_at - utcnow() > RENEW_BEFORE:
        return
    enqueue_job(
        db,
        "teams.subscribe",
        {"facilitator_id": facilitator_id},
        dedupe_key=f"teams-subscribe-{facilitator_id}-{utcnow():%Y%m%d%H}",
    )


def _expiry(answer: dict[str, Any], asked: datetime) -> datetime:
    # NOTES §3.3: read the expiry back; Graph may shorten what was asked for.
    return parse_offset_time(answer.get("expirationDateTime")) or asked


def _drop_strays(graph: GraphClient, config: Config, known: set[str]) -> None:
    """Delete subscriptions to our URL that Kollega does not know (an uncertain create)."""
    for item in graph.items("/subscriptions"):
        if item.get("notificationUrl") == notification_url(config) and item.get("id") not in known:
            sid = quote(str(item.get("id")), safe="")
            graph.request("DELETE", f"/subscriptions/{sid}", missing_ok=True)


def create_subscription(db: Db, config: Config, facilitator_id: int) -> TeamsSubscription:
    """Subscribe to the host's calendar events (Graph checks our endpoints first, §3.2)."""
    graph = client_for(db, config, facilitator_id)
    state = secrets.token_urlsafe(48)
    asked = utcnow() + LIFETIME
    body = {
        "changeType": "updated,deleted",
        "notificationUrl": notification_url(config),
        "lifecycleNotificationUrl": lifecycle_url(config),
        "resource": "me/events",
        "expirationDateTime": offset_time(asked),
        "clientState": state,
    }
    try:
        answer = graph.send("POST", "/subscriptions", body, may_duplicate=True)
    except GraphUncertain:
        known = set(db.scalars(select(TeamsSubscription.subscription_id)))
        _drop_strays(graph, config, known)
        answer = graph.send("POST", "/subscriptions", body, may_duplicate=True)
    row = TeamsSubscription(
        facilitator_id=facilitator_id,
        subscription_id=str(answer["id"]),
        resource=str(answer.get("resource") or "me/events"),
        client_state=encrypt_secret(config, state),
        expires_at=_expiry(answer, asked),
    )
    db.add(row)
    db.flush()
    log.info("Teams subscription %s for facilitator %s", row.subscription_id, facilitator_id)
    return row


def renew_subscription(db: Db, config: Config, row: TeamsSubscription) -> TeamsSubscription:
    """Give the subscription a new expiry; one Graph has forgotten is made again."""
    graph = client_for(db, config, row.facilitator_id)
    asked = utcnow() + LIFETIME
    sid = quote(row.subscription_id, safe="")
    try:
        answer = graph.send(
            "PATCH", f"/subscriptions/{sid}", {"expirationDateTime": offset_time(asked)}
        )
    except GraphError as exc:
        if exc.status != 404:
            raise
        facilitator_id = row.facilitator_id
        db.delete(row)
        db.flush()
        return create_subscription(db, config, facilitator_id)
    row.expires_at = _expiry(answer, asked)
    row.renewed_at = utcnow()
    row.last_error = ""
    return row


def delete_subscription(db: Db, config: Config, row: TeamsSubscription) -> None:
    """Stop watching (no session needs it); a subscription Graph has forgotten is fine."""
    try:
        graph = client_for(db, config, row.facilitator_id)
        graph.request(
            "DELETE", f"/subscriptions/{quote(row.subscription_id, safe='')}", missing_ok=True
        )
    except PlatformError as exc:
        log.info("Teams subscription %s not deleted in Graph: %s", row.subscription_id, exc.message)
    db.delete(row)
    db.flush()


def ensure_subscription(db: Db, config: Config, facilitator_id: int) -> TeamsSubscription:
    """The host's subscription, made or renewed as needed."""
    row = subscription_of(db, facilitator_id)
    if row is None:
        return create_subscription(db, config, facilitator_id)
    if row.expires_at - utcnow() <= RENEW_BEFORE:
        return renew_subscription(db, config, row)
    return row


@job_handler("teams.subscribe")
def subscribe_job(db: Db, payload: dict[str, Any]) -> None:
    """Make or renew a host's subscription (queued when a Teams event is made)."""
    ensure_subscription(db, _config(), int(payload["facilitator_id"]))


@periodic(30 * 60)
def keep_subscriptions(db: Db) -> None:
    """Renew what ends within a day, make what is missing, drop what nothing needs."""
    config = _config()
    hosts = {
        int(host)
        for room in watched_rooms(db)
        if isinstance(host := room.data.get("host_facilitator_id"), int)
    }
    for row in list(db.scalars(select(TeamsSubscription))):
        try:
            if row.facilitator_id not in hosts:
                delete_subscription(db, config, row)
            elif row.expires_at - utcnow() <= RENEW_BEFORE:
                renew_subscription(db, config, row)
        except PlatformError as exc:
            row.last_error = exc.message[:1000]
            log.warning("Teams subscription %s: %s", row.subscription_id, exc.message)
    for host in hosts:
        if subscription_of(db, host) is None:
            try:
                create_subscription(db, config, host)
            except PlatformError as exc:
                log.warning("Teams subscription for facilitator %s: %s", host, exc.message)

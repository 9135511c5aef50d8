"""Graph's change and lifecycle notifications: checked, stored once, acted on by the worker.

NOTES §3.3: answer fast and queue the work; compare `clientState` in constant time and drop
what does not match; Graph delivers again when unsure, so an identical notification is kept
once. The worker reads the event back with the host's token:
- moved in Outlook → the session moves through `sessions.operations.move_session` (the event
  is not patched back: the room's data already says the new time, so the platform sees
  nothing to send);
- deleted or cancelled in Outlook → the session is cancelled through `cancel_session`;
and the session's facilitators get an email saying what happened. The session's lifecycle
decides as it does for a change made in Kollega: a session that has started or been held is
not moved, one that has been held is not cancelled; the facilitators are told instead. The
participants hear of a change once: from Outlook when they are attendees of the event
(`TeamsPlatform.sends_own_invitations`, so `sessions.notices` sends nothing), otherwise from
Kollega's own change email; which one is recorded with the change
(`outlook_change.participants_told`).
Lifecycle (NOTES §3.3): `reauthorizationRequired` → renew; `subscriptionRemoved` → subscribe
again and resync; `missed` → resync (read every watched event back).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from companion.accounts.models import Facilitator, ProgrammeRole
from companion.accounts.roles import RUNNING_VALUES
from companion.config import Config
from companion.core.crypto import SecretUnreadable, decrypt_secret
from companion.core.db import Db, utcnow
from companion.core.jobs import enqueue_job, job_handler
from companion.core.mail import queue_mail
from companion.meetings.models import MeetingRoom
from companion.sessions import operations as session_ops
from companion.sessions.lifecycle import Action
from companion.sessions.models import Session
from companion.sessions.schemas import SessionMove
from integrations.teams.errors import GraphError
from integrations.teams.graph import client_for
from integrations.teams.models import TeamsNotification, TeamsSubscription
from integrations.teams.platform import TeamsPlatform
from integrations.teams.subscriptions import (
    create_subscription,
    renew_subscription,
    watched_rooms,
)
from integrations.teams.times import offset_time, parse_event_time, parse_offset_time

log = logging.getLogger(__name__)

PLATFORM = "teams"
#: NOTES §3.2: the longest validationToken echoed (Graph's are about 100 characters).
MAX_VALIDATION_TOKEN = 2048
_EVENT_IN_RESOURCE = re.compile(r"events(?:/|\(')([^/')]+)", re.IGNORECASE)


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def event_id_of(item: Mapping[str, Any]) -> str:
    """The event a change notification is about: `resourceData.id`, else from `resource`."""
    data = item.get("resourceData")
    if isinstance(data, Mapping) and isinstance(data.get("id"), str) and data["id"]:
        return str(data["id"])[:400]
    match = _EVENT_IN_RESOURCE.search(_text(item.get("resource"), 1000))
    return match.group(1)[:400] if match else ""


def _state_matches(config: Config, row: TeamsSubscription, given: Any) -> bool:
    if not isinstance(given, str) or not given:
        return False
    try:
        expected = decrypt_secret(config, row.client_state)
    except SecretUnreadable:
        return False
    # NOTES §3.3: compare clientState in constant time.
    return hmac.compare_digest(expected.encode(), given.encode())


def store_notifications(
    db: Db, config: Config, items: list[Any], *, lifecycle: bool
) -> tuple[int, int]:
    """Keep each genuine, new notification and queue it; returns (kept, refused).

    A notification whose subscription is unknown or whose clientState differs is refused;
    one identical to an earlier delivery is neither kept again nor refused.
    """
    kept = refused = 0
    for item in items:
        if not isinstance(item, dict):
            refused += 1
            continue
        sid = _text(item.get("subscriptionId"), 64)
        row = db.scalar(select(TeamsSubscription).where(TeamsSubscription.subscription_id == sid))
        if row is None or not _state_matches(config, row, item.get("clientState")):
            log.warning("Teams notification refused (subscription %r, clientState)", sid)
            refused += 1
            continue
        digest = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
        key = f"{'life' if lifecycle else 'change'}-{digest}"
        if db.scalar(select(TeamsNotification.id).where(TeamsNotification.dedupe_key == key)):
            continue
        notification = TeamsNotification(
            dedupe_key=key,
            subscription_id=sid,
            change_type="" if lifecycle else _text(item.get("changeType"), 20),
            lifecycle_event=_text(item.get("lifecycleEvent"), 40) if lifecycle else "",
            event_id="" if lifecycle else event_id_of(item),
        )
        try:
            with db.begin_nested():
                db.add(notification)
                db.flush()
        except IntegrityError:
            continue  # the same delivery arrived twice at once
        enqueue_job(
            db,
            "teams.notification",
            {"notification_id": notification.id},
            dedupe_key=f"teams-notification-{notification.id}",
        )
        kept += 1
    return kept, refused


# --- acting on a change --------------------------------------------------------------------------


def room_for_event(db: Db, event_id: str) -> MeetingRoom | None:
    """The session room whose calendar event this is (an active one)."""
    if not event_id:
        return None
    return db.scalar(
        select(MeetingRoom)
        .where(
            MeetingRoom.platform == PLATFORM,
            MeetingRoom.purpose == "plenary",
            MeetingRoom.external_id == event_id,
            MeetingRoom.status == "active",
        )
        .order_by(MeetingRoom.id.desc())
        .limit(1)
    )


def _facilitators(db: Db, session: Session, host_id: Any) -> list[Facilitator]:
    programme = session.group.programme
    ids = set(
        db.scalars(
            select(ProgrammeRole.facilitator_id).where(
                ProgrammeRole.programme_id == programme.id,
                ProgrammeRole.role.in_(RUNNING_VALUES),  # not the observers
            )
        )
    )
    if isinstance(host_id, int):
        ids.add(host_id)
    if not ids:
        return []
    people = db.scalars(select(Facilitator).where(Facilitator.id.in_(ids)))
    return [f for f in people if f.active and f.email]


#: What the facilitators are told, by kind: the subject of the email.
_SUBJECTS = {
    "moved": _l("%(session)s was moved in Outlook"),
    "cancelled": _l("%(session)s was cancelled in Outlook"),
    "move_refused": _l("%(session)s was moved in Outlook, but Kollega kept its time"),
    "cancel_refused": _l("%(session)s was cancelled in Outlook, but Kollega kept it"),
}


def tell_facilitators(
    db: Db, config: Config, room: MeetingRoom, kind: str, *, outlook_start: str = ""
) -> None:
    """Email the session's facilitators what Outlook did and what Kollega made of it (once
    per change); the change, and whether Outlook told the participants, stay on the room."""
    session = room.session
    programme = session.group.programme
    told = TeamsPlatform(config, db, room.data.get("host_facilitator_id")).sends_own_invitations(
        session
    )
    room.data = {
        **room.data,
        "outlook_change": {"kind": kind, "at": utcnow().isoformat(), "participants_told": told},
    }
    stamp = outlook_start or session.starts_at.isoformat()
    when = parse_offset_time(outlook_start) if outlook_start else None
    for facilitator in _facilitators(db, session, room.data.get("host_facilitator_id")):
        language = facilitator.language or programme.language
        with force_locale(language):
            context = {
                "session": session,
                "programme": programme,
                "kind": kind,
                "told": told,
                "outlook_start": when,
                "url": config.external_url(f"/sessions/{session.id}"),
            }
            subject = str(_SUBJECTS[kind]) % {"session": session.title}
            text_body = render_template("teams/email/outlook_change.txt", **context)
        queue_mail(
            db,
            to_address=facilitator.email,
            to_name=facilitator.name,
            subject=subject,
            text_body=text_body,
            kind="teams_outlook_change",
            programme_id=programme.id,
            dedupe_key=f"teams-outlook-{session.id}-{kind}-{stamp}-{facilitator.id}",
        )


def apply_event(db: Db, config: Config, room: MeetingRoom) -> str:
    """Bring the session in line with its event in Outlook; "done" or "ignored".

    The event is always read back, a "deleted" notification too: only Graph's own answer
    (404, or `isCancelled`) cancels a session. The session's lifecycle rules hold: what
    Kollega would refuse is not done, and the facilitators are told so.
    """
    session = room.session
    if session.is_cancelled or room.data.get("event_gone"):
        return "ignored"
    graph = client_for(db, config, room.data.get("host_facilitator_id"))
    event_id = quote(str(room.data.get("event_id") or room.external_id), safe="")
    try:
        event = graph.get(f"/me/events/{event_id}")
    except GraphError as exc:
        if exc.status != 404:
            raise
        event = {"isCancelled": True}
    if event.get("isCancelled"):
        # Gone in Outlook either way: nothing is cancelled or read there again.
        room.data = {**room.data, "event_gone": True}
        if not session_ops.can(session, Action.CANCEL):
            tell_facilitators(db, config, room, "cancel_refused")
            return "done"
        session_ops.cancel_session(db, session)
        tell_facilitators(db, config, room, "cancelled")
        return "done"
    start = parse_event_time(event.get("start"))
    end = parse_event_time(event.get("end"))
    if start is None or end is None or end <= start:
        return "ignored"
    if start == session.starts_at and end == session.ends_at:
        return "done"  # Kollega's own change coming back, or a change of something else
    if not session_ops.can(session, Action.MOVE):
        tell_facilitators(db, config, room, "move_refused", outlook_start=offset_time(start))
        return "done"
    minutes = round((end - start).total_seconds() / 60)
    duration = minutes if 15 <= minutes <= 8 * 60 else None
    local = start.astimezone(ZoneInfo(session.group.programme.timezone))
    kept_end = start + timedelta(minutes=duration or session.duration_minutes)
    # The platform compares these with the session: equal, so the event is not patched back.
    room.data = {**room.data, "start": offset_time(start), "end": offset_time(kept_end)}
    # The host chose the time in Outlook: a day outside the programme's dates is theirs too.
    move = SessionMove(
        date=local.date(), start_time=local.time(), duration_minutes=duration, outside_dates_ok=True
    )
    session_ops.move_session(db, session, move)
    tell_facilitators(db, config, room, "moved")
    return "done"


def resync(db: Db, config: Config, facilitator_id: int) -> int:
    """Read back every watched event of the host (after missed notifications); how many."""
    rooms = watched_rooms(db, facilitator_id)
    for room in rooms:
        apply_event(db, config, room)
    return len(rooms)


def process_notification(db: Db, config: Config, row: TeamsNotification) -> str:
    """Act on one stored notification; the status it ends in ("done" or "ignored")."""
    subscription = db.scalar(
        select(TeamsSubscription).where(TeamsSubscription.subscription_id == row.subscription_id)
    )
    if subscription is None:
        return "ignored"
    host = subscription.facilitator_id
    if row.lifecycle_event == "reauthorizationRequired":
        renew_subscription(db, config, subscription)
        return "done"
    if row.lifecycle_event == "subscriptionRemoved":
        db.delete(subscription)
        db.flush()
        create_subscription(db, config, host)
        resync(db, config, host)
        return "done"
    if row.lifecycle_event == "missed":
        resync(db, config, host)
        return "done"
    if row.lifecycle_event:
        return "ignored"
    room = room_for_event(db, row.event_id)
    if room is None or room.data.get("host_facilitator_id") != host:
        return "ignored"
    return apply_event(db, config, room)


@job_handler("teams.notification")
def notification_job(db: Db, payload: dict[str, Any]) -> None:
    """Process a stored notification (the endpoint answered Graph at once)."""
    row = db.get(TeamsNotification, payload["notification_id"])
    if row is None or row.processed_at is not None:
        return
    row.status = process_notification(db, _config(), row)
    row.processed_at = utcnow()

"""Zoom's events about our meetings: store a verified webhook event once, then act on it.

The webhook view stores the event and answers Zoom at once; the worker processes it (job
`zoom.webhook_event`, registered when this module is imported): a meeting's start and end,
participants joining and leaving, and a user removing the app. Checking the request itself
(signature, URL challenge) is in `webhooks.py`. Like every operations module here: no
`flask.request`; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from companion.core.db import Db, utcnow
from companion.core.jobs import enqueue_job, job_handler
from companion.meetings.models import MeetingRoom
from companion.programmes.models import Participant
from companion.sessions import operations as session_ops
from companion.sessions.attendance import record_platform_presence
from companion.sessions.lifecycle import Action
from companion.sessions.models import Session
from integrations.zoom.attendance import members_by_email
from integrations.zoom.configuration import PLATFORM
from integrations.zoom.connections import deauthorize
from integrations.zoom.models import (
    ZoomIdentity,
    ZoomMeetingInstance,
    ZoomWebhookEvent,
)
from integrations.zoom.platform import record_instance
from integrations.zoom.webhooks import dedupe_key

_MEETING_ID = re.compile(r"[0-9]{1,19}")
#: Past participants are read this long after `meeting.ended` (Zoom needs a moment, NOTES §3).
ATTENDANCE_DELAY = timedelta(minutes=10)


def room_for_meeting(db: Db, meeting_id: int) -> MeetingRoom | None:
    """Our room for a Zoom meeting id, if it is one of ours."""
    return db.scalar(
        select(MeetingRoom)
        .where(
            MeetingRoom.platform == PLATFORM,
            MeetingRoom.external_id == str(meeting_id),
            MeetingRoom.status != "deleted",
        )
        .order_by(MeetingRoom.id.desc())
        .limit(1)
    )


def session_for_meeting_uuids(db: Db, uuids: Sequence[str]) -> Session | None:
    """The session whose meeting had one of these instance UUIDs (the first that matches)."""
    for uuid in uuids:
        meeting_id = db.scalar(
            select(ZoomMeetingInstance.meeting_id).where(ZoomMeetingInstance.uuid == uuid)
        )
        if meeting_id is not None:
            room = room_for_meeting(db, meeting_id)
            if room is not None:
                return room.session
    return None


def _mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (webhook bodies are not trusted)."""
    return value if isinstance(value, dict) else {}


def _meeting_id(value: Any) -> int | None:
    # NOTES §4: `object.id` is a string in some events and a number in others. Stored in a
    # BIGINT, so anything beyond it (or not ASCII digits) is no meeting of ours.
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not _MEETING_ID.fullmatch(text) or int(text) > 2**63 - 1:
        return None
    return int(text)


def store_webhook_event(db: Db, body: Mapping[str, Any]) -> ZoomWebhookEvent | None:
    """Keep a verified event once and queue it for the worker; None for a duplicate."""
    key = dedupe_key(dict(body))
    if db.scalar(select(ZoomWebhookEvent.id).where(ZoomWebhookEvent.dedupe_key == key)):
        return None
    payload = _mapping(body.get("payload"))
    obj = _mapping(payload.get("object"))
    event_ts = body.get("event_ts")
    row = ZoomWebhookEvent(
        dedupe_key=key,
        event=str(body.get("event") or "")[:80],
        event_ts=event_ts if isinstance(event_ts, int) else 0,
        meeting_id=_meeting_id(obj.get("id")),
        zoom_user_id=str(obj.get("host_id") or payload.get("user_id") or "")[:64],
        payload=dict(payload),
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        return None  # the same delivery arrived twice at once
    enqueue_job(db, "zoom.webhook_event", {"event_id": row.id}, dedupe_key=f"zoom-event-{row.id}")
    return row


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def remember_identity(db: Db, zoom_user_id: str, participant: Participant) -> None:
    """Note that this Zoom user is this participant (for the side panel)."""
    if not zoom_user_id:
        return
    existing = db.scalar(
        select(ZoomIdentity).where(
            ZoomIdentity.zoom_user_id == zoom_user_id,
            ZoomIdentity.participant_id == participant.id,
        )
    )
    if existing is not None:
        existing.seen_at = utcnow()
        return
    try:
        with db.begin_nested():
            db.add(ZoomIdentity(zoom_user_id=zoom_user_id[:64], participant_id=participant.id))
            db.flush()
    except IntegrityError:
        pass  # recorded at the same moment by another delivery


def _participant_event(db: Db, session: Session, obj: Mapping[str, Any], joined: bool) -> bool:
    person = _mapping(obj.get("participant"))
    email = str(person.get("email") or person.get("user_email") or "").strip().lower()
    participant = members_by_email(session).get(email) if email else None
    if participant is None:
        return False  # a guest, the host, or someone outside the host's account (NOTES §3)
    joined_at = _time(person.get("join_time"))
    left_at = _time(person.get("leave_time"))
    record_platform_presence(
        db,
        session,
        participant.id,
        platform=PLATFORM,
        joined_at=joined_at or left_at or utcnow(),
        left_at=None if joined else left_at,
        minutes=None,
    )
    remember_identity(db, str(person.get("id") or ""), participant)
    return True


def process_webhook_event(db: Db, event: ZoomWebhookEvent) -> str:
    """Act on one stored event; returns the status it ends in ("done" or "ignored")."""
    payload = _mapping(event.payload)
    if event.event == "app_deauthorized":
        deauthorize(db, str(payload.get("user_id") or ""), event_id=event.id)
        # Keep no personal data in the event itself either (NOTES §1.5).
        event.payload = {}
        event.zoom_user_id = ""
        return "done"
    obj = _mapping(payload.get("object"))
    meeting_id = _meeting_id(obj.get("id"))
    room = room_for_meeting(db, meeting_id) if meeting_id is not None else None
    if room is None or meeting_id is None:
        return "ignored"
    session = room.session
    uuid = str(obj.get("uuid") or "")
    if event.event in ("meeting.started", "meeting.ended"):
        record_instance(db, uuid, meeting_id)
        started = event.event == "meeting.started"
        room.data = {**room.data, "live": started, **({"last_uuid": uuid} if uuid else {})}
        if started:
            return "done"
        # The meeting ended on Zoom: the session ends too, if its life allows (not a session
        # months ahead whose meeting someone opened early).
        if session_ops.can(session, Action.END):
            session_ops.end_session(
                db, session, by="zoom", at=_time(obj.get("end_time")) or utcnow()
            )
        enqueue_job(
            db,
            "zoom.import_attendance",
            {"session_id": session.id},
            run_at=utcnow() + ATTENDANCE_DELAY,
            dedupe_key=f"zoom-attendance-{session.id}-{uuid or event.id}",
        )
        return "done"
    if event.event in ("meeting.participant_joined", "meeting.participant_left"):
        matched = _participant_event(db, session, obj, event.event.endswith("joined"))
        return "done" if matched else "ignored"
    return "ignored"


@job_handler("zoom.webhook_event")
def webhook_event_job(db: Db, payload: dict[str, Any]) -> None:
    """Process a stored webhook event (the webhook answered Zoom at once, NOTES §4)."""
    event = db.get(ZoomWebhookEvent, payload["event_id"])
    if event is None or event.processed_at is not None:
        return
    event.status = process_webhook_event(db, event)
    event.processed_at = utcnow()

"""Zoom connections, meeting settings, breakout pushes, attendance, webhooks and the side panel.

Like every `operations` module: no `flask.request`, the caller commits (the exception is the
token refresh, see `tokens.py`), access is checked by the caller with `get_session` & co.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from companion.accounts.identity import facilitator_token, participant_token
from companion.accounts.models import Facilitator
from companion.accounts.operations import can_manage_programme
from companion.config import Config
from companion.core.crypto import (
    SecretUnreadable,
    decrypt_secret,
    encrypt_secret,
)
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotAllowed, NotFound, Unavailable
from companion.core.jobs import enqueue_job, job_handler
from companion.meetings import operations as rooms
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import (
    BreakoutGroupSpec,
    BreakoutPushResult,
    Person,
    PlatformError,
    Room,
)
from companion.programmes.models import Participant
from companion.sessions import operations as session_ops
from companion.sessions.models import Session, SessionStatus
from integrations.zoom.appcontext import AppContext
from integrations.zoom.client import ZoomApi
from integrations.zoom.errors import ZoomError
from integrations.zoom.models import (
    ConnectionKind,
    ConnectionStatus,
    ZoomConnection,
    ZoomDailyUsage,
    ZoomIdentity,
    ZoomMeetingInstance,
    ZoomWebhookEvent,
)
from integrations.zoom.oauth import OAuthFailure, TokenSet, ZoomOAuth
from integrations.zoom.platform import ZoomPlatform, default_settings, record_instance
from integrations.zoom.schemas import MeetingSettingsIn
from integrations.zoom.tokens import AccountTokens, BearerTokens
from integrations.zoom.usage import Quota, quota
from integrations.zoom.webhooks import dedupe_key

log = logging.getLogger(__name__)

PLATFORM = "zoom"
#: Past participants are read this long after `meeting.ended` (Zoom needs a moment, NOTES §3).
ATTENDANCE_DELAY = timedelta(minutes=10)
#: Lifetime of the `state` of an in-client authorisation (seconds).
IN_CLIENT_STATE_SECONDS = 600


# --- configuration ------------------------------------------------------------------------


def configured(config: Config) -> bool:
    """Whether a Zoom app's credentials are set."""
    return bool(config.zoom_client_id and config.zoom_client_secret)


def server_to_server(config: Config) -> bool:
    """Whether meetings go through the organisation's Server-to-Server app (NOTES §1.2)."""
    return configured(config) and bool(config.zoom_account_id)


def user_oauth_available(config: Config) -> bool:
    """Whether facilitators connect (and sign in with) their own Zoom accounts."""
    return configured(config) and not config.zoom_account_id


def redirect_uri(config: Config) -> str:
    """The OAuth redirect URL to register in the Zoom Marketplace (NOTES §1.1: exact match)."""
    return config.external_url("/integrations/zoom/callback")


def app_home_url(config: Config) -> str:
    """The Zoom App's Home URL (NOTES §5)."""
    return config.external_url("/integrations/zoom/app")


def webhook_url(config: Config) -> str:
    """The event notification endpoint URL (NOTES §4)."""
    return config.external_url("/integrations/zoom/webhook")


# --- connections --------------------------------------------------------------------------


def connection_of(db: Db, facilitator: Facilitator) -> ZoomConnection | None:
    """The facilitator's Zoom connection, if they made one."""
    return db.scalar(
        select(ZoomConnection)
        .where(ZoomConnection.facilitator_id == facilitator.id)
        .execution_options(populate_existing=True)
    )


def zoom_user(config: Config, access_token: str) -> dict[str, Any]:
    """`GET /users/me` with a token just issued: id, email and account of the Zoom user."""
    answer = ZoomApi(config, BearerTokens(config, access_token)).get("/users/me")
    if not isinstance(answer, dict) or not answer.get("id"):
        raise ZoomError(_("Zoom did not say which account was connected. Please try again."))
    return answer


def _store_tokens(row: ZoomConnection, config: Config, tokens: TokenSet) -> None:
    row.access_token = encrypt_secret(config, tokens.access_token)
    row.refresh_token = encrypt_secret(config, tokens.refresh_token)
    row.expires_at = tokens.expires_at
    row.scopes = tokens.scopes
    row.status = ConnectionStatus.CONNECTED
    row.last_error = ""
    row.refreshed_at = utcnow()


def save_connection(
    db: Db, config: Config, facilitator: Facilitator, tokens: TokenSet, user: Mapping[str, Any]
) -> ZoomConnection:
    """Store the facilitator's new Zoom connection (or renew it after "reconnect needed")."""
    zoom_user_id = str(user["id"])
    taken = db.scalar(
        select(ZoomConnection).where(
            ZoomConnection.kind == ConnectionKind.USER,
            ZoomConnection.zoom_user_id == zoom_user_id,
            ZoomConnection.facilitator_id != facilitator.id,
        )
    )
    if taken is not None:
        raise Conflict(
            _(
                "This Zoom account is already connected to another Kollega account. "
                "Disconnect it there first."
            )
        )
    row = connection_of(db, facilitator)
    if row is None:
        row = ZoomConnection(kind=ConnectionKind.USER, facilitator_id=facilitator.id)
        db.add(row)
    elif row.zoom_user_id and row.zoom_user_id != zoom_user_id:
        # Another Zoom user than before: the old grant is no longer wanted.
        revoke_quietly(config, _plain_token(config, row))
    row.zoom_user_id = zoom_user_id
    row.zoom_account_id = str(user.get("account_id") or "")
    row.zoom_email = str(user.get("email") or "")[:254]
    row.connected_at = utcnow()
    _store_tokens(row, config, tokens)
    db.flush()
    return row


def sign_in_with_zoom(
    db: Db, config: Config, tokens: TokenSet, user: Mapping[str, Any]
) -> Facilitator:
    """The active facilitator whose connection is this Zoom user; their tokens are renewed."""
    row = db.scalar(
        select(ZoomConnection).where(
            ZoomConnection.kind == ConnectionKind.USER,
            ZoomConnection.zoom_user_id == str(user["id"]),
        )
    )
    facilitator = row.facilitator if row is not None else None
    if row is None or facilitator is None or not facilitator.active:
        raise NotFound(
            _(
                "No Kollega account is connected to this Zoom account. Sign in with your email "
                "and password, then connect Zoom on the Connections page."
            )
        )
    row.zoom_email = str(user.get("email") or row.zoom_email)[:254]
    _store_tokens(row, config, tokens)
    facilitator.last_sign_in_at = utcnow()
    db.flush()
    return facilitator


def _plain_token(config: Config, row: ZoomConnection) -> str:
    try:
        if row.access_token and row.expires_at and row.expires_at > utcnow():
            return decrypt_secret(config, row.access_token)
        return decrypt_secret(config, row.refresh_token)
    except SecretUnreadable:
        return ""


def revoke_quietly(config: Config, token: str) -> bool:
    """Revoke a grant at Zoom; False (logged) if Zoom could not be told."""
    if not token:
        return False
    try:
        ZoomOAuth(config).revoke(token)
    except OAuthFailure as exc:
        log.warning("Zoom did not confirm a revocation: %s", exc.error)
        return False
    return True


def disconnect(db: Db, config: Config, facilitator: Facilitator) -> bool:
    """Revoke the facilitator's grant at Zoom (NOTES §1.4) and forget the connection.

    True if Zoom confirmed the revocation; the connection is forgotten either way.
    """
    row = connection_of(db, facilitator)
    if row is None:
        return True
    revoked = revoke_quietly(config, _plain_token(config, row))
    # The tokens and the Zoom identity go now; Zoom answers the revocation with
    # `app_deauthorized` (NOTES §1.4), which clears the rest (see `deauthorize`).
    db.delete(row)
    db.flush()
    return revoked


def _forget_zoom_user(db: Db, zoom_user_id: str, *, keep_event_id: int | None) -> None:
    if not zoom_user_id:
        return
    db.execute(delete(ZoomDailyUsage).where(ZoomDailyUsage.host_key == zoom_user_id))
    events = delete(ZoomWebhookEvent).where(ZoomWebhookEvent.zoom_user_id == zoom_user_id)
    if keep_event_id is not None:
        events = events.where(ZoomWebhookEvent.id != keep_event_id)
    db.execute(events)
    for room in db.scalars(select(MeetingRoom).where(MeetingRoom.platform == PLATFORM)):
        if room.data.get("host_zoom_user_id") == zoom_user_id:
            room.data = {
                k: v for k, v in room.data.items() if k not in ("host_zoom_user_id", "host_email")
            }


def deauthorize(db: Db, zoom_user_id: str, *, event_id: int | None = None) -> int:
    """Delete what Kollega holds about a Zoom user who removed the app (NOTES §1.5).

    Tokens, ids and email of their connection, their usage counts, the webhook events from
    them, the link between them and participants, and their id on rooms. Returns the number
    of connections removed.
    """
    if not zoom_user_id:
        return 0
    connections = list(
        db.scalars(select(ZoomConnection).where(ZoomConnection.zoom_user_id == zoom_user_id))
    )
    for row in connections:
        db.delete(row)
    db.execute(delete(ZoomIdentity).where(ZoomIdentity.zoom_user_id == zoom_user_id))
    _forget_zoom_user(db, zoom_user_id, keep_event_id=event_id)
    db.flush()
    return len(connections)


def host_key_for(db: Db, config: Config, facilitator: Facilitator) -> str | None:
    """The key the facilitator's Zoom meetings are counted under, if they can host."""
    if server_to_server(config):
        return AccountTokens(db, config, facilitator.email).host_key
    row = connection_of(db, facilitator)
    return row.zoom_user_id if row is not None else None


def host_quota(db: Db, config: Config, facilitator: Facilitator) -> Quota | None:
    """Today's meeting create/update count of the facilitator as a Zoom host."""
    key = host_key_for(db, config, facilitator)
    return quota(db, key) if key else None


# --- a session's meeting ---------------------------------------------------------------------


def require_zoom_session(session: Session) -> None:
    """NotFound unless the session meets on Zoom."""
    if session.platform != PLATFORM:
        raise NotFound(_("This session does not meet on Zoom."))


def zoom_room(session: Session) -> MeetingRoom | None:
    """The session's plenary Zoom room in whatever state (active, failed, pending)."""
    candidates = [r for r in session.rooms if r.purpose == "plenary" and r.platform == PLATFORM]
    live = [r for r in candidates if r.status != "deleted"]
    chosen = live or candidates
    return chosen[-1] if chosen else None


def meeting_settings(session: Session) -> dict[str, bool]:
    """The settings chosen for the session's meeting (defaults until changed)."""
    row = zoom_room(session)
    chosen = dict(row.data.get("settings") or {}) if row is not None else {}
    return {**default_settings(), **{k: bool(v) for k, v in chosen.items()}}


def _as_room(row: MeetingRoom) -> Room:
    return Room(external_id=row.external_id, join_url=row.join_url, data=dict(row.data))


def update_meeting_settings(
    db: Db, session: Session, facilitator: Facilitator, data: MeetingSettingsIn
) -> MeetingRoom:
    """Store the chosen settings and apply them in Zoom (a failure is kept and retried)."""
    require_zoom_session(session)
    settings = data.model_dump()
    if settings["waiting_room"]:
        settings["join_before_host"] = False  # NOTES §2.1: the waiting room turns it off
    row = zoom_room(session)
    if row is None:
        row = MeetingRoom(session=session, purpose="plenary", platform=PLATFORM, data={})
        db.add(row)
    row.data = {
        **row.data,
        "settings": settings,
        "host_facilitator_id": row.data.get("host_facilitator_id") or facilitator.id,
    }
    db.flush()
    if row.status == "active":
        rooms.reschedule_room(db, session)
    else:
        rooms.ensure_session_room(db, session, row.data["host_facilitator_id"])
    return row


def recreate_meeting(db: Db, session: Session, facilitator: Facilitator) -> MeetingRoom:
    """Make the session a new Zoom meeting hosted by this facilitator (e.g. deleted in Zoom)."""
    require_zoom_session(session)
    if session.is_cancelled:
        raise Conflict(_("A cancelled session gets no meeting."))
    row = zoom_room(session)
    if row is None:
        return rooms.ensure_session_room(db, session, facilitator.id)
    row.status = "pending"
    row.external_id = ""
    row.join_url = ""
    row.data = {k: v for k, v in row.data.items() if k in ("settings",)} | {
        "host_facilitator_id": facilitator.id
    }
    db.flush()
    return rooms.ensure_session_room(db, session, facilitator.id)


def start_url(db: Db, session: Session, facilitator: Facilitator) -> str:
    """A fresh host start address, for the facilitator hosting the meeting only."""
    require_zoom_session(session)
    row = session.room
    if row is None or row.platform != PLATFORM:
        raise Conflict(_("The session's Zoom meeting is not ready yet."))
    if row.data.get("host_facilitator_id") not in (None, facilitator.id):
        raise NotAllowed(_("Only the facilitator hosting the meeting can start it as host."))
    platform = rooms.platform_for(db, session, facilitator.id)
    assert isinstance(platform, ZoomPlatform)
    try:
        return platform.start_url(_as_room(row))
    except PlatformError as exc:
        raise _domain_error(exc) from None


def _domain_error(exc: PlatformError) -> Exception:
    if exc.temporary:
        return Unavailable(exc.message)
    if exc.reconnect:
        return Conflict(exc.message, reconnect=True)
    return Conflict(exc.message)


# --- breakout rooms ----------------------------------------------------------------------------


def breakout_groups(
    named: Sequence[tuple[str, Sequence[Participant]]],
) -> list[BreakoutGroupSpec]:
    """Breakout groups as the platform takes them, from (name, participants) pairs."""
    return [
        BreakoutGroupSpec(
            name=name, members=tuple(Person(p.id, p.name, p.email or "") for p in members)
        )
        for name, members in named
    ]


def push_breakout_round(
    db: Db, session: Session, groups: Sequence[BreakoutGroupSpec]
) -> BreakoutPushResult:
    """Pre-assign a (locked) breakout round in the session's Zoom meeting.

    Limits are checked before anything is sent; people Zoom cannot place are listed in the
    result and kept on the room for the facilitator to see.
    """
    require_zoom_session(session)
    row = session.room
    if row is None:
        raise Conflict(_("The session's Zoom meeting is not ready yet. Create it first."))
    platform = rooms.platform_for(db, session, row.data.get("host_facilitator_id"))
    try:
        result = platform.push_breakouts(_as_room(row), groups)
    except ZoomError as exc:
        raise _domain_error(exc) from None
    except PlatformError as exc:
        raise Invalid(exc.message) from None
    row.data = {
        **row.data,
        "breakouts": {
            "pushed_at": utcnow().isoformat(),
            "rooms": [{"name": g.name, "people": len(g.members)} for g in groups],
            "unmatched": [p.name for p in result.unmatched],
        },
    }
    db.flush()
    return result


# --- attendance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceImport:
    """What reading Zoom's past participants gave."""

    matched: int
    unmatched: list[str] = field(default_factory=list)


def _members_by_email(session: Session) -> dict[str, Participant]:
    return {
        m.participant.email.strip().lower(): m.participant
        for m in session.group.memberships
        if m.participant.email
    }


def import_attendance(db: Db, session: Session) -> AttendanceImport:
    """Merge Zoom's past participants into the session's attendance (NOTES §3).

    Matched by email (Zoom leaves it empty for people outside the host's account); each
    person's visits fold into one row: earliest join, latest leave, minutes added up.
    """
    require_zoom_session(session)
    row = session.room
    if row is None:
        raise Conflict(_("The session has no Zoom meeting."))
    platform = rooms.platform_for(db, session, row.data.get("host_facilitator_id"))
    try:
        records = platform.fetch_attendance(_as_room(row))
    except PlatformError as exc:
        raise _domain_error(exc) from None
    members = _members_by_email(session)
    visits: dict[int, list[Any]] = {}
    unmatched: list[str] = []
    for record in records:
        participant = members.get(record.email) if record.email else None
        if participant is None:
            if record.name and record.name not in unmatched:
                unmatched.append(record.name)
            continue
        visits.setdefault(participant.id, []).append(record)
    by_id = {p.id: p for p in members.values()}
    for participant_id, person_visits in visits.items():
        lefts = [v.left_at for v in person_visits if v.left_at is not None]
        minutes = [v.minutes for v in person_visits if v.minutes is not None]
        session_ops.merge_platform_attendance(
            db,
            session,
            by_id[participant_id],
            joined_at=min(v.joined_at for v in person_visits),
            left_at=max(lefts) if lefts else None,
            minutes=sum(minutes) if minutes else None,
        )
    row.data = {
        **row.data,
        "attendance_import": {
            "at": utcnow().isoformat(),
            "matched": len(visits),
            "unmatched": unmatched[:50],
        },
    }
    db.flush()
    return AttendanceImport(matched=len(visits), unmatched=unmatched)


@job_handler("zoom.import_attendance")
def import_attendance_job(db: Db, payload: dict[str, Any]) -> None:
    """Read past participants some minutes after a meeting ended."""
    session = db.get(Session, payload["session_id"])
    if session is None or session.platform != PLATFORM or session.room is None:
        return
    try:
        import_attendance(db, session)
    except Conflict:
        log.info("No attendance to import for session %s", session.id)


# --- meetings and webhooks ---------------------------------------------------------------------


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
    # NOTES §4: `object.id` is a string in some events and a number in others.
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


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
    participant = _members_by_email(session).get(email) if email else None
    if participant is None:
        return False  # a guest, the host, or someone outside the host's account (NOTES §3)
    joined_at = _time(person.get("join_time"))
    left_at = _time(person.get("leave_time"))
    session_ops.merge_platform_attendance(
        db,
        session,
        participant,
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
        if session.status == SessionStatus.SCHEDULED:
            session_ops.end_session(db, session, at=_time(obj.get("end_time")) or utcnow())
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


# --- the Zoom App side panel ----------------------------------------------------------------------


@dataclass(frozen=True)
class PanelTarget:
    """Who opens the panel of which session."""

    session: Session
    facilitator: Facilitator | None = None
    participant: Participant | None = None

    @property
    def identified(self) -> bool:
        """Whether the Zoom user is known to Kollega."""
        return self.facilitator is not None or self.participant is not None


def panel_url(db: Db, target: PanelTarget) -> str:
    """The board's side panel with a bearer token in the fragment (no third-party cookies)."""
    if target.facilitator is not None:
        token = facilitator_token(target.facilitator)
    elif target.participant is not None:
        link = session_ops.join_link_for(db, target.participant)
        if link.revoked_at is not None:
            raise NotAllowed(
                _("Your personal link has been turned off. Please ask your facilitator.")
            )
        token = participant_token(target.participant, link)
    else:
        raise NotAllowed(_("Kollega does not know who you are yet."))
    return f"/panel/sessions/{target.session.id}#token={token}"


def _member(session: Session, participant_id: int) -> Participant | None:
    return next(
        (m.participant for m in session.group.memberships if m.participant_id == participant_id),
        None,
    )


def panel_target(db: Db, config: Config, context: AppContext) -> PanelTarget:
    """The session of the meeting in the context, and who the Zoom user is in it."""
    session = session_for_meeting_uuids(db, context.meeting_uuids)
    if session is None:
        raise NotFound(
            _(
                "This Zoom meeting is not a Kollega session. Open the app in the meeting that "
                "Kollega created for your session."
            )
        )
    if not context.uid:
        return PanelTarget(session)  # guest mode: no Zoom user id (NOTES §5.1)
    connection = db.scalar(
        select(ZoomConnection).where(
            ZoomConnection.kind == ConnectionKind.USER,
            ZoomConnection.zoom_user_id == context.uid,
        )
    )
    facilitator = connection.facilitator if connection is not None else None
    if (
        facilitator is not None
        and facilitator.active
        and can_manage_programme(facilitator, session.group.programme)
    ):
        return PanelTarget(session, facilitator=facilitator)
    for identity in db.scalars(
        select(ZoomIdentity).where(ZoomIdentity.zoom_user_id == context.uid)
    ):
        participant = _member(session, identity.participant_id)
        if participant is not None:
            return PanelTarget(session, participant=participant)
    if server_to_server(config):
        participant = _participant_from_account(db, config, session, context.uid)
        if participant is not None:
            return PanelTarget(session, participant=participant)
    return PanelTarget(session)


def _participant_from_account(
    db: Db, config: Config, session: Session, zoom_user_id: str
) -> Participant | None:
    """With a Server-to-Server app, read the email of a same-account user (NOTES §1.2)."""
    try:
        user = ZoomApi(config, AccountTokens(db, config, None)).get(f"/users/{zoom_user_id}")
    except PlatformError:
        return None
    email = str(user.get("email") or "").strip().lower() if isinstance(user, dict) else ""
    participant = _members_by_email(session).get(email) if email else None
    if participant is not None:
        remember_identity(db, zoom_user_id, participant)
    return participant


def start_in_client_authorization(config: Config, context: AppContext) -> dict[str, str]:
    """PKCE values for `zoomSdk.authorize` (NOTES §5.4: method plain, challenge = verifier).

    The verifier travels inside an encrypted, time-limited `state`: the panel has no cookies.
    """
    verifier = secrets.token_urlsafe(48)
    state = encrypt_secret(config, json.dumps({"v": verifier, "u": context.uid, "m": context.mid}))
    return {"codeChallenge": verifier, "state": state}


def finish_in_client_authorization(
    db: Db,
    config: Config,
    context: AppContext,
    *,
    code: str,
    state: str,
    given_redirect_uri: str,
) -> PanelTarget:
    """Exchange the in-client code, read the user's email, match it to a participant.

    The tokens are used once for `GET /users/me` and not kept: Kollega keeps only the link
    between the Zoom user and the participant.
    """
    try:
        data = json.loads(decrypt_secret(config, state, max_age_seconds=IN_CLIENT_STATE_SECONDS))
    except (SecretUnreadable, ValueError):
        raise NotAllowed(_("The Zoom authorisation has expired. Please try again.")) from None
    if not isinstance(data, dict) or data.get("u") != context.uid or data.get("m") != context.mid:
        raise NotAllowed(_("The Zoom authorisation belongs to another meeting or user."))
    target = panel_target(db, config, context)
    if target.identified:
        return target
    redirect = given_redirect_uri if given_redirect_uri.startswith(config.base_url) else ""
    try:
        tokens = ZoomOAuth(config).exchange_code(
            code, redirect or app_home_url(config), str(data.get("v") or "")
        )
    except OAuthFailure as exc:
        if exc.temporary:
            raise Unavailable(_("Zoom did not answer. Please try again.")) from None
        raise NotAllowed(_("Zoom did not accept the authorisation. Please try again.")) from None
    try:
        user = zoom_user(config, tokens.access_token)
    except PlatformError as exc:
        raise _domain_error(exc) from None
    if context.uid and str(user.get("id")) != context.uid:
        raise NotAllowed(_("The Zoom authorisation belongs to another meeting or user."))
    email = str(user.get("email") or "").strip().lower()
    participant = _members_by_email(target.session).get(email)
    if participant is None:
        raise NotAllowed(
            _(
                "The email of your Zoom account (%(email)s) is not on this group's list of "
                "participants. Open the board from your personal link instead, or ask your "
                "facilitator to use this address.",
                email=email or "?",
            )
        )
    remember_identity(db, str(user["id"]), participant)
    db.flush()
    return PanelTarget(target.session, participant=participant)

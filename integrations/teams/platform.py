"""Microsoft Teams meetings behind the `Platform` protocol.

- A session's main meeting is a calendar event on the host facilitator's calendar with
  `isOnlineMeeting` (`teamsForBusiness`): Exchange sends participants a real invitation, and
  updates and a cancellation as the session changes (NOTES §2.2). A retried create cannot make
  a second event: it carries a `transactionId` (Graph's own de-duplication of retried POSTs).
- Each breakout group gets an online meeting of its own, made with `createOrGet` and an
  `externalId` per session and group, so retries and re-plans never duplicate it (NOTES §2.1,
  §2.6: Graph has no breakout-room API).
- Attendance comes from the meetings' attendance reports (NOTES §2.4).

What is kept in `MeetingRoom.data` (the tab finds a room by `thread_id`):
`kind` ("event" or "online_meeting"), `event_id`, `join_web_url`, `online_meeting_id`,
`thread_id`, `external_id` (group meetings), `start`/`end` (ISO, UTC, as last sent to or read
from Graph), `subject`, `attendees` (addresses invited), `language`, `transaction_id`,
`event_gone` (deleted or cancelled in Outlook), `host_facilitator_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from companion.config import Config
from companion.core.db import Db
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import (
    AttendanceRecord,
    BreakoutGroupSpec,
    BreakoutPushResult,
    BreakoutStatus,
    Capability,
    Person,
    Room,
    RoomSpec,
)
from companion.programmes.models import Participant
from companion.sessions.models import Session
from integrations.teams import accounts
from integrations.teams.errors import GraphError
from integrations.teams.graph import GraphClient, client_for, odata_quote
from integrations.teams.models import TeamsProgrammeSettings
from integrations.teams.times import event_time, offset_time, parse_offset_time

log = logging.getLogger(__name__)

PLATFORM = "teams"
#: Where a room's meeting chat thread id is kept in `MeetingRoom.data`: the key the Teams
#: client names a meeting by (the side panel finds its session with it, `panel.py`).
THREAD_KEY = "thread_id"
#: Outlook's subject limit is generous; Teams shows about this much of a meeting's title.
SUBJECT_MAX = 250


def invites_participants(db: Db, programme_id: int) -> bool:
    """Whether the programme's participants are attendees of its Teams events (default yes)."""
    row = db.scalar(
        select(TeamsProgrammeSettings).where(TeamsProgrammeSettings.programme_id == programme_id)
    )
    return True if row is None else row.invite_participants


def _iso(when: datetime) -> str:
    return offset_time(when)


def _agenda_html(agenda: str, note: str) -> str:
    items = [line.lstrip("- ").strip() for line in agenda.splitlines() if line.strip()]
    listed = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return (f"<ul>{listed}</ul>" if listed else "") + f"<p>{html.escape(note)}</p>"


class TeamsPlatform:
    """Meetings in Microsoft Teams, organised by the facilitator hosting the session."""

    name = PLATFORM
    label = "Microsoft Teams"
    #: The session's meeting page (linked from the session page).
    session_page = "teams_meetings.meeting"
    capabilities = frozenset({Capability.ROOMS, Capability.BREAKOUT_ROOMS, Capability.ATTENDANCE})
    #: The Entra app settings still missing: the programme form offers Teams only without any.
    missing_settings = staticmethod(accounts.missing_settings)

    def __init__(self, config: Config, db: Db, host_facilitator_id: int | None = None) -> None:
        self.config = config
        self.db = db
        self.host_facilitator_id = host_facilitator_id
        self._graph: GraphClient | None = None

    @property
    def graph(self) -> GraphClient:
        """The Graph client acting as the host (built on first use)."""
        if self._graph is None:
            self._graph = client_for(self.db, self.config, self.host_facilitator_id)
        return self._graph

    def tag(self) -> str:
        """A short tag of this installation, so two Kollegas sharing a mailbox never collide."""
        digest = hmac.new(self.config.secret_key.encode(), b"teams", hashlib.sha256)
        return digest.hexdigest()[:10]

    # --- the session's event ------------------------------------------------------------------

    def _session(self, spec: RoomSpec) -> Session | None:
        return self.db.get(Session, spec.session_id) if spec.session_id is not None else None

    def _attendees(self, session: Session | None) -> list[Participant]:
        if session is None or not invites_participants(self.db, session.group.programme_id):
            return []
        people = [m.participant for m in session.group.memberships if m.participant.email]
        return sorted(people, key=lambda p: p.email.lower())

    def _event_fields(self, spec: RoomSpec, session: Session | None) -> dict[str, Any]:
        language = session.group.programme.language if session is not None else "fi"
        with force_locale(language):
            note = _(
                "Join the meeting with the Teams link of this invitation or with your personal "
                "Kollega link. The topic board and your small group open in Kollega."
            )
        people = self._attendees(session)
        return {
            "subject": spec.title[:SUBJECT_MAX],
            "body": {"contentType": "html", "content": _agenda_html(spec.agenda, note)},
            "start": event_time(spec.starts_at, spec.timezone),
            "end": event_time(
                spec.starts_at + timedelta(minutes=spec.duration_minutes), spec.timezone
            ),
            "attendees": [
                {"emailAddress": {"address": p.email, "name": p.name}, "type": "required"}
                for p in people
            ],
        }

    def _transaction_id(self, spec: RoomSpec) -> str:
        """The event's `transactionId`: kept on the room row, so every retry of this row sends
        the same one (Graph then answers with the event already made), while a restored
        session's new row gets a new one."""
        row = self.db.scalar(
            select(MeetingRoom)
            .where(
                MeetingRoom.session_id == spec.session_id,
                MeetingRoom.purpose == "plenary",
                MeetingRoom.platform == PLATFORM,
                MeetingRoom.status.in_(("pending", "failed")),
            )
            .order_by(MeetingRoom.id.desc())
            .limit(1)
        )
        if row is not None and row.data.get("transaction_id"):
            return str(row.data["transaction_id"])
        transaction_id = f"kollega-{self.tag()}-{spec.key}-{secrets.token_hex(8)}"
        if row is not None:
            row.data = {**row.data, "transaction_id": transaction_id}
            self.db.flush()
        return transaction_id

    def _online_meeting(self, join_url: str) -> dict[str, Any]:
        """The online meeting behind an event's join URL (NOTES §2.1: the JoinWebUrl filter)."""
        found = self.graph.get(
            "/me/onlineMeetings", **{"$filter": f"JoinWebUrl eq {odata_quote(join_url)}"}
        )
        meetings = [m for m in found.get("value") or [] if isinstance(m, dict)]
        if not meetings:
            raise GraphError(
                _("Teams has not finished setting up the meeting yet. Kollega tries again soon."),
                temporary=True,
            )
        return meetings[0]

    def _event_room(self, event: dict[str, Any], fields: dict[str, Any], spec: RoomSpec) -> Room:
        join_url = str((event.get("onlineMeeting") or {}).get("joinUrl") or "")
        if not join_url:
            # Exchange may fill the Teams part in a moment after the create: read it again.
            event = self.graph.get(f"/me/events/{quote(str(event['id']), safe='')}")
            join_url = str((event.get("onlineMeeting") or {}).get("joinUrl") or "")
        if not join_url:
            raise GraphError(
                _("Teams has not finished setting up the meeting yet. Kollega tries again soon."),
                temporary=True,
            )
        meeting = self._online_meeting(join_url)
        session = self._session(spec)
        return Room(
            external_id=str(event["id"]),
            join_url=join_url,
            data={
                "kind": "event",
                "event_id": str(event["id"]),
                "join_web_url": join_url,
                "online_meeting_id": str(meeting.get("id") or ""),
                THREAD_KEY: str((meeting.get("chatInfo") or {}).get("threadId") or ""),
                "start": _iso(spec.starts_at),
                "end": _iso(spec.starts_at + timedelta(minutes=spec.duration_minutes)),
                "subject": fields["subject"],
                "attendees": [a["emailAddress"]["address"].lower() for a in fields["attendees"]],
                "language": session.group.programme.language if session else "fi",
                "host_facilitator_id": self.host_facilitator_id,
            },
        )

    def create_room(self, spec: RoomSpec) -> Room:
        """The session's calendar event, or a breakout group's online meeting."""
        if spec.purpose == "breakout":
            return self._group_meeting(spec)
        session = self._session(spec)
        fields = self._event_fields(spec, session)
        transaction_id = self._transaction_id(spec)
        body = {
            **fields,
            "isOnlineMeeting": True,
            "onlineMeetingProvider": "teamsForBusiness",
            # The time is the facilitator's to set in Kollega; proposals would go nowhere.
            "allowNewTimeProposals": False,
            "transactionId": transaction_id,
        }
        event = self.graph.send("POST", "/me/events", body)
        room = self._event_room(event, fields, spec)
        room.data["transaction_id"] = transaction_id
        from integrations.teams.subscriptions import request_subscription

        if self.host_facilitator_id is not None:
            request_subscription(self.db, self.host_facilitator_id)
        return room

    def update_room(self, room: Room, spec: RoomSpec) -> Room:
        """Send Graph what changed (time, title, attendees); nothing if nothing did."""
        if room.data.get("kind") == "online_meeting":
            return self._update_group_meeting(room, spec)
        if room.data.get("event_gone"):
            return room
        fields = self._event_fields(spec, self._session(spec))
        start = _iso(spec.starts_at)
        end = _iso(spec.starts_at + timedelta(minutes=spec.duration_minutes))
        invited = [a["emailAddress"]["address"].lower() for a in fields["attendees"]]
        changes: dict[str, Any] = {}
        if (start, end) != (room.data.get("start"), room.data.get("end")):
            changes.update(start=fields["start"], end=fields["end"])
        if fields["subject"] != room.data.get("subject"):
            changes["subject"] = fields["subject"]
        if sorted(invited) != sorted(room.data.get("attendees") or []):
            # NOTES §2.2: attendees get the update; the list is replaced as a whole.
            changes["attendees"] = fields["attendees"]
        if not changes:
            return room
        event_id = quote(str(room.data.get("event_id") or room.external_id), safe="")
        self.graph.send("PATCH", f"/me/events/{event_id}", changes)
        data = {**room.data, "start": start, "end": end, "subject": fields["subject"]}
        data["attendees"] = invited
        return Room(room.external_id, room.join_url, data)

    def delete_room(self, room: Room) -> None:
        """Cancel the session's event with a message (attendees are told, NOTES §2.2).

        A group's online meeting is left alone: it is on nobody's calendar, it expires by
        itself (NOTES §2.1), and its `externalId` must keep naming it if the group comes back.
        """
        if room.data.get("kind") != "event" or room.data.get("event_gone"):
            return
        event_id = str(room.data.get("event_id") or room.external_id)
        if not event_id:
            return
        with force_locale(str(room.data.get("language") or "fi")):
            comment = _("This session was cancelled in Kollega.")
        self.graph.request(
            "POST",
            f"/me/events/{quote(event_id, safe='')}/cancel",
            json={"comment": comment},
            missing_ok=True,
        )

    def sends_own_invitations(self, session: Session) -> bool:
        """Whether Outlook tells the session's participants of its time, changes and
        cancellation: the programme invites them, and the session's meeting is (or was, until
        it was cancelled) a calendar event, whose attendees Exchange writes to (NOTES §2.2)."""
        if not invites_participants(self.db, session.group.programme_id):
            return False
        return any(
            row.purpose == "plenary"
            and row.platform == PLATFORM
            and row.status in ("active", "deleted")
            and row.data.get("kind") == "event"
            for row in session.rooms
        )

    def join_url(self, room: Room, person: Person) -> str:
        """Everyone joins through the meeting's own Teams address."""
        return room.join_url

    # --- breakout groups -----------------------------------------------------------------------

    def external_id(self, spec: RoomSpec) -> str:
        """The `createOrGet` key of a group's meeting: this installation, session and group."""
        return f"kollega-{self.tag()}-{spec.key}"

    def _group_meeting(self, spec: RoomSpec) -> Room:
        external_id = self.external_id(spec)
        body = {
            "externalId": external_id,
            "subject": spec.title[:SUBJECT_MAX],
            "startDateTime": offset_time(spec.starts_at),
            "endDateTime": offset_time(spec.starts_at + timedelta(minutes=spec.duration_minutes)),
        }
        meeting = self.graph.send("POST", "/me/onlineMeetings/createOrGet", body)
        join_url = str(meeting.get("joinWebUrl") or "")
        if not meeting.get("id") or not join_url:
            raise GraphError(
                _("Teams answered in an unexpected way. Kollega tries again later."),
                temporary=True,
            )
        return Room(
            external_id=str(meeting["id"]),
            join_url=join_url,
            data={
                "kind": "online_meeting",
                "online_meeting_id": str(meeting["id"]),
                "join_web_url": join_url,
                THREAD_KEY: str((meeting.get("chatInfo") or {}).get("threadId") or ""),
                "external_id": external_id,
                "start": body["startDateTime"],
                "end": body["endDateTime"],
                "subject": body["subject"],
                "host_facilitator_id": self.host_facilitator_id,
            },
        )

    def _update_group_meeting(self, room: Room, spec: RoomSpec) -> Room:
        start = offset_time(spec.starts_at)
        end = offset_time(spec.starts_at + timedelta(minutes=spec.duration_minutes))
        if (start, end) == (room.data.get("start"), room.data.get("end")):
            return room
        # NOTES §2.1: a new time needs both ends.
        meeting_id = quote(str(room.data.get("online_meeting_id") or room.external_id), safe="")
        body = {"startDateTime": start, "endDateTime": end}
        self.graph.send("PATCH", f"/me/onlineMeetings/{meeting_id}", body)
        return Room(room.external_id, room.join_url, {**room.data, "start": start, "end": end})

    def push_breakouts(self, room: Room, groups: Sequence[BreakoutGroupSpec]) -> BreakoutPushResult:
        """Teams takes no pushed groups (NOTES §2.6): each group has a meeting of its own."""
        return BreakoutPushResult(pushed=False, message="per-group meetings")

    def clear_breakouts(self, room: Room) -> None:
        """Nothing was pushed: each group has a meeting of its own."""

    def breakout_status(self, status: BreakoutStatus) -> str:
        """Teams holds no pushed groups (each group has a meeting of its own)."""
        return ""

    # --- attendance ------------------------------------------------------------------------------

    def attendance_reports(self, room: Room) -> list[dict[str, Any]]:
        """The meeting's attendance reports (none until it has ended, NOTES §2.4)."""
        meeting_id = str(room.data.get("online_meeting_id") or "")
        if not meeting_id:
            return []
        path = f"/me/onlineMeetings/{quote(meeting_id, safe='')}/attendanceReports"
        return list(self.graph.items(path))

    def fetch_attendance(self, room: Room) -> list[AttendanceRecord]:
        """Everyone in the meeting's reports, one record per person and report."""
        meeting_id = quote(str(room.data.get("online_meeting_id") or ""), safe="")
        records: list[AttendanceRecord] = []
        for report in self.attendance_reports(room):
            path = (
                f"/me/onlineMeetings/{meeting_id}/attendanceReports/"
                f"{quote(str(report.get('id') or ''), safe='')}/attendanceRecords"
            )
            for item in self.graph.items(path):
                record = _attendance_record(item)
                if record is not None:
                    records.append(record)
        return records


def _attendance_record(item: dict[str, Any]) -> AttendanceRecord | None:
    if str(item.get("role") or "").lower() == "organizer":
        return None  # the hosting facilitator, not a participant
    intervals = [i for i in item.get("attendanceIntervals") or [] if isinstance(i, dict)]
    joins = [t for t in (parse_offset_time(i.get("joinDateTime")) for i in intervals) if t]
    leaves = [t for t in (parse_offset_time(i.get("leaveDateTime")) for i in intervals) if t]
    if not joins:
        return None
    seconds = item.get("totalAttendanceInSeconds")
    identity = item.get("identity")
    name = identity.get("displayName") if isinstance(identity, dict) else ""
    return AttendanceRecord(
        email=str(item.get("emailAddress") or "").strip().lower(),
        name=str(name or ""),
        joined_at=min(joins),
        left_at=max(leaves) if leaves else None,
        minutes=round(seconds / 60) if isinstance(seconds, int) else None,
    )

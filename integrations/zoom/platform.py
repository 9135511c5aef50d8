"""Zoom meetings behind the `Platform` protocol: rooms, settings, breakout rooms, attendance.

The host of a session's meeting is the facilitator who created the session
(`host_facilitator_id`), through their own Zoom connection (`/users/me`, NOTES §2.1); with a
Server-to-Server app (COMPANION_ZOOM_ACCOUNT_ID set) the meeting is made in the
organisation's account for the facilitator's Zoom user, named by email (NOTES §1.2).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import string
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from companion.accounts.models import Facilitator
from companion.config import Config
from companion.core.db import Db
from companion.meetings.platform import (
    AttendanceRecord,
    BreakoutGroupSpec,
    BreakoutPushResult,
    BreakoutStatus,
    Capability,
    Person,
    PlatformError,
    Room,
    RoomSpec,
)
from integrations.zoom import configuration
from integrations.zoom.client import ZoomApi, read_json
from integrations.zoom.errors import ZoomError, ZoomUncertain
from integrations.zoom.models import ZoomConnection, ZoomMeetingInstance
from integrations.zoom.past_meetings import (
    LIST_MAX_PAGES,
    LIST_PAGE_SIZE,
    encode_uuid,
    past_instances,
    past_participants,
)
from integrations.zoom.tokens import AccountTokens, TokenSource, UserTokens, is_sqlite
from integrations.zoom.usage import block_host, check_quota, count_meeting_write

log = logging.getLogger(__name__)

__all__ = ["ZoomPlatform", "default_settings", "encode_uuid", "record_instance"]

#: NOTES §2.1: topic ≤ 200, agenda ≤ 2000 characters.
TOPIC_MAX = 200
AGENDA_MAX = 2000
#: Breakout pre-assignment limits. Zoom's support text says 100 rooms and 1000 people, older
#: texts 200 people; the in-meeting cap is 50 rooms (NOTES §7). We check the strictest, so a
#: push never fails halfway inside Zoom.
BREAKOUT_MAX_ROOMS = 50
BREAKOUT_MAX_PEOPLE = 200

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PASSCODE_ALPHABET = string.ascii_letters + string.digits


def default_settings() -> dict[str, bool]:
    """The meeting settings a new Zoom session starts with (the facilitator can change them)."""
    return {"waiting_room": True, "join_before_host": False, "passcode": True}


def record_instance(db: Db, uuid: str, meeting_id: int) -> None:
    """Remember that `uuid` is an instance of our meeting `meeting_id` (idempotent)."""
    if not uuid:
        return
    insert = sqlite_insert if is_sqlite(db) else pg_insert
    db.execute(
        insert(ZoomMeetingInstance)
        .values(uuid=uuid, meeting_id=meeting_id)
        .on_conflict_do_nothing(index_elements=[ZoomMeetingInstance.uuid])
    )


def _zoom_time(value: datetime) -> str:
    # NOTES §2.1: `yyyy-MM-ddTHH:mm:ssZ` in UTC.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZoomPlatform:
    """Meetings on Zoom, hosted by the facilitator who scheduled the session."""

    name = "zoom"
    label = "Zoom"
    #: The session's meeting page (linked from the session page).
    session_page = "zoom.meeting"
    capabilities = frozenset({Capability.ROOMS, Capability.BREAKOUT_PUSH, Capability.ATTENDANCE})

    #: What the programme form asks before offering Zoom (`platform_missing_settings`).
    missing_settings = staticmethod(configuration.missing_settings)

    def __init__(self, config: Config, db: Db, host_facilitator_id: int | None = None) -> None:
        self.config = config
        self.db = db
        self.host_facilitator_id = host_facilitator_id
        self._api: ZoomApi | None = None

    # --- who hosts -------------------------------------------------------------------------

    @property
    def server_to_server(self) -> bool:
        """Whether meetings are made through the organisation's Server-to-Server app."""
        return bool(self.config.zoom_account_id)

    def _tokens(self) -> TokenSource:
        if not (self.config.zoom_client_id and self.config.zoom_client_secret):
            raise ZoomError(
                _(
                    "Zoom is not set up on this Kollega yet. An administrator needs to add the "
                    "Zoom app's client id and secret (see docs/zoom.md)."
                )
            )
        facilitator = (
            self.db.get(Facilitator, self.host_facilitator_id)
            if self.host_facilitator_id is not None
            else None
        )
        if self.server_to_server:
            return AccountTokens(self.db, self.config, facilitator.email if facilitator else None)
        if facilitator is None:
            raise ZoomError(
                _(
                    "Kollega does not know whose Zoom account this session's meeting belongs "
                    "in. Create the meeting on the session's Zoom page: it is made in your "
                    "account."
                )
            )
        connection = self.db.scalar(
            select(ZoomConnection).where(ZoomConnection.facilitator_id == facilitator.id)
        )
        if connection is None:
            raise ZoomError(
                _(
                    "Connect your Zoom account first (Connections page): Kollega creates the "
                    "session's Zoom meeting in the account of the facilitator who schedules it."
                ),
                reconnect=True,
            )
        if connection.needs_reconnect:
            raise ZoomError(
                _(
                    "Your Zoom connection has expired. Connect Zoom again on the Connections "
                    "page; Kollega then creates the meeting."
                ),
                reconnect=True,
            )
        return UserTokens(self.db, self.config, connection)

    @property
    def api(self) -> ZoomApi:
        """The API client for this host (built on first use)."""
        if self._api is None:
            tokens = self._tokens()
            self._api = ZoomApi(
                self.config,
                tokens,
                on_daily_limit=lambda until: block_host(self.db, tokens.host_key, until),
            )
        return self._api

    def _write(self, method: str, path: str, body: dict[str, Any], **kwargs: Any) -> Any:
        """A create or update: checked against and counted in the daily limit (NOTES §2.1)."""
        api = self.api
        check_quota(self.db, api.tokens.host_key)
        count_meeting_write(self.db, api.tokens.host_key)
        return api.request(method, path, json=body, **kwargs)

    # --- rooms ------------------------------------------------------------------------------

    def marker(self, key: str) -> str:
        """The tag in a meeting's agenda that names the room it was made for.

        Derived from the secret key, so two Kollega installations sharing a Zoom user never
        mistake each other's meetings; listed agendas are cut at 250 characters, so it goes
        first.
        """
        digest = hmac.new(self.config.secret_key.encode(), key.encode(), hashlib.sha256)
        return f"[kollega:{digest.hexdigest()[:16]}]"

    def _body(self, spec: RoomSpec, marker: str, passcode: str | None) -> dict[str, Any]:
        chosen = {**default_settings(), **spec.settings}
        waiting_room = bool(chosen.get("waiting_room"))
        agenda = f"{marker}\n{spec.agenda}".strip()[:AGENDA_MAX]
        body: dict[str, Any] = {
            "topic": spec.title[:TOPIC_MAX],
            "type": 2,  # scheduled (NOTES §2.1)
            "start_time": _zoom_time(spec.starts_at),
            "duration": spec.duration_minutes,
            "timezone": spec.timezone,
            "agenda": agenda,
            "settings": {
                "waiting_room": waiting_room,
                # NOTES §2.1: join before host is disabled while the waiting room is on.
                "join_before_host": bool(chosen.get("join_before_host")) and not waiting_room,
                "mute_upon_entry": True,
                "host_video": True,
                "participant_video": True,
                "approval_type": 2,
                "use_pmi": False,
            },
        }
        if passcode is not None:
            body["password"] = passcode
        return body

    def _passcode(self, spec: RoomSpec, current: str = "") -> str | None:
        chosen = {**default_settings(), **spec.settings}
        if not chosen.get("passcode"):
            # [?] NOTES §2.1 does not say how to remove a passcode; an empty one is sent on
            # update, none on create (an account that enforces passcodes makes one).
            return "" if current else None
        if current:
            return current
        # NOTES §2.1: ≤ 10 characters of [A-Za-z0-9@-_*].
        return "".join(secrets.choice(_PASSCODE_ALPHABET) for _ in range(8))

    def _find_by_marker(self, marker: str) -> dict[str, Any] | None:
        """A meeting of the host whose agenda starts with the marker (NOTES §2: list meetings)."""
        token: str | None = None
        for _page in range(LIST_MAX_PAGES):
            params: dict[str, Any] = {"type": "scheduled", "page_size": LIST_PAGE_SIZE}
            if token:
                params["next_page_token"] = token
            answer = self.api.get(f"/users/{self.api.tokens.user_ref}/meetings", **params)
            for meeting in answer.get("meetings") or []:
                if str(meeting.get("agenda") or "").startswith(marker):
                    return dict(meeting)
            token = answer.get("next_page_token") or None
            if not token:
                return None
        return None

    def _room(self, meeting_id: int, extra: dict[str, Any]) -> Room:
        """Read the meeting back (its `uuid` is not in the create answer, NOTES §2.1)."""
        meeting = self.api.get(f"/meetings/{meeting_id}")
        record_instance(self.db, str(meeting.get("uuid") or ""), meeting_id)
        return Room(
            external_id=str(meeting_id),
            join_url=str(meeting.get("join_url") or ""),
            data={
                **extra,
                "meeting_id": meeting_id,
                "uuid": meeting.get("uuid", ""),
                "passcode": meeting.get("password", ""),
                "host_zoom_user_id": meeting.get("host_id", ""),
                "host_email": meeting.get("host_email", ""),
                "server_to_server": self.server_to_server,
            },
        )

    def create_room(self, spec: RoomSpec) -> Room:
        """Create the meeting, or return the one a timed-out earlier attempt already made."""
        marker = self.marker(spec.key)
        extra = {
            "marker": marker,
            "settings": {**default_settings(), **spec.settings},
            "host_facilitator_id": self.host_facilitator_id,
        }
        found = self._find_by_marker(marker)
        if found is not None:
            log.info("Zoom meeting for %s exists already; not creating another", spec.key)
            return self._room(int(found["id"]), extra)
        body = self._body(spec, marker, self._passcode(spec))
        path = f"/users/{self.api.tokens.user_ref}/meetings"
        for attempt in range(self.config.zoom_retries + 1):
            try:
                created = read_json(self._write("POST", path, body, may_duplicate=True))
                return self._room(int(created["id"]), extra)
            except ZoomUncertain:
                # The create may have reached Zoom even though no answer came back: look
                # before trying again, so a retry never makes a second meeting.
                found = self._find_by_marker(marker)
                if found is not None:
                    return self._room(int(found["id"]), extra)
                if attempt < self.config.zoom_retries:
                    self.api.sleep(self.api.backoff(attempt))
        raise ZoomError(
            _("Zoom did not answer in time, so the meeting was not created. Try again later."),
            temporary=True,
        )

    def update_room(self, room: Room, spec: RoomSpec) -> Room:
        """Move or rename the meeting, and apply the chosen settings (PATCH → 204, NOTES §2.2)."""
        meeting_id = int(room.external_id)
        marker = str(room.data.get("marker") or self.marker(spec.key))
        passcode = self._passcode(spec, str(room.data.get("passcode") or ""))
        self._write("PATCH", f"/meetings/{meeting_id}", self._body(spec, marker, passcode))
        data = {**room.data, "marker": marker, "settings": {**default_settings(), **spec.settings}}
        updated = self._room(meeting_id, data)
        return Room(updated.external_id, updated.join_url or room.join_url, updated.data)

    def delete_room(self, room: Room) -> None:
        """Delete the meeting; one already gone is fine (NOTES §2.3: 404 = already gone)."""
        if not room.external_id:
            return
        try:
            self.api.request("DELETE", f"/meetings/{int(room.external_id)}", missing_ok=True)
        except ZoomError as exc:
            if exc.code in (3001, 3007):  # not found / already ended
                return
            raise

    def join_url(self, room: Room, person: Person) -> str:
        """Everyone joins through Zoom's own address (it carries the passcode)."""
        return room.join_url

    def start_url(self, room: Room) -> str:
        """A fresh host start address (they expire after two hours, NOTES §2.1)."""
        meeting = self.api.get(f"/meetings/{int(room.external_id)}")
        return str(meeting.get("start_url") or room.join_url)

    # --- breakout rooms ----------------------------------------------------------------------

    def check_breakouts(self, groups: Sequence[BreakoutGroupSpec]) -> list[Person]:
        """Who cannot be pre-assigned (no usable email); PlatformError if a limit is broken."""
        if not groups:
            raise PlatformError(_("There are no breakout groups to send to Zoom."))
        if len(groups) > BREAKOUT_MAX_ROOMS:
            raise PlatformError(
                _(
                    "Zoom takes at most %(max)s pre-assigned breakout rooms; this round has "
                    "%(n)s groups.",
                    max=BREAKOUT_MAX_ROOMS,
                    n=len(groups),
                )
            )
        names = [group.name.strip() for group in groups]
        if any(not name for name in names) or len({n.lower() for n in names}) != len(names):
            raise PlatformError(_("Every breakout group needs its own name for Zoom."))
        unmatched: list[Person] = []
        seen: dict[str, str] = {}
        total = 0
        for group in groups:
            for person in group.members:
                email = person.email.strip().lower()
                if not _EMAIL.match(email):
                    unmatched.append(person)
                    continue
                if email in seen and seen[email] != group.name:
                    raise PlatformError(
                        _(
                            "%(name)s is in two groups (%(a)s and %(b)s); Zoom can place a "
                            "person in one breakout room only.",
                            name=person.name,
                            a=seen[email],
                            b=group.name,
                        )
                    )
                seen[email] = group.name
                total += 1
        if total > BREAKOUT_MAX_PEOPLE:
            raise PlatformError(
                _(
                    "Zoom takes at most %(max)s pre-assigned people; this round has %(n)s.",
                    max=BREAKOUT_MAX_PEOPLE,
                    n=total,
                )
            )
        return unmatched

    def push_breakouts(self, room: Room, groups: Sequence[BreakoutGroupSpec]) -> BreakoutPushResult:
        """Pre-assign the groups as `settings.breakout_room.rooms` (PATCH, NOTES §2.2).

        Zoom places only people signed in to Zoom with exactly that email (NOTES §7); people
        without an email are listed back as unmatched, never silently dropped.
        """
        unmatched = self.check_breakouts(groups)
        left_out = {id(person) for person in unmatched}
        rooms = [
            {
                "name": group.name.strip()[:TOPIC_MAX],
                "participants": sorted(
                    {p.email.strip().lower() for p in group.members if id(p) not in left_out}
                ),
            }
            for group in groups
        ]
        # The full list replaces what Zoom had: one pre-assignment per meeting (NOTES §2.2).
        self._set_breakout_rooms(room, {"enable": True, "rooms": rooms})
        placed = sum(len(r["participants"]) for r in rooms)
        message = _(
            "%(placed)s people pre-assigned to %(rooms)s breakout rooms in Zoom. Zoom places "
            "only people who join signed in to Zoom with the same email address.",
            placed=placed,
            rooms=len(rooms),
        )
        return BreakoutPushResult(pushed=True, unmatched=tuple(unmatched), message=message)

    def clear_breakouts(self, room: Room) -> None:
        """Take away the pre-assignment: `enable: false` with no rooms (spec: PATCH
        `settings.breakout_room`; an empty `rooms` list replaces the old one, NOTES §2.2)."""
        if not room.external_id:
            return
        self._set_breakout_rooms(room, {"enable": False, "rooms": []})

    def _set_breakout_rooms(self, room: Room, breakout_room: dict[str, Any]) -> None:
        meeting_id = int(room.external_id)
        if self.api.get(f"/meetings/{meeting_id}").get("status") == "started":
            # NOTES §2.3: a started meeting cannot be updated through the API.
            raise ZoomError(
                _(
                    "The meeting has already started, and Zoom takes pre-assigned breakout "
                    "rooms only before that. Use the breakout rooms window in Zoom instead."
                )
            )
        self._write(
            "PATCH", f"/meetings/{meeting_id}", {"settings": {"breakout_room": breakout_room}}
        )

    def breakout_status(self, status: BreakoutStatus) -> str:
        """What Zoom holds of the session's breakout rounds, in a sentence."""
        if status.state == "current" and status.held_round is not None:
            return _(
                "Zoom holds round %(n)s (pushed %(time)s).",
                n=status.held_round,
                time=status.pushed_at,
            )
        if status.state == "missing" and status.current_round is not None:
            return _("Zoom holds no breakout rooms yet: push round %(n)s.", n=status.current_round)
        if status.state == "older":
            if status.held_round is not None:
                return _(
                    "Zoom holds an older plan (round %(n)s, pushed %(time)s): push again.",
                    n=status.held_round,
                    time=status.pushed_at,
                )
            return _(
                "Zoom holds an older plan (pushed %(time)s): push again.", time=status.pushed_at
            )
        return _("Zoom holds no breakout rooms.")

    # --- attendance ---------------------------------------------------------------------------

    def fetch_attendance(self, room: Room) -> list[AttendanceRecord]:
        """Past participants of every instance of the meeting (NOTES §3), one record per visit.

        A meeting that ran twice (ended and started again) has a UUID per run; asking with the
        meeting id gives the last run only, so every instance is read.
        """
        records: list[AttendanceRecord] = []
        for key in past_instances(self.api, room):
            records += past_participants(self.api, key)
        return records

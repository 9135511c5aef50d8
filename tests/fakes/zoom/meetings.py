"""Meetings: create, list, read, update, delete and end them; read a user (NOTES §2)."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.zoom.formats import b64url, iso, new_uuid, parse_start_time
from tests.fakes.zoom.records import ApiContext, ErrorAnswer, FakeUser, StoredMeeting
from tests.fakes.zoom.state import ZoomState

# Fields of a meeting in `GET /users/{userId}/meetings` (spec: meetings[] items).
_LIST_FIELDS = (
    "uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "agenda",
    "created_at", "join_url",
)  # fmt: skip


class MeetingRoutes(ZoomState):
    """The handlers of ``/v2/users/{userId}/meetings``, ``/v2/meetings/{meetingId}`` and
    ``/v2/users/{userId}``."""

    def _new_meeting_id(self) -> int:
        while True:
            mid = secrets.randbelow(9 * 10**10) + 10**10  # 11 digits, > 2**31 (NOTES §2.1)
            if mid not in self._meetings:
                return mid

    def _apply_body(self, data: dict[str, Any], body: dict[str, Any], host: FakeUser) -> None:
        for key in ("topic", "agenda", "duration", "type", "timezone", "password", "recurrence"):
            if key in body:
                data[key] = body[key]
        if "tracking_fields" in body:
            data["tracking_fields"] = body["tracking_fields"]
        if "start_time" in body:
            tz = body.get("timezone") or data.get("timezone") or host.timezone
            data["start_time"] = iso(parse_start_time(body["start_time"], tz))
        settings = data.setdefault("settings", {})
        for key, value in (body.get("settings") or {}).items():
            if key == "breakout_room" and isinstance(value, dict):
                room = settings.setdefault("breakout_room", {"enable": False, "rooms": []})
                if "enable" in value:
                    room["enable"] = value["enable"]
                if "rooms" in value:  # NOTES §2.2: the full list replaces the old one
                    room["rooms"] = json.loads(json.dumps(value["rooms"]))
            else:
                settings[key] = value
        if settings.get("waiting_room"):
            settings["join_before_host"] = False  # NOTES §2.1: waiting room disables JBH
        if data.get("type") == 3:  # recurring with no fixed time has no start_time
            data.pop("start_time", None)
        pwd = data.get("password", "")
        data["h323_password"] = "".join(c for c in pwd if c.isdigit()) or "123456"
        data["pstn_password"] = data["h323_password"]
        data["encrypted_password"] = b64url(hashlib.sha256(pwd.encode()).digest())[:32]
        data["join_url"] = (
            f"https://us05web.zoom.us/j/{data['id']}?pwd={data['encrypted_password']}"
        )

    def _create_meeting(
        self, request: Request, ctx: ApiContext, params: dict[str, str]
    ) -> Response:
        body = request.get_json(silent=True) or {}
        host = self._target_user(ctx, params["id"])
        with self._lock:
            if body.get("type") == 1 and body.get("schedule_for"):
                raise ErrorAnswer(
                    400,
                    3000,
                    "Instant meetings do not support the schedule_for parameter; you cannot "
                    "schedule an instant meeting for another user.",
                )
            self._count_daily(host.id)
            mid = self._new_meeting_id()
            now = self.now()
            password = body.get("password")
            if password is None and self.enforce_passcode:
                password = secrets.token_hex(3)
            data: dict[str, Any] = {
                "uuid": new_uuid(),
                "id": mid,
                "host_id": host.id,
                "host_email": host.email,
                "assistant_id": "",
                "topic": "Zoom Meeting",
                "type": 2,
                "status": "waiting",
                "start_time": iso(now),
                "duration": 60,
                "timezone": host.timezone,
                "agenda": "",
                "created_at": iso(now),
                "password": password or "",
                "pre_schedule": False,
                "settings": {
                    "host_video": False,
                    "participant_video": False,
                    "join_before_host": False,
                    "jbh_time": 0,
                    "mute_upon_entry": False,
                    "waiting_room": False,
                    "use_pmi": False,
                    "approval_type": 2,
                    "audio": "both",
                    "auto_recording": "none",
                    "meeting_authentication": False,
                    "alternative_hosts": "",
                },
            }
            self._apply_body(data, body, host)
            data["start_url"] = f"https://us05web.zoom.us/s/{mid}?zak={secrets.token_urlsafe(48)}"
            self._meetings[mid] = StoredMeeting(data, host.id, host.account_id)
            answer = {k: v for k, v in data.items() if k not in ("uuid", "status")}
            # NOTES §2.1: `uuid` is not in the 201 schema; callers must GET it.
        return self._json(answer, 201)

    def _list_meetings(self, request: Request, ctx: ApiContext, params: dict[str, str]) -> Response:
        host = self._target_user(ctx, params["id"])
        page_size = int(request.args.get("page_size", 30))
        with self._lock:
            items = [
                {k: m.data[k] for k in _LIST_FIELDS if k in m.data}
                for m in self._meetings.values()
                if m.host_id == host.id
            ]
            items, token = self._page(
                items, request.args.get("next_page_token"), page_size, host.id
            )
        return self._json(
            {
                "page_size": page_size,
                "total_records": len(self._meetings_of(host.id)),
                "next_page_token": token,
                "meetings": items,
            }
        )

    def _meetings_of(self, host_id: str) -> list[StoredMeeting]:
        return [m for m in self._meetings.values() if m.host_id == host_id]

    def _get_user(self, request: Request, ctx: ApiContext, params: dict[str, str]) -> Response:
        return self._json(self._target_user(ctx, params["id"]).as_json())

    def _get_meeting(self, request: Request, ctx: ApiContext, params: dict[str, str]) -> Response:
        with self._lock:
            meeting = self._find_meeting(ctx, params["id"], write=False)
            return self._json(meeting.data)

    def _update_meeting(
        self, request: Request, ctx: ApiContext, params: dict[str, str]
    ) -> Response:
        body = request.get_json(silent=True) or {}
        with self._lock:
            meeting = self._find_meeting(ctx, params["id"], write=True)
            if meeting.data.get("status") == "started":
                raise ErrorAnswer(
                    400, 3000, "You cannot update or delete meetings that have started using "
                    "this method."
                )  # fmt: skip
            self._count_daily(meeting.host_id)
            self._apply_body(meeting.data, body, self.users[meeting.host_id])
        return Response(status=204)  # NOTES §2.2: 204, no body

    def _delete_meeting(
        self, request: Request, ctx: ApiContext, params: dict[str, str]
    ) -> Response:
        with self._lock:
            meeting = self._find_meeting(ctx, params["id"], write=True)
            if meeting.data.get("status") == "started":
                raise ErrorAnswer(
                    400, 3002, "Sorry, you cannot delete this meeting since it is in progress."
                )
            del self._meetings[int(params["id"])]
        return Response(status=204)

    def _meeting_status(
        self, request: Request, ctx: ApiContext, params: dict[str, str]
    ) -> Response:
        body = request.get_json(silent=True) or {}
        with self._lock:
            meeting = self._find_meeting(ctx, params["id"], write=True)
            if body.get("action") == "end":
                meeting.data["status"] = "waiting"
        return Response(status=204)

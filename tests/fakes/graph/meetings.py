"""Online meetings and their attendance reports in the fake Graph (NOTES §2.1, §2.4).

``createOrGet`` is idempotent by ``externalId``; the meeting behind an event is found with
``$filter=JoinWebUrl eq '...'`` (an unfiltered list is refused); a report appears only after
:meth:`OnlineMeetings.end_meeting` and only its organiser reads it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from tests.fakes.graph.common import GraphError, answer, b64, graph_time, new_guid
from tests.fakes.graph.subscriptions import Subscriptions

_FILTER = re.compile(
    r"^\s*(JoinWebUrl|joinMeetingIdSettings/joinMeetingId)\s+eq\s+'((?:[^']|'')*)'\s*$",
    re.IGNORECASE,
)


class OnlineMeetings(Subscriptions):
    """Online meetings, reports and sendMail; mixed into ``FakeGraph`` via ``Resources``."""

    def meeting(self, meeting_id: str) -> dict[str, Any]:
        """A copy of a stored online meeting."""
        with self._lock:
            return json.loads(json.dumps(self.meetings[meeting_id]))

    def meetings_of(self, user: Any = None) -> list[dict[str, Any]]:
        """Copies of the online meetings (of one user)."""
        with self._lock:
            return [
                json.loads(json.dumps(m))
                for mid, m in self.meetings.items()
                if user is None or self.meeting_owner[mid] == user.id
            ]

    def end_meeting(
        self,
        meeting_id: str,
        attendees: Iterable[Mapping[str, Any]] = (),
        *,
        started: dt.datetime | None = None,
        minutes: int = 60,
    ) -> str:
        """The meeting ran and ended: an attendance report appears; returns its id.

        Each attendee: ``email`` (None for a guest), ``name``, ``minutes`` (default all),
        optionally ``intervals`` as (join, leave) pairs and ``role``.
        """
        with self._lock:
            meeting = self.meetings[meeting_id]
            start = started or dt.datetime.fromtimestamp(self.now() - minutes * 60 - 60, dt.UTC)
            end = start + dt.timedelta(minutes=minutes)
            records = []
            for given in attendees:
                intervals = given.get("intervals") or [
                    (start, start + dt.timedelta(minutes=int(given.get("minutes", minutes))))
                ]
                total = sum(int((b - a).total_seconds()) for a, b in intervals)
                records.append(
                    {
                        "id": new_guid(),
                        "emailAddress": given.get("email"),
                        "identity": {
                            "id": given.get("user_id") or new_guid(),
                            "displayName": given.get("name", "Guest"),
                        },
                        "role": given.get("role", "Attendee"),
                        "totalAttendanceInSeconds": total,
                        "registrationId": None,
                        "attendanceIntervals": [
                            {
                                "joinDateTime": graph_time(a),
                                "leaveDateTime": graph_time(b),
                                "durationInSeconds": int((b - a).total_seconds()),
                            }
                            for a, b in intervals
                        ],
                    }
                )
            report = {
                "id": new_guid(),
                "totalParticipantCount": len(records),
                "meetingStartDateTime": graph_time(start),
                "meetingEndDateTime": graph_time(end),
                "externalEventInformation": [],
                "records": records,
            }
            self.reports.setdefault(meeting_id, []).append(report)
            assert meeting["id"] == meeting_id
            return str(report["id"])

    # ---------------------------------------------------------------- online meetings

    def _new_meeting(
        self,
        user: Any,
        subject: str,
        start: dt.datetime,
        end: dt.datetime,
        external_id: str | None = None,
    ) -> dict[str, Any]:
        thread = f"19:meeting_{b64(secrets.token_hex(24))[:48]}@thread.v2"
        context = quote(json.dumps({"Tid": user.tenant_id, "Oid": user.id}, separators=(",", ":")))
        join_url = (
            f"https://teams.microsoft.com/l/meetup-join/{quote(thread, safe='')}/0"
            f"?context={context}"
        )
        meeting_id = b64(f"1*{user.id}*0**{thread}")
        meeting = {
            "id": meeting_id,
            "creationDateTime": graph_time(dt.datetime.fromtimestamp(self.now(), dt.UTC)),
            "startDateTime": graph_time(start),
            "endDateTime": graph_time(end),
            "joinWebUrl": join_url,
            "subject": subject,
            "externalId": external_id,
            "isBroadcast": False,
            "allowBreakoutRooms": True,
            "chatInfo": {"threadId": thread, "messageId": "0", "replyChainMessageId": None},
            "joinMeetingIdSettings": {
                "isPasscodeRequired": True,
                "joinMeetingId": str(secrets.randbelow(10**12)).zfill(12),
                "passcode": secrets.token_urlsafe(4)[:6],
            },
            "audioConferencing": {
                "conferenceId": str(secrets.randbelow(10**9)),
                "tollNumber": "+358 9 0000 0000",
                "tollNumbers": ["+358 9 0000 0000"],
                "tollFreeNumbers": [],
                "dialinUrl": "https://dialin.teams.microsoft.com/fake",
            },
            "participants": {
                "organizer": {
                    "upn": user.upn,
                    "role": "presenter",
                    "identity": {"user": {"id": user.id, "displayName": user.display_name}},
                },
                "attendees": [],
            },
        }
        self.meetings[meeting_id] = meeting
        self.meeting_owner[meeting_id] = user.id
        return meeting

    def _owned_meeting(self, user: Any, meeting_id: str) -> dict[str, Any]:
        if meeting_id not in self.meetings or self.meeting_owner[meeting_id] != user.id:
            # NOTES §2.1: an id from TeamsJS (base64 of "0#...#0") is not Graph's.
            raise GraphError(400 if meeting_id.startswith("MCM") else 404, "NotFound",
                             "Meeting Id is corrupted." if meeting_id.startswith("MCM")
                             else "The online meeting was not found.")  # fmt: skip
        return self.meetings[meeting_id]

    def _find_meetings(self, request: Request, user: Any, _v: Any, _b: Any) -> Response:
        raw = request.args.get("$filter")
        if not raw:
            # NOTES §8: an unfiltered list is refused.
            raise GraphError(400, "BadRequest", "Filter expression expected - "
                             "/onlineMeetings?$filter=JoinWebUrl eq 'xxx'")  # fmt: skip
        match = _FILTER.match(raw)
        if match is None:
            raise GraphError(400, "BadRequest", f"The filter is not supported: {raw[:100]}")
        wanted = match.group(2).replace("''", "'")
        by_url = match.group(1).lower() == "joinweburl"
        found = [
            m
            for mid, m in self.meetings.items()
            if self.meeting_owner[mid] == user.id
            and (m["joinWebUrl"] if by_url else m["joinMeetingIdSettings"]["joinMeetingId"])
            == wanted
        ]
        return answer(
            {"@odata.context": f"{self.graph_url}/$metadata#onlineMeetings", "value": found}
        )

    def _times(self, body: Mapping[str, Any]) -> tuple[dt.datetime, dt.datetime]:
        now = dt.datetime.fromtimestamp(self.now(), dt.UTC)
        start = (
            dt.datetime.fromisoformat(body["startDateTime"]) if body.get("startDateTime") else now
        )
        end = (
            dt.datetime.fromisoformat(body["endDateTime"])
            if body.get("endDateTime")
            else start + dt.timedelta(hours=1)
        )
        return start, end

    def _create_meeting(self, _r: Request, user: Any, _v: Any, body: Any) -> Response:
        start, end = self._times(body)
        return answer(self._new_meeting(user, body.get("subject") or "", start, end), 201)

    def _create_or_get(self, _r: Request, user: Any, _v: Any, body: Any) -> Response:
        key = (user.id, body["externalId"])
        if key in self.by_external_id:
            return answer(self.meetings[self.by_external_id[key]], 200)
        start, end = self._times(body)
        meeting = self._new_meeting(user, body.get("subject") or "", start, end, body["externalId"])
        self.by_external_id[key] = meeting["id"]
        return answer(meeting, 201)

    def _get_meeting(self, _r: Request, user: Any, values: Any, _b: Any) -> Response:
        return answer(self._owned_meeting(user, values["onlineMeeting-id"]))

    def _update_meeting(self, _r: Request, user: Any, values: Any, body: Any) -> Response:
        meeting = self._owned_meeting(user, values["onlineMeeting-id"])
        for name in ("subject", "startDateTime", "endDateTime", "allowBreakoutRooms"):
            if name in body:
                meeting[name] = (
                    graph_time(dt.datetime.fromisoformat(body[name]))
                    if name.endswith("DateTime")
                    else body[name]
                )
        return answer(meeting)

    def _delete_meeting(self, _r: Request, user: Any, values: Any, _b: Any) -> Response:
        self._owned_meeting(user, values["onlineMeeting-id"])
        self.meetings.pop(values["onlineMeeting-id"])
        return Response(status=204)

    # ---------------------------------------------------------------- attendance

    def _owned_report(self, user: Any, values: Mapping[str, str]) -> dict[str, Any]:
        self._owned_meeting(user, values["onlineMeeting-id"])
        for report in self.reports.get(values["onlineMeeting-id"], []):
            if report["id"] == values["meetingAttendanceReport-id"]:
                return report
        raise GraphError(404, "NotFound", "The attendance report was not found.")

    @staticmethod
    def _report_json(report: Mapping[str, Any], expand: bool) -> dict[str, Any]:
        shown = {k: v for k, v in report.items() if k != "records"}
        if expand:
            shown["attendanceRecords"] = report["records"]
        return shown

    def _reports(self, _r: Request, user: Any, values: Any, _b: Any) -> Response:
        self._owned_meeting(user, values["onlineMeeting-id"])
        # NOTES §2.4: the 50 most recent.
        reports = self.reports.get(values["onlineMeeting-id"], [])[-50:]
        return answer({"value": [self._report_json(r, False) for r in reversed(reports)]})

    def _report(self, request: Request, user: Any, values: Any, _b: Any) -> Response:
        report = self._owned_report(user, values)
        expand = "attendanceRecords" in (request.args.get("$expand") or "")
        return answer(self._report_json(report, expand))

    def _records(self, request: Request, user: Any, values: Any, _b: Any) -> Response:
        records = self._owned_report(user, values)["records"]
        skip = int(request.args.get("$skip") or 0)
        top = min(int(request.args.get("$top") or self.page_size), self.page_size)
        page: dict[str, Any] = {"value": records[skip : skip + top]}
        if skip + top < len(records):
            page["@odata.nextLink"] = f"{self.graph_url}{request.path.removeprefix('/v1.0')}" + (
                f"?$top={top}&$skip={skip + top}"
            )
        return answer(page)

    def _send_mail(self, _r: Request, user: Any, _v: Any, body: Any) -> Response:
        message = next(v for k, v in body.items() if k.lower() == "message")
        for recipient in message.get("toRecipients") or []:
            self.mailbox.append(
                {"kind": "mail", "to": recipient["emailAddress"].get("address"),
                 "subject": message.get("subject"), "from": user.mail}
            )  # fmt: skip
        return Response(status=202)  # NOTES §8: 202 Accepted

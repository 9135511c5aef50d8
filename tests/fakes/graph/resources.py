"""What the fake Graph keeps and does with calendar events, and its request dispatch.

Behaviour follows NOTES §2.2: an event with ``isOnlineMeeting`` gets a Teams meeting and its
``onlineMeeting.joinUrl``, Exchange "sends" invitations, updates and cancellations to the
attendees (recorded in :attr:`Resources.mailbox`), a retried POST with the same
``transactionId`` answers with the event already made. Online meetings and attendance are in
``meetings.py``, subscriptions and notifications in ``subscriptions.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import zoneinfo
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from tzlocal.windows_tz import win_tz
from werkzeug.wrappers import Request, Response

from tests.fakes.graph.common import GraphError, answer, graph_time, new_guid
from tests.fakes.graph.meetings import OnlineMeetings
from tests.fakes.graph.validation import Operation

#: IANA names the calendar API takes besides Windows names (a sample of its documented list).
IANA_ACCEPTED = {
    "Etc/GMT", "Europe/London", "Europe/Berlin", "Europe/Budapest", "Europe/Paris",
    "Europe/Warsaw", "Europe/Bucharest", "Europe/Kiev", "Europe/Istanbul", "Europe/Moscow",
    "Europe/Kaliningrad", "America/New_York", "America/Chicago", "America/Los_Angeles",
}  # fmt: skip
_NOT_FOUND = ("ErrorItemNotFound", "The specified object was not found in the store.")


def zone_of(name: str) -> dt.tzinfo | None:
    """The zone a ``dateTimeTimeZone.timeZone`` names, or None if the calendar API refuses it."""
    if name == "UTC":
        return dt.UTC
    iana = win_tz.get(name) or (name if name in IANA_ACCEPTED else None)
    if iana is None:
        return None
    try:
        return zoneinfo.ZoneInfo(iana)
    except zoneinfo.ZoneInfoNotFoundError:
        return None


def parse_local(value: Mapping[str, Any]) -> dt.datetime:
    """An aware datetime from a ``dateTimeTimeZone``; GraphError 400 if Graph would refuse it."""
    zone = zone_of(str(value.get("timeZone") or "UTC"))
    if zone is None:
        raise GraphError(
            400,
            "TimeZoneNotSupportedException",
            "A valid TimeZone value must be specified. The following TimeZone value is not "
            f"supported: '{value.get('timeZone')}'.",
        )
    try:
        naive = dt.datetime.fromisoformat(str(value.get("dateTime") or "")[:26])
    except ValueError:
        raise GraphError(400, "ErrorInvalidRequest", "Invalid dateTime.") from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=zone)


def as_zone(when: dt.datetime, prefer: str | None) -> dict[str, str]:
    """A ``dateTimeTimeZone`` in UTC, or in the zone of a ``Prefer: outlook.timezone``."""
    zone = zone_of(prefer) if prefer else None
    name = prefer if zone is not None and prefer else "UTC"
    local = when.astimezone(zone or dt.UTC)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": name}


class Resources(OnlineMeetings):
    """The fake's resources; mixed into ``FakeGraph`` (which brings the lock, clock, users)."""

    def reset_resources(self) -> None:
        """Empty calendars, meetings, reports and subscriptions."""
        self.events: dict[str, dict[str, Any]] = {}
        self.event_owner: dict[str, str] = {}
        self.event_times: dict[str, tuple[dt.datetime, dt.datetime]] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.meeting_owner: dict[str, str] = {}
        self.meeting_of_event: dict[str, str] = {}
        self.by_external_id: dict[tuple[str, str], str] = {}
        self.by_transaction: dict[tuple[str, str], str] = {}
        self.reports: dict[str, list[dict[str, Any]]] = {}
        #: What Exchange sent attendees: {"kind": invitation|update|cancellation, "to", ...}.
        self.mailbox: list[dict[str, Any]] = []
        #: Users whose account has no Exchange Online mailbox (calendar calls fail).
        self.no_mailbox: set[str] = set()
        #: Items per page of a collection answer (nextLink beyond).
        self.page_size = 100
        self.reset_subscriptions()

    # ---------------------------------------------------------------- test-side reads

    def event(self, event_id: str) -> dict[str, Any]:
        """A copy of a stored event (as GET answers it, in UTC)."""
        with self._lock:
            return json.loads(json.dumps(self.events[event_id]))

    # ---------------------------------------------------------------- Outlook-side changes

    def move_event_in_outlook(self, event_id: str, start: dt.datetime, end: dt.datetime) -> None:
        """The organiser moves the event in Outlook: attendees are told, a change is queued."""
        with self._lock:
            self._set_times(event_id, start, end)
            self._mail("update", event_id)
            self.queue_change(self.event_owner[event_id], event_id, "updated")

    def cancel_event_in_outlook(self, event_id: str, comment: str = "") -> None:
        """The organiser cancels the event in Outlook (it leaves their calendar)."""
        with self._lock:
            self._remove_event(event_id, comment)

    # ---------------------------------------------------------------- dispatch

    def handle(
        self, request: Request, path: str, operation: Operation | None, user: Any
    ) -> Response:
        """Answer an authenticated, checked request."""
        if operation is None:
            return self._outside_fragment(path, user)
        values = {k: unquote(v) for k, v in operation.path_values(path).items()}
        key = (operation.method, operation.template)
        handler = {
            ("POST", "/me/events"): self._create_event,
            ("GET", "/me/events/{event-id}"): self._get_event,
            ("PATCH", "/me/events/{event-id}"): self._update_event,
            ("DELETE", "/me/events/{event-id}"): self._delete_event,
            ("POST", "/me/events/{event-id}/cancel"): self._cancel_event,
            ("GET", "/me/onlineMeetings"): self._find_meetings,
            ("POST", "/me/onlineMeetings"): self._create_meeting,
            ("POST", "/me/onlineMeetings/createOrGet"): self._create_or_get,
            ("GET", "/me/onlineMeetings/{onlineMeeting-id}"): self._get_meeting,
            ("PATCH", "/me/onlineMeetings/{onlineMeeting-id}"): self._update_meeting,
            ("DELETE", "/me/onlineMeetings/{onlineMeeting-id}"): self._delete_meeting,
            ("GET", "/me/onlineMeetings/{onlineMeeting-id}/attendanceReports"): self._reports,
            (
                "GET",
                "/me/onlineMeetings/{onlineMeeting-id}/attendanceReports/{meetingAttendanceReport-id}",
            ): self._report,
            (
                "GET",
                "/me/onlineMeetings/{onlineMeeting-id}/attendanceReports/"
                "{meetingAttendanceReport-id}/attendanceRecords",
            ): self._records,
            ("POST", "/me/sendMail"): self._send_mail,
        }.get(key)
        if handler is None:
            handler = self.subscription_handler(key)
        if handler is None:
            raise GraphError(501, "NotImplemented", f"The fake does not serve {key}.")
        body = request.get_json(silent=True) if request.get_data() else None
        with self._lock:
            return handler(request, user, values, body)

    def _outside_fragment(self, path: str, user: Any) -> Response:
        if path == "/me":
            return answer(user.asanswer())
        return answer(
            {
                "id": new_guid(),
                "name": "Calendar",
                "canEdit": True,
                "allowedOnlineMeetingProviders": ["teamsForBusiness"],
                "defaultOnlineMeetingProvider": "teamsForBusiness",
            }
        )

    def service_rules(self, operation: Operation, body: Any) -> list[str]:
        """What Graph refuses beyond the schema (NOTES §2 and §8)."""
        if not isinstance(body, dict):
            return []
        key = (operation.method, operation.template)
        problems: list[str] = []
        if key in (("POST", "/me/events"), ("PATCH", "/me/events/{event-id}")):
            if (
                key[0] == "POST"
                and body.get("isOnlineMeeting")
                and not (body.get("start") and body.get("end"))
            ):
                problems.append("an online event needs start and end (NOTES §8)")
            for side in ("start", "end"):
                value = body.get(side)
                if isinstance(value, dict) and zone_of(str(value.get("timeZone") or "UTC")) is None:
                    problems.append(f"{side}.timeZone {value.get('timeZone')!r} is not supported")
        if key == ("PATCH", "/me/onlineMeetings/{onlineMeeting-id}") and (
            ("startDateTime" in body) != ("endDateTime" in body)
        ):
            problems.append("changing the time needs both startDateTime and endDateTime (§2.1)")
        return problems + self.subscription_rules(key, body)

    # ---------------------------------------------------------------- events

    def _owned_event(self, user: Any, event_id: str) -> dict[str, Any]:
        if event_id not in self.events or self.event_owner[event_id] != user.id:
            raise GraphError(404, *_NOT_FOUND)
        return self.events[event_id]

    def _answer_event(self, request: Request, event_id: str, status: int = 200) -> Response:
        event = json.loads(json.dumps(self.events[event_id]))
        prefer = re.search(r'outlook\.timezone="([^"]+)"', request.headers.get("Prefer", ""))
        start, end = self.event_times[event_id]
        event["start"] = as_zone(start, prefer.group(1) if prefer else None)
        event["end"] = as_zone(end, prefer.group(1) if prefer else None)
        event["@odata.context"] = f"{self.graph_url}/$metadata#users('me')/events/$entity"
        return answer(event, status)

    def _create_event(self, request: Request, user: Any, _v: Any, body: Any) -> Response:
        if user.id in self.no_mailbox:
            raise GraphError(
                404,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        transaction = body.get("transactionId")
        if transaction and self.by_transaction.get((user.id, transaction)) in self.events:
            # Graph's transactionId: a retried POST gets the event already made.
            return self._answer_event(request, self.by_transaction[(user.id, transaction)], 201)
        start, end = parse_local(body["start"]), parse_local(body["end"])
        if end <= start:
            raise GraphError(400, "ErrorInvalidRequest", "The end must be after the start.")
        event_id = "AAMkAD" + secrets.token_urlsafe(105).replace("-", "A") + "AAA="
        now = dt.datetime.fromtimestamp(self.now(), dt.UTC)
        event: dict[str, Any] = {
            "@odata.etag": f'W/"{secrets.token_urlsafe(24)}"',
            "id": event_id,
            "createdDateTime": graph_time(now),
            "lastModifiedDateTime": graph_time(now),
            "changeKey": secrets.token_urlsafe(24),
            "categories": [],
            "transactionId": transaction,
            "originalStartTimeZone": body["start"].get("timeZone") or "UTC",
            "originalEndTimeZone": body["end"].get("timeZone") or "UTC",
            "iCalUId": "040000008200E00074C5B7101A82E008" + secrets.token_hex(32).upper(),
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "hasAttachments": False,
            "subject": body.get("subject") or "",
            "bodyPreview": re.sub(r"<[^>]+>", "", (body.get("body") or {}).get("content") or "")[
                :255
            ],
            "importance": "normal",
            "sensitivity": "normal",
            "isAllDay": False,
            "isCancelled": False,
            "isOrganizer": True,
            "responseRequested": True,
            "seriesMasterId": None,
            "showAs": "busy",
            "type": "singleInstance",
            "webLink": f"https://outlook.office365.com/owa/?itemid={quote(event_id)}",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": bool(body.get("isOnlineMeeting")),
            "onlineMeetingProvider": body.get("onlineMeetingProvider") or "unknown",
            "allowNewTimeProposals": body.get("allowNewTimeProposals", True),
            "isDraft": False,
            "hideAttendees": bool(body.get("hideAttendees")),
            "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
            "body": {
                "contentType": ((body.get("body") or {}).get("contentType") or "text").lower(),
                "content": (body.get("body") or {}).get("content") or "",
            },
            "location": {"displayName": "", "locationType": "default", "uniqueIdType": "unknown"},
            "locations": [],
            "recurrence": None,
            "attendees": [self._attendee(a) for a in body.get("attendees") or []],
            "organizer": {"emailAddress": {"name": user.display_name, "address": user.mail}},
            "onlineMeeting": None,
        }
        self.events[event_id] = event
        self.event_owner[event_id] = user.id
        self.event_times[event_id] = (start, end)
        if transaction:
            self.by_transaction[(user.id, transaction)] = event_id
        if event["isOnlineMeeting"]:
            meeting = self._new_meeting(user, event["subject"], start, end)
            self.meeting_of_event[event_id] = meeting["id"]
            event["onlineMeeting"] = {
                "joinUrl": meeting["joinWebUrl"],
                "conferenceId": meeting["audioConferencing"]["conferenceId"],
                "tollNumber": meeting["audioConferencing"]["tollNumber"],
            }
        # NOTES §2.2: "When an event is sent, the server sends invitations to all attendees."
        self._mail("invitation", event_id)
        self.queue_change(user.id, event_id, "created")
        return self._answer_event(request, event_id, 201)

    @staticmethod
    def _attendee(given: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "type": given.get("type") or "required",
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": dict(given.get("emailAddress") or {}),
        }

    def _get_event(self, request: Request, user: Any, values: Any, _b: Any) -> Response:
        self._owned_event(user, values["event-id"])
        return self._answer_event(request, values["event-id"])

    def _update_event(self, request: Request, user: Any, values: Any, body: Any) -> Response:
        event_id = values["event-id"]
        event = self._owned_event(user, event_id)
        if event["isOnlineMeeting"] and body.get("isOnlineMeeting") is False:
            raise GraphError(400, "ErrorInvalidRequest", "An online meeting stays online.")
        provider = body.get("onlineMeetingProvider")
        if event["isOnlineMeeting"] and provider and provider != event["onlineMeetingProvider"]:
            raise GraphError(400, "ErrorInvalidRequest", "The provider cannot change.")
        start, end = self.event_times[event_id]
        start = parse_local(body["start"]) if "start" in body else start
        end = parse_local(body["end"]) if "end" in body else end
        if end <= start:
            raise GraphError(400, "ErrorInvalidRequest", "The end must be after the start.")
        for name in ("subject", "allowNewTimeProposals", "hideAttendees"):
            if name in body:
                event[name] = body[name]
        if "body" in body:
            event["body"] = {
                "contentType": (body["body"].get("contentType") or "text").lower(),
                "content": body["body"].get("content") or "",
            }
        if "attendees" in body:
            event["attendees"] = [self._attendee(a) for a in body["attendees"] or []]
        self._set_times(event_id, start, end)
        self._mail("update", event_id)
        self.queue_change(user.id, event_id, "updated")
        return self._answer_event(request, event_id)

    def _set_times(self, event_id: str, start: dt.datetime, end: dt.datetime) -> None:
        event = self.events[event_id]
        self.event_times[event_id] = (start, end)
        event["lastModifiedDateTime"] = graph_time(dt.datetime.fromtimestamp(self.now(), dt.UTC))
        event["changeKey"] = secrets.token_urlsafe(24)
        event["@odata.etag"] = f'W/"{event["changeKey"]}"'
        meeting_id = self.meeting_of_event.get(event_id)
        if meeting_id is not None:
            self.meetings[meeting_id]["startDateTime"] = graph_time(start)
            self.meetings[meeting_id]["endDateTime"] = graph_time(end)

    def _delete_event(self, _r: Request, user: Any, values: Any, _b: Any) -> Response:
        self._owned_event(user, values["event-id"])
        self._remove_event(values["event-id"], "")
        return Response(status=204)

    def _cancel_event(self, _r: Request, user: Any, values: Any, body: Any) -> Response:
        self._owned_event(user, values["event-id"])
        # NOTES §8: the CSDL spells the parameter "Comment", clients "comment"; both work.
        comment = next((v for k, v in (body or {}).items() if k.lower() == "comment"), "")
        self._remove_event(values["event-id"], comment or "")
        return Response(status=202)  # NOTES §8: live Graph answers 202, not the declared 204

    def _remove_event(self, event_id: str, comment: str) -> None:
        self._mail("cancellation", event_id, comment=comment)
        owner = self.event_owner.pop(event_id)
        self.events.pop(event_id)
        self.queue_change(owner, event_id, "deleted")

    def _mail(self, kind: str, event_id: str, **extra: Any) -> None:
        event = self.events[event_id]
        start, _end = self.event_times[event_id]
        for attendee in event["attendees"]:
            self.mailbox.append(
                {
                    "kind": kind,
                    "to": attendee["emailAddress"].get("address"),
                    "event_id": event_id,
                    "subject": event["subject"],
                    "start": start,
                    **extra,
                }
            )

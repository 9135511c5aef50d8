"""What tests arrange and inspect: injected faults, recorded requests, meetings and their
past instances."""

from __future__ import annotations

import fnmatch
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from tests.fakes.zoom.formats import iso, new_uuid
from tests.fakes.zoom.records import FakeUser, Injection, PastInstance, RecordedRequest
from tests.fakes.zoom.state import ZoomState


class FakeControls(ZoomState):
    """The test-facing side of :class:`FakeZoom` beyond users, apps and tokens."""

    # ---------------------------------------------------------------- faults

    def inject(
        self,
        method: str,
        path: str,
        status: int | None = None,
        *,
        times: int | None = 1,
        retry_after: str | int | None = None,
        retry_in: float = 1.0,
        rate_limit_type: str | None = None,
        category: str | None = None,
        delay: float = 0.0,
        body: Any = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Injection:
        """Make the next ``times`` (None: all) requests matching ``method``/``path`` misbehave.

        ``path`` is a glob on the request path (``/v2/meetings/*``), ``method`` may be ``*``.
        ``status`` answers with that status instead of the real handler (401 and 429 get
        Zoom's bodies, 502/503 an HTML page as gateways send); with no status the request
        is handled normally (so a slow create still creates the meeting) and only ``delay``
        applies. ``retry_after``: ``"seconds"`` → ``Retry-After: <retry_in>``, ``"date"`` →
        ISO-8601 time ``retry_in`` from now (NOTES §2.5), ``"http-date"`` → RFC 7231 date,
        an int or other string → sent as is. ``rate_limit_type`` (default ``QPS``, or
        ``Daily-limit`` with a date) and ``category`` (default ``Light``) fill the
        ``X-RateLimit-*`` headers of a 429; ``""`` leaves one out. ``delay`` sleeps that long
        before answering.
        """
        inj = Injection(
            method=method,
            path=path,
            status=status,
            times=times,
            retry_after=retry_after,
            retry_in=retry_in,
            rate_limit_type=rate_limit_type,
            category=category,
            delay=delay,
            body=body,
            content_type=content_type,
            headers=dict(headers or {}),
        )
        with self._lock:
            self.injections.append(inj)
        return inj

    def clear_injections(self) -> None:
        """Remove all pending injections."""
        with self._lock:
            self.injections.clear()

    # ---------------------------------------------------------------- assertions helpers

    def count(self, method: str, path: str) -> int:
        """How many requests matched ``method`` and ``path`` (exact or glob)."""
        return len(self.requests_to(method, path))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests matching ``method`` (or ``*``) and ``path`` (or a glob)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper())
                and any(fnmatch.fnmatchcase(p, path) for p in (r.path, r.raw_path))
            ]

    def take_violations(self) -> list[str]:
        """Return and clear the recorded violations (for tests that provoke them)."""
        with self._lock:
            out, self.violations = self.violations, []
            return out

    # ---------------------------------------------------------------- meetings

    def meeting(self, meeting_id: int | str) -> dict[str, Any]:
        """A copy of the stored meeting as ``GET /meetings/{id}`` would show it."""
        with self._lock:
            return json.loads(json.dumps(self._meetings[int(meeting_id)].data))

    def meetings(self, user: FakeUser | None = None) -> list[dict[str, Any]]:
        """Copies of all stored meetings, or only those hosted by ``user``."""
        with self._lock:
            return [
                json.loads(json.dumps(m.data))
                for m in self._meetings.values()
                if user is None or m.host_id == user.id
            ]

    def start_meeting(self, meeting_id: int | str) -> None:
        """Mark a meeting as started (``status: started``)."""
        with self._lock:
            self._meetings[int(meeting_id)].data["status"] = "started"

    def end_meeting(
        self,
        meeting_id: int | str,
        participants: Iterable[Mapping[str, Any]] = (),
        *,
        next_uuid: str | None = None,
    ) -> str:
        """End the current instance (run) of a meeting, store its participants, return its UUID.

        The meeting gets a fresh UUID for its next run, as Zoom gives every run its own
        (NOTES §3): ``next_uuid`` chooses it (e.g. one starting with ``/``, which callers
        must double-encode). Ending a meeting twice leaves two past instances, each with its
        own participants, listed by ``GET /past_meetings/{id}/instances``.
        """
        with self._lock:
            meeting = self._meetings[int(meeting_id)]
            uuid = meeting.data["uuid"]
            self._add_past(uuid, int(meeting_id), participants)
            meeting.data["status"] = "waiting"
            meeting.data["uuid"] = next_uuid or new_uuid()
            return uuid

    def add_past_participants(
        self,
        meeting_id_or_uuid: int | str,
        participants: Iterable[Mapping[str, Any]],
        *,
        meeting_id: int | None = None,
    ) -> str:
        """Add participants to a past meeting instance and return the instance UUID.

        A numeric id means its latest instance (created if none); any other string is an
        instance UUID (give ``meeting_id`` to link it to a meeting). Missing participant
        fields get defaults. A one-participant instance answers with no participants
        (NOTES §3) unless :attr:`hide_single_participant` is False.
        """
        key = str(meeting_id_or_uuid)
        with self._lock:
            if key.isdigit():
                mid = int(key)
                uuids = self._past_by_meeting.get(mid)
                if uuids:
                    uuid = uuids[-1]
                else:
                    stored = self._meetings.get(mid)
                    uuid = stored.data["uuid"] if stored else new_uuid()
                return self._add_past(uuid, mid, participants)
            return self._add_past(key, meeting_id, participants)

    def _add_past(
        self, uuid: str, meeting_id: int | None, participants: Iterable[Mapping[str, Any]]
    ) -> str:
        inst = self._past.get(uuid)
        if inst is None:
            stored = self._meetings.get(meeting_id) if meeting_id is not None else None
            host = self.users.get(stored.host_id) if stored else self.default_user
            assert host is not None
            now = self.now()
            inst = PastInstance(
                uuid=uuid,
                meeting_id=meeting_id,
                host_id=host.id,
                account_id=host.account_id,
                topic=stored.data.get("topic", "Meeting") if stored else "Meeting",
                start_time=iso(now - 3600),
                end_time=iso(now - 60),
            )
            self._past[uuid] = inst
            if meeting_id is not None:
                self._past_by_meeting.setdefault(meeting_id, []).append(uuid)
        for given in participants:
            n = len(inst.participants) + 1
            part: dict[str, Any] = {
                "id": f"pid{n:04d}{secrets.token_hex(4)}",
                "name": f"Participant {n}",
                "user_id": str(16778240 + n),
                "registrant_id": "",
                "user_email": f"participant{n}@example.com",
                "join_time": inst.start_time,
                "leave_time": inst.end_time,
                "duration": 3540,
                "failover": False,
                "status": "in_meeting",
            }
            part.update(given)
            inst.participants.append(part)
        return uuid

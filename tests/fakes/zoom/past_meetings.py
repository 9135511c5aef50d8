"""Past meetings and reports: instances, details and participants (NOTES §3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.zoom.formats import decode_meeting_key
from tests.fakes.zoom.records import ApiContext, ErrorAnswer, PastInstance
from tests.fakes.zoom.state import ZoomState


class PastMeetingRoutes(ZoomState):
    """The handlers of ``/v2/past_meetings/...`` and ``/v2/report/meetings/...``."""

    def _past_instance(self, ctx: ApiContext, raw_id: str) -> PastInstance:
        key, _ = decode_meeting_key(raw_id)
        with self._lock:
            if key.isdigit():
                uuids = self._past_by_meeting.get(int(key)) or []
                inst = self._past.get(uuids[-1]) if uuids else None  # numeric id = latest
            else:
                inst = self._past.get(key)
            if inst is None or inst.account_id != ctx.user.account_id:
                raise ErrorAnswer(404, 3001, "This meeting is not available or ID is not valid.")
            if inst.host_id != ctx.user.id and not ctx.token.s2s:
                raise ErrorAnswer(400, 300, "Cannot access meeting information.")
            return inst

    def _participants_page(
        self, request: Request, inst: PastInstance, fields: Callable[[dict], dict]
    ) -> dict[str, Any]:
        page_size = int(request.args.get("page_size", 30))
        parts = inst.participants
        if self.hide_single_participant and len(parts) == 1:
            parts = []  # NOTES §3: "no result if only 1 participant"
        with self._lock:
            page, token = self._page(
                [fields(p) for p in parts],
                request.args.get("next_page_token"),
                page_size,
                inst.uuid,
            )
        return {
            "page_count": max(1, -(-len(parts) // page_size)),
            "page_size": page_size,
            "total_records": len(parts),
            "next_page_token": token,
            "participants": page,
        }

    def _past_parts(self, request: Request, ctx: ApiContext, params: dict[str, str]) -> Response:
        inst = self._past_instance(ctx, params["id"])
        return self._json(self._participants_page(request, inst, dict))

    def _past_meeting(self, request: Request, ctx: ApiContext, params: dict[str, str]) -> Response:
        inst = self._past_instance(ctx, params["id"])
        return self._json(self._past_summary(inst))

    def _past_summary(self, inst: PastInstance) -> dict[str, Any]:
        host = self.users.get(inst.host_id, self.default_user)
        start = dt.datetime.fromisoformat(inst.start_time.replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(inst.end_time.replace("Z", "+00:00"))
        minutes = int((end - start).total_seconds() // 60)
        return {
            "id": inst.meeting_id or 0,
            "uuid": inst.uuid,
            "host_id": inst.host_id,
            "type": 2,
            "topic": inst.topic,
            "user_name": f"{host.first_name} {host.last_name}",
            "user_email": host.email,
            "start_time": inst.start_time,
            "end_time": inst.end_time,
            "duration": minutes,
            "total_minutes": minutes * max(1, len(inst.participants)),
            "participants_count": len(inst.participants),
            "dept": "",
            "source": "Zoom",
        }

    def _past_instances(
        self, request: Request, ctx: ApiContext, params: dict[str, str]
    ) -> Response:
        with self._lock:
            meeting_id = int(params["id"])
            stored = self._meetings.get(meeting_id)
            if meeting_id not in self._past_by_meeting and (
                stored is None or stored.account_id != ctx.user.account_id
            ):
                # [guess] an id Zoom never had answers like the other past-meeting calls.
                raise ErrorAnswer(404, 3001, "This meeting is not available or ID is not valid.")
            uuids = self._past_by_meeting.get(meeting_id, [])
            insts = [
                self._past[u] for u in uuids if self._past[u].account_id == ctx.user.account_id
            ]
        return self._json(
            {"meetings": [{"uuid": i.uuid, "start_time": i.start_time} for i in insts]}
        )

    def _report_meeting(
        self, request: Request, ctx: ApiContext, params: dict[str, str]
    ) -> Response:
        inst = self._past_instance(ctx, params["id"])
        summary = self._past_summary(inst)
        summary.pop("source")
        return self._json(summary)

    def _report_participants(
        self, request: Request, ctx: ApiContext, params: dict[str, str]
    ) -> Response:
        inst = self._past_instance(ctx, params["id"])

        def report(p: dict[str, Any]) -> dict[str, Any]:
            out = {k: v for k, v in p.items() if k != "user_id"}
            out["user_id"] = p.get("user_id", "")
            out["participant_user_id"] = p.get("participant_user_id", p.get("user_id", ""))
            out.setdefault("customer_key", "")
            out.setdefault("bo_mtg_id", "")
            return out

        return self._json(self._participants_page(request, inst, report))

"""Zoom's errors in words a facilitator can act on (Finnish and English).

Zoom answers `{"code": <int>, "message": "..."}` (NOTES §2.4); validation errors add
`errors: [{field, message}]`; OAuth errors `{"reason", "error"}` (NOTES §1.1); gateways and
some 400s answer HTML or XML with no code at all (NOTES §2.4: don't assume JSON).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from companion.meetings.platform import PlatformError


class ZoomError(PlatformError):
    """Zoom refused or failed; `message` is for the facilitator, the rest for the log."""

    def __init__(
        self,
        message: str,
        *,
        temporary: bool = False,
        reconnect: bool = False,
        status: int | None = None,
        code: int | None = None,
        zoom_message: str = "",
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message, temporary=temporary, reconnect=reconnect, retry_at=retry_at)
        self.status = status
        self.code = code
        self.zoom_message = zoom_message


class ZoomUncertain(Exception):
    """A write may or may not have reached Zoom (timeout, gateway error): look before retrying."""


def error_body(raw: bytes | str, content_type: str) -> dict[str, Any]:
    """Zoom's JSON error body, or {} when the answer is not JSON (HTML, XML, empty)."""
    import json

    if "json" not in (content_type or "").lower():
        return {}
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _with_zoom_words(message: str, zoom_message: str) -> str:
    # Zoom's own sentence helps support staff; it is English, so it goes in brackets.
    return f"{message} (Zoom: {zoom_message})" if zoom_message else message


def describe(status: int, body: dict[str, Any]) -> ZoomError:
    """The ZoomError for an error answer of the Meeting API."""
    code = body.get("code") if isinstance(body.get("code"), int) else None
    zoom_message = str(body.get("message") or body.get("reason") or "")[:300]

    def error(message: str, **flags: Any) -> ZoomError:
        return ZoomError(
            _with_zoom_words(message, zoom_message),
            status=status,
            code=code,
            zoom_message=zoom_message,
            **flags,
        )

    if status == 401 or code == 124:
        return error(
            _("Zoom no longer accepts Kollega's connection. Connect Zoom again."), reconnect=True
        )
    if code == 300 and body.get("errors"):
        fields = ", ".join(
            str(item.get("field", "?")) for item in body["errors"] if isinstance(item, dict)
        )
        return error(_("Zoom did not accept these meeting details: %(fields)s.", fields=fields))
    if code == 3001 or status == 404:
        return error(_("The meeting no longer exists in Zoom (it was deleted or has expired)."))
    if code == 3003:
        return error(
            _("Only the meeting's host can change it in Zoom. Ask the host to connect Zoom.")
        )
    if code == 3002:
        return error(
            _("The meeting is in progress in Zoom, so it cannot be changed or removed now."),
            temporary=True,
        )
    if code == 1001:
        return error(_("Zoom does not know this user in the organisation's Zoom account."))
    if code == 200 or status == 403 or (code is not None and 4700 <= code < 4800):
        return error(
            _(
                "The Zoom app lacks a permission this needs. An administrator should check the "
                "app's scopes in the Zoom Marketplace (see docs/zoom.md)."
            )
        )
    if status == 429:
        return error(_("Zoom is receiving too many requests. Try again later."), temporary=True)
    if status >= 500:
        return error(
            _(
                "Zoom is not answering properly right now (error %(status)s). Try again later.",
                status=status,
            ),
            temporary=True,
        )
    if code == 3000 or status == 400:
        return error(_("Zoom refused the request."))
    return error(_("Zoom answered with an error (%(status)s).", status=status))

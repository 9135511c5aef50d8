"""Microsoft Graph's errors in words a facilitator can act on (Finnish and English).

Graph answers `{"error": {"code", "message", "innerError": {"request-id", "date"}}}` (NOTES
§2.7); the code's casing varies (`TooManyRequests`, `badRequest`), so codes are compared in
lower case. Gateways may answer with no JSON at all.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from companion.meetings.platform import PlatformError

#: Codes (lower case) that mean the account has no Exchange Online mailbox for calendar items.
_NO_MAILBOX = {"mailboxnotenabledforrestapi", "errormailboxnotenabledforrestapi"}
#: Codes (lower case) that mean the item is gone.
_GONE = {"erroritemnotfound", "itemnotfound", "resourcenotfound", "notfound"}
#: Codes (lower case) that mean the signed-in user may not do this.
_DENIED = {
    "erroraccessdenied",
    "accessdenied",
    "authorization_requestdenied",
    "forbidden",
    "erroraccessdeniedexception",
}


class GraphError(PlatformError):
    """Graph refused or failed; `message` is for the facilitator, the rest for the log."""

    def __init__(
        self,
        message: str,
        *,
        temporary: bool = False,
        reconnect: bool = False,
        status: int | None = None,
        code: str = "",
        graph_message: str = "",
        request_id: str = "",
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message, temporary=temporary, reconnect=reconnect, retry_at=retry_at)
        self.status = status
        #: Graph's `error.code` as sent (compare with `code_is`).
        self.code = code
        self.graph_message = graph_message
        #: Graph's `request-id`, for Microsoft support (never shown to participants).
        self.request_id = request_id

    def code_is(self, *codes: str) -> bool:
        """Whether Graph's code is one of `codes` (compared case-insensitively, NOTES §2.7)."""
        return self.code.lower() in {c.lower() for c in codes}


class GraphUncertain(Exception):
    """A write may or may not have reached Graph (timeout, gateway error): look before retrying."""


def error_body(raw: bytes | str, content_type: str) -> dict[str, Any]:
    """Graph's `error` object of an answer, or {} when the answer is not Graph's JSON."""
    if "json" not in (content_type or "").lower():
        return {}
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def request_id_of(headers: Any, error: dict[str, Any]) -> str:
    """The `request-id` Graph gave the request: from the header, or the error's innerError."""
    value = headers.get("request-id") if headers is not None else None
    if value:
        return str(value)[:100]
    inner = error.get("innerError") or error.get("innererror")
    if isinstance(inner, dict):
        return str(inner.get("request-id") or "")[:100]
    return ""


def _with_graph_words(message: str, graph_message: str) -> str:
    # Graph's own sentence helps support staff; it is English, so it goes in brackets.
    return f"{message} (Microsoft: {graph_message})" if graph_message else message


def describe(status: int, error: dict[str, Any], *, request_id: str = "") -> GraphError:
    """The GraphError for an error answer of Microsoft Graph."""
    code = str(error.get("code") or "")
    lowered = code.lower()
    graph_message = str(error.get("message") or "")[:300]

    def make(message: str, **flags: Any) -> GraphError:
        return GraphError(
            _with_graph_words(message, graph_message),
            status=status,
            code=code,
            graph_message=graph_message,
            request_id=request_id,
            **flags,
        )

    if status == 401 or lowered == "invalidauthenticationtoken":
        return make(
            _(
                "Microsoft no longer accepts Kollega's connection to your Microsoft 365 "
                "account. Connect Microsoft 365 again on the Teams connection page."
            ),
            reconnect=True,
        )
    if lowered in _NO_MAILBOX:
        return make(
            _(
                "This Microsoft 365 account has no Outlook mailbox in the cloud, so Kollega "
                "cannot put the meeting in its calendar. Connect an account that has one."
            )
        )
    if status == 403 and "insufficient_claims" in f"{lowered} {graph_message.lower()}":
        return make(
            _(
                "Your organisation asks you to sign in to Microsoft 365 again before Kollega "
                "can continue. Connect Microsoft 365 again on the Teams connection page."
            ),
            reconnect=True,
        )
    if status == 403 or lowered in _DENIED:
        return make(
            _(
                "Your Microsoft 365 account does not let Kollega do this. An administrator "
                "should check the app's permissions and consent in Microsoft Entra (see "
                "docs/teams.md)."
            )
        )
    if status == 404 or lowered in _GONE:
        return make(_("The meeting no longer exists in Teams or Outlook (it was deleted)."))
    if status == 409 or lowered in ("errorirresolvableconflict", "conflict"):
        return make(
            _("The meeting was being changed in Outlook at the same time. Try again."),
            temporary=True,
        )
    if status == 429 or lowered in ("toomanyrequests", "activitylimitreached"):
        return make(
            _("Microsoft 365 is receiving too many requests. Kollega tries again later."),
            temporary=True,
        )
    if status >= 500:
        return make(
            _(
                "Microsoft 365 is not answering properly right now (error %(status)s). "
                "Kollega tries again later.",
                status=status,
            ),
            temporary=True,
        )
    if lowered == "validationerror" or "validation request failed" in graph_message.lower():
        return make(
            _(
                "Microsoft 365 could not reach Kollega's public address, so changes made in "
                "Outlook do not reach Kollega. An administrator should check that Kollega's "
                "address (COMPANION_BASE_URL) is reachable from the internet over https."
            )
        )
    if "timezone" in lowered:
        return make(_("Outlook did not accept the programme's time zone."))
    if status == 400:
        return make(_("Microsoft 365 did not accept the meeting details."))
    return make(_("Microsoft 365 answered with an error (%(status)s).", status=status))

"""Request and response models of the Zoom pages and JSON endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from companion.core.schema_types import Checkbox, NoControl, RedirectTarget

#: An opaque value from Zoom: printable text only.
Token8000 = Annotated[str, StringConstraints(min_length=1, max_length=8000), NoControl]


class MeetingSettingsIn(BaseModel):
    """The Zoom settings a facilitator chooses for a session's meeting (NOTES §2.1)."""

    model_config = ConfigDict(extra="forbid")

    #: People wait until the host lets them in.
    waiting_room: Checkbox = False
    #: People may enter before the host (Zoom turns it off while the waiting room is on).
    join_before_host: Checkbox = False
    #: The meeting has a passcode (it travels inside the join address, so nobody types it).
    passcode: Checkbox = False


class AppContextIn(BaseModel):
    """What the side panel sends to start identifying its user with Zoom."""

    model_config = ConfigDict(extra="forbid")

    #: The encrypted context from `zoomSdk.getAppContext()` (NOTES §5.1).
    context: Token8000


class AuthorizeOut(BaseModel):
    """What `zoomSdk.authorize` needs (NOTES §5.4: PKCE with method plain)."""

    codeChallenge: str  # noqa: N815 - Zoom's own field names
    state: str


class AuthorizedIn(BaseModel):
    """The `onAuthorized` event of the Zoom Apps SDK, and the context again."""

    model_config = ConfigDict(extra="ignore")

    context: Token8000
    code: Annotated[str, StringConstraints(min_length=1, max_length=2000), NoControl]
    state: Annotated[str, StringConstraints(min_length=1, max_length=2000), NoControl]
    redirectUri: Annotated[str, StringConstraints(max_length=1000), NoControl] = ""  # noqa: N815


class PanelOut(BaseModel):
    """Where the side panel goes: the board's panel view with a bearer token in the fragment."""

    panel_url: str


class SignInQuery(BaseModel):
    """Where to go after signing in with Zoom (a path on this site)."""

    next: RedirectTarget = ""


class CallbackQuery(BaseModel):
    """What Zoom's authorisation server sends the browser back with (OAuth 2.0, RFC 6749)."""

    state: str = Field(default="", max_length=200)
    code: str = Field(default="", max_length=2000)
    error: str = Field(default="", max_length=200)


class WebhookIn(BaseModel):
    """A signed event notification (NOTES §4); its payload is read by `webhook_events`."""

    model_config = ConfigDict(extra="allow", strict=True)

    event: Annotated[str, StringConstraints(min_length=1, max_length=100), NoControl]
    #: Epoch milliseconds; stored in a BIGINT.
    event_ts: int = Field(default=0, ge=0, le=2**63 - 1)
    payload: dict[str, Any] = Field(default_factory=dict)

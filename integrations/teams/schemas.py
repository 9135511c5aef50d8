"""Request and response models of the Teams tab's JSON endpoint."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from companion.core.schema_types import NoControl, RedirectTarget


class TabOpenIn(BaseModel):
    """What the tab's page sends: the SSO token and what `app.getContext()` said."""

    model_config = ConfigDict(extra="forbid")

    #: `authentication.getAuthToken()`'s token (NOTES §4.4).
    token: Annotated[str, StringConstraints(min_length=1, max_length=16000), NoControl]
    #: `context.chat.id`: the meeting chat's thread id ("19:meeting_…@thread.v2").
    chat_id: Annotated[str, StringConstraints(max_length=500), NoControl] = ""
    #: `context.meeting.id`: the client's meeting id (base64, not a Graph id, NOTES §4.2).
    meeting_id: Annotated[str, StringConstraints(max_length=1000), NoControl] = ""
    #: `context.user.id` and `context.user.tenant.id`: must be the token's own.
    user_id: Annotated[str, StringConstraints(max_length=100), NoControl] = ""
    tenant_id: Annotated[str, StringConstraints(max_length=100), NoControl] = ""


class TabOpenOut(BaseModel):
    """Where the tab goes: the panel (with a bearer token), or "who are you?"."""

    state: Literal["open", "identify"]
    panel_url: str = ""
    session_title: str = ""
    programme: str = ""
    #: The panel is a facilitator's (who may share it to the meeting stage).
    facilitator: bool = False


class SignInQuery(BaseModel):
    """Where to go after signing in with Microsoft (a path on this site)."""

    next: RedirectTarget = ""


class CallbackQuery(BaseModel):
    """What the Microsoft identity platform sends the browser back with (OAuth 2.0)."""

    state: str = Field(default="", max_length=200)
    code: str = Field(default="", max_length=4000)
    error: str = Field(default="", max_length=200)
    error_description: str = Field(default="", max_length=2000)

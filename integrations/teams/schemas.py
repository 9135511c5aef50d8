"""Request and response models of the Teams tab's JSON endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TabOpenIn(BaseModel):
    """What the tab's page sends: the SSO token and what `app.getContext()` said."""

    model_config = ConfigDict(extra="forbid")

    #: `authentication.getAuthToken()`'s token (NOTES §4.4).
    token: str = Field(min_length=1, max_length=16000)
    #: `context.chat.id`: the meeting chat's thread id ("19:meeting_…@thread.v2").
    chat_id: str = Field(default="", max_length=500)
    #: `context.meeting.id`: the client's meeting id (base64, not a Graph id, NOTES §4.2).
    meeting_id: str = Field(default="", max_length=1000)
    #: `context.user.id` and `context.user.tenant.id`: must be the token's own.
    user_id: str = Field(default="", max_length=100)
    tenant_id: str = Field(default="", max_length=100)


class TabOpenOut(BaseModel):
    """Where the tab goes: the panel (with a bearer token), or "who are you?"."""

    state: Literal["open", "identify"]
    panel_url: str = ""
    session_title: str = ""
    programme: str = ""
    #: The panel is a facilitator's (who may share it to the meeting stage).
    facilitator: bool = False

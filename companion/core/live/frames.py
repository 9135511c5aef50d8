"""Frames clients send to the live server, read within bounds and with strict types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from companion.core.safe_json import UnsafeJson, load_json

#: Largest frame a client may send (its frames are a few hundred bytes).
MAX_FRAME_BYTES = 16 * 1024
#: Deepest nesting in a client frame (they are flat objects).
MAX_FRAME_DEPTH = 4


class ClientFrame(BaseModel):
    """A client's frame; anything else is answered with `bad-message`."""

    model_config = ConfigDict(strict=True, extra="ignore")

    type: Literal["auth", "ping", "subscribe", "unsubscribe"]
    token: str | None = Field(default=None, max_length=4096)
    channel: str | None = Field(default=None, max_length=120)
    since: int | None = Field(default=None, ge=0, le=2**63 - 1)


def read_frame(raw: str | bytes) -> ClientFrame | None:
    """The frame if it is one of ours, within bounds, with the right types; else None."""
    try:
        return ClientFrame.model_validate(
            load_json(raw, max_bytes=MAX_FRAME_BYTES, max_depth=MAX_FRAME_DEPTH)
        )
    except (UnsafeJson, ValidationError):
        return None

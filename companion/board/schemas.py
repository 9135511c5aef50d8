"""What the board's API accepts and returns; events carry the same shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from companion.core.schema_types import DbId, Int, NoControl

Column = Literal["to_discuss", "discussing", "done"]
#: A topic's title and description: no control characters (tabs and line breaks aside).
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), NoControl
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NoControl]


def _stripped(value: str) -> str:
    return " ".join(value.split())


class TopicIn(BaseModel):
    """A proposal."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    anonymous: bool = False

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _stripped(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return value.strip()


class TopicEdit(BaseModel):
    """A change of a topic's wording."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None


class MoveIn(BaseModel):
    """Move a topic to a column."""

    model_config = ConfigDict(extra="forbid")

    column: Column


class MergeIn(BaseModel):
    """Merge this topic into another (the other is kept)."""

    model_config = ConfigDict(extra="forbid")

    into: DbId


class BoardSettingsIn(BaseModel):
    """The facilitator's settings; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    proposing_locked: bool | None = None
    vote_budget: Int | None = Field(default=None, ge=1, le=20)
    votes_per_topic: Int | None = Field(default=None, ge=1, le=20)


class TimerIn(BaseModel):
    """Start a timebox, extend it, or stop it."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["start", "extend", "stop"]
    minutes: Int = Field(default=5, ge=1, le=120)


class PollIn(BaseModel):
    """A thumbs up (keep going) or down (move on)."""

    model_config = ConfigDict(extra="forbid")

    answer: Literal["up", "down"]


#: What a client may send as a request id: random letters, digits, `-` or `_`.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class VoteQuery(BaseModel):
    """An optional id the client makes up for this request, echoed in the vote's event."""

    model_config = ConfigDict(extra="forbid")

    #: Random and used once, so it tells the others nothing about who voted; the client that
    #: made it knows its own vote in the event even before the HTTP reply comes back.
    request_id: str | None = Field(default=None, pattern=REQUEST_ID_PATTERN)


class TopicOut(BaseModel):
    """A topic as everyone on the board sees it: totals only, never who voted (the caller's
    own votes are in the snapshot's `me.votes`)."""

    id: int
    title: str
    description: str
    column: Column
    votes: int
    #: The author's name, or null when anonymous.
    author: str | None
    #: The author's opaque key (null when anonymous), so a client knows its own topics.
    author_key: str | None
    created_at: datetime
    moved_at: datetime | None


class TimerOut(BaseModel):
    """The running timebox; clients count down to `ends_at`."""

    started_at: datetime
    ends_at: datetime
    round: int


class PollOut(BaseModel):
    """Answers to "keep going?" in the current timer round: counts only (the caller's own
    answer is in the snapshot's `me.poll_answer`)."""

    round: int
    up: int
    down: int


class BoardOut(BaseModel):
    """The board's own state."""

    id: int
    session_id: int
    breakout_key: str
    title: str
    channel: str
    proposing_locked: bool
    vote_budget: int
    votes_per_topic: int
    timer: TimerOut | None
    poll: PollOut | None


class MeOut(BaseModel):
    """Who the snapshot was made for, and their own votes and poll answer."""

    key: str
    name: str
    facilitator: bool
    language: str
    #: Topic id -> the caller's votes on it (topics without their votes left out).
    votes: dict[int, int] = {}
    #: The caller's answer in the current poll round ("up", "down"), if any.
    poll_answer: str | None = None


class SnapshotOut(BaseModel):
    """Everything a client needs to draw the board, as of `seq`."""

    seq: int
    server_time: datetime
    board: BoardOut
    topics: list[TopicOut]
    me: MeOut


class VoteEventOut(BaseModel):
    """What everyone learns of a vote (the `vote` of a vote event): the topic's new total.

    Never who voted. A client sets `votes` on the topic; it is absolute, so applying the
    event twice is harmless.
    """

    topic_id: int
    #: All votes on the topic now.
    votes: int
    #: The `request_id` the voter's client sent with the vote (null when it sent none):
    #: random and used once, it tells only that client that this event is its own vote.
    request_id: str | None = None


class VoteOut(VoteEventOut):
    """A vote cast or taken back, as the voter's own answer says it: also their count."""

    #: The voter's votes on the topic now.
    count: int
    #: The voter's votes left on the board.
    left: int


class WriteOut(BaseModel):
    """What a write changed, and the sequence number of its event (to reconcile with)."""

    seq: int
    kind: str
    topics: list[TopicOut] = []
    removed: list[int] = []
    board: BoardOut | None = None
    #: A vote: the caller's own (with `count` and `left`) in answers, the total in events.
    vote: VoteOut | VoteEventOut | None = None

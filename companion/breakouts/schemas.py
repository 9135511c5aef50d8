"""What the breakout pages and API accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask_babel import gettext as _
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from companion.core.schema_types import (
    Checkbox,
    DbId,
    Int,
    NoControl,
    OptionalDbId,
    OptionalInt,
    Text,
    kollega_error,
)

Kind = Literal["optimised", "manual", "random", "topics"]
Status = Literal["draft", "locked", "started", "closed"]
FacilitatorRuleIn = Literal["any", "at_most_one", "at_least_one", "exactly_one"]
#: A person in a round: "p:<participant id>" or "f:<facilitator id>".
PersonKey = str
_KEY_PATTERN = r"^[pf]:[1-9][0-9]{0,9}$"


class PlanIn(BaseModel):
    """A new round: how it is made, how big its groups are, which facilitators join."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = "optimised"
    #: "size": groups of min_size..max_size; "count": `groups` groups.
    sizing: Literal["size", "count"] = "size"
    min_size: Int = Field(default=3, ge=1, le=50)
    max_size: Int = Field(default=4, ge=1, le=50)
    groups: Int = Field(default=3, ge=1, le=50)
    facilitator_rule: FacilitatorRuleIn = "any"
    #: Facilitators of the programme who take part in the groups.
    facilitator_ids: list[DbId] = Field(default_factory=list, max_length=50)
    #: Optimised rounds: this session only, or every remaining session of the group at once.
    scope: Literal["session", "remaining"] = "session"
    #: Topic rounds: how many of the top-voted topics become groups.
    topics: Int = Field(default=3, ge=1, le=20)
    #: Topic rounds: most people per group; empty = an even share, ceil(n / topics).
    topic_limit: OptionalInt = Field(default=None, ge=1, le=200)
    #: Topic rounds: participants pick, or the optimiser assigns everyone.
    assign: Literal["pick", "optimiser"] = "pick"

    @field_validator("max_size")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_size")
        if isinstance(low, int) and value < low:
            raise kollega_error(_("The largest size cannot be below the smallest (%(n)s).", n=low))
        return value


class MoveIn(BaseModel):
    """Put a person in a group of the round (or take them out of every group: group_id null)."""

    model_config = ConfigDict(extra="forbid")

    person: PersonKey = Field(pattern=_KEY_PATTERN)
    group_id: DbId | None = None


class RoundActionIn(BaseModel):
    """A change of the round's state."""

    model_config = ConfigDict(extra="forbid")

    action: Literal[
        "lock", "unlock", "start", "close", "replan", "assign", "open_picks", "close_picks", "push"
    ]


class BroadcastIn(BaseModel):
    """A message to every group of a running round, or the "2 minutes left" notice."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["message", "time_left"] = "message"
    #: Plain text, one line (it is never read as Markdown or HTML).
    text: Annotated[str, Field(max_length=280), NoControl] = ""

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return " ".join(value.split())


class GroupIn(BaseModel):
    """A group's name (a new empty group, or a rename)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(max_length=120), NoControl] = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return " ".join(value.split())


class AbsenceIn(BaseModel):
    """Whether a participant is away from the session's breakouts."""

    model_config = ConfigDict(extra="forbid")

    absent: bool


class AbsencesIn(BaseModel):
    """Who is here (page form): every member not listed is absent."""

    model_config = ConfigDict(extra="forbid")

    present: list[DbId] = Field(default_factory=list, max_length=500)


class RuleIn(BaseModel):
    """Two participants of the programme to keep apart or together in every round."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["apart", "together"]
    first_id: DbId
    second_id: DbId

    @field_validator("second_id")
    @classmethod
    def _different(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("first_id") == value:
            raise kollega_error(_("Choose two different people."))
        return value


class GroupRefIn(BaseModel):
    """Which group of the round a page form means (rename, remove)."""

    group_id: DbId


class RuleRefIn(BaseModel):
    """Which pair rule a page form removes."""

    rule_id: DbId


class RoundPageQuery(BaseModel):
    """The round page, or only its groups (`part=board`, for the scripts)."""

    part: Literal["", "board"] = ""


class MetQuery(BaseModel):
    """Whose meetings the "who has met whom" page shows: a programme group (else the first)."""

    group: OptionalDbId = None


class MyGroupQuery(BaseModel):
    """ "My small group" in the side panel (`panel=1`), or only its group part (`part=group`)."""

    panel: Checkbox = False
    part: Literal["", "group"] = ""


class PickFormIn(BaseModel):
    """A participant picks a topic group (or takes the choice back) on the page."""

    group_id: DbId
    action: Literal["pick", "leave"] = "pick"


class RoundFormIn(BaseModel):
    """What every form on the round page carries: its action, and the person it moved."""

    action: Text = ""
    person: Text = ""


# --- answers ------------------------------------------------------------------------------------


class MetOut(BaseModel):
    """Someone met before, and how many times."""

    name: str
    times: int


class PersonOut(BaseModel):
    """Someone in (or not yet in) a group, as the facilitator sees them."""

    key: PersonKey
    name: str
    company: str = ""
    industry: str = ""
    region: str = ""
    years: int | None = None
    facilitator: bool = False
    #: Kept in place when the round is planned again.
    fixed: bool = False
    #: Names of the group's others this person met in earlier rounds, with how often.
    met_before: list[MetOut] = Field(default_factory=list)


class MixOut(BaseModel):
    """How mixed a group is."""

    diversity: float
    level: Literal["low", "medium", "high"]
    industries: int
    regions: int
    years_low: int | None = None
    years_high: int | None = None


class NeedFitOut(BaseModel):
    """In a group, `helper` offers what `helped` looks for: the themes, named."""

    helper: str
    helped: str
    themes: list[str]


class GroupOut(BaseModel):
    """A group with its members, the pairs that met before, its mix and room."""

    id: int
    name: str
    position: int
    topic_id: int | None = None
    members: list[PersonOut]
    met_pairs: int
    mix: MixOut
    room_url: str | None = None
    room_status: str | None = None
    #: Topic rounds: most participants the group takes.
    limit: int | None = None
    #: Who in the group offers what another looks for (`companion.needs`).
    needs_met: list[NeedFitOut] = Field(default_factory=list)


class PushOut(BaseModel):
    """What the platform said when the round was pushed (Zoom pre-assignment)."""

    pushed: bool = False
    message: str = ""
    unmatched: list[str] = Field(default_factory=list)
    error: str = ""
    at: str = ""
    #: Another round (or nothing) was pushed since: the platform no longer holds this one.
    replaced: bool = False


class HeldOut(BaseModel):
    """What a pushing platform (Zoom) holds of the session's rounds now."""

    #: "none", "current" (the current round as it is), "older" (anything else), "missing"
    #: (nothing, though a round applies).
    state: Literal["none", "current", "older", "missing"]
    #: The platform's sentence, e.g. "Zoom holds round 2 (pushed 10:02)."
    text: str
    #: Why the last attempt to bring the platform in line failed, if it did.
    error: str = ""
    #: The round the platform should hold (the latest locked or running one), if any.
    current_round_id: int | None = None


class BroadcastOut(BaseModel):
    """The latest message to the groups of a running round, in the reader's language."""

    round_id: int
    kind: Literal["message", "time_left"]
    text: str
    #: The "time left" notice: how many minutes.
    minutes: int | None = None
    at: datetime


class RoundOut(BaseModel):
    """A round as the facilitator sees it."""

    id: int
    session_id: int
    number: int
    kind: Kind
    status: Status
    picks_open: bool = False
    groups: list[GroupOut]
    #: Present people who are in no group yet.
    unplaced: list[PersonOut]
    #: Marked absent for this session.
    absent: list[str]
    #: How the session's platform gets the groups: "push" (Zoom), "rooms" (Jitsi), "none".
    rooms: Literal["push", "rooms", "none"]
    push: PushOut | None = None
    #: What the platform holds of the session's rounds (platforms that take pushed groups).
    held: HeldOut | None = None
    warnings: list[str] = Field(default_factory=list)
    #: Participants marked absent and in no group: a running round can still take them.
    absentees: list[PersonOut] = Field(default_factory=list)
    #: The latest message to every group, while the round runs.
    broadcast: BroadcastOut | None = None


class ChoiceOut(BaseModel):
    """A topic group a participant may pick."""

    group_id: int
    name: str
    count: int
    limit: int
    full: bool
    mine: bool


class MemberOut(BaseModel):
    """A member of the participant's own group."""

    name: str
    company: str = ""
    facilitator: bool = False
    me: bool = False


class TalkHintOut(BaseModel):
    """Another member of one's group and the themes where one of the two can help the other."""

    participant_id: int
    name: str
    themes: list[str]
    they_offer: list[str]
    i_offer: list[str]
    #: The contact kind to suggest (customer or business partner).
    kind: str


class MyGroupOut(BaseModel):
    """A participant's breakout group (or the topics to pick from)."""

    session_id: int
    round_id: int | None = None
    status: Status | None = None
    group_id: int | None = None
    group_name: str | None = None
    members: list[MemberOut] = Field(default_factory=list)
    room_url: str | None = None
    #: "rooms": the group's own room; "push": the session link (Zoom moves people); "none".
    rooms: Literal["push", "rooms", "none"] = "none"
    choices: list[ChoiceOut] = Field(default_factory=list)
    picks_open: bool = False
    #: The facilitator's latest message to every group, while the round runs.
    broadcast: BroadcastOut | None = None
    #: "You might talk with Aino about pricing" (`companion.needs.hints`; both agreed).
    hints: list[TalkHintOut] = Field(default_factory=list)


class MatrixOut(BaseModel):
    """Who has met whom in a programme group: `counts[i][j]` rounds together."""

    names: list[str]
    counts: list[list[int]]
    pairs: int
    pairs_met: int
    pairs_met_twice: int


class MatrixQuery(BaseModel):
    """Which programme group's matrix."""

    model_config = ConfigDict(extra="forbid")

    group: DbId


class AttendanceOut(BaseModel):
    """Who is absent now, and what happened to the drafts."""

    absent: list[int]
    replanned: list[int]
    problem: str | None = None


class RuleOut(BaseModel):
    """A pair rule."""

    id: int
    kind: str
    first_id: int
    second_id: int

"""The breakouts JSON API (`/api/v1`): rounds, moves, groups, absences, topic choices,
who has met whom and pair rules. The pages' scripts use it; it appears in `/api/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask_babel import gettext as _

from companion.accounts.identity import require_actor, require_facilitator
from companion.breakouts import summaries
from companion.breakouts.access import get_group as get_breakout_group
from companion.breakouts.access import get_round, group_for_participant, rounds_of
from companion.breakouts.attendance import set_absent
from companion.breakouts.broadcasts import send_broadcast
from companion.breakouts.models import BreakoutGroup
from companion.breakouts.moves import add_group, move_person, remove_group, rename_group
from companion.breakouts.pages import status_action
from companion.breakouts.people import absent_ids
from companion.breakouts.rounds import plan_rounds
from companion.breakouts.rules import add_rule, remove_rule
from companion.breakouts.schemas import (
    AbsenceIn,
    AttendanceOut,
    BroadcastIn,
    BroadcastOut,
    GroupIn,
    MatrixOut,
    MatrixQuery,
    MoveIn,
    MyGroupOut,
    PlanIn,
    RoundActionIn,
    RoundOut,
    RuleIn,
    RuleOut,
)
from companion.breakouts.status import delete_round
from companion.breakouts.topic_rounds import pick_group, unpick
from companion.core.api import api_view
from companion.core.db import Db, get_db
from companion.core.errors import NotFound
from companion.programmes.models import Participant
from companion.programmes.operations import get_group, get_programme
from companion.sessions.operations import get_session, session_for_actor

api = Blueprint("breakouts_api", __name__, url_prefix="/api/v1")


@api.get("/sessions/<int:session_id>/breakouts")
@api_view(
    summary="The session's breakout rounds",
    response=list[RoundOut],
    tags=("breakouts",),
    auth="facilitator",
)
def api_rounds(session_id: int) -> list[RoundOut]:
    """Every round of the session with its groups (facilitator)."""
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    return [summaries.round_out(db, r) for r in rounds_of(db, session)]


@api.post("/sessions/<int:session_id>/breakouts")
@api_view(
    summary="Plan a breakout round",
    body=PlanIn,
    response=list[RoundOut],
    status=201,
    tags=("breakouts",),
    auth="facilitator",
)
def api_plan(session_id: int, body: PlanIn) -> list[RoundOut]:
    """An optimised (optionally for every remaining session), random, manual or topic round.

    Rules that cannot hold answer 422 with the optimiser's reason and `constraint`.
    """
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    planned = plan_rounds(db, session, facilitator, body)
    db.commit()
    return [summaries.round_out(db, r) for r in planned.rounds]


@api.get("/breakouts/rounds/<int:round_id>")
@api_view(summary="A breakout round", response=RoundOut, tags=("breakouts",), auth="facilitator")
def api_round(round_id: int) -> RoundOut:
    """Groups with who met whom before, their mix, rooms and who is not placed."""
    facilitator = require_facilitator()
    db = get_db()
    return summaries.round_out(db, get_round(db, facilitator, round_id))


@api.delete("/breakouts/rounds/<int:round_id>")
@api_view(summary="Remove a breakout round", tags=("breakouts",), auth="facilitator")
def api_delete_round(round_id: int) -> None:
    """Only rounds that have not started (their rooms go too)."""
    facilitator = require_facilitator()
    db = get_db()
    delete_round(db, get_round(db, facilitator, round_id))
    db.commit()


@api.post("/breakouts/rounds/<int:round_id>/moves")
@api_view(
    summary="Move a person", body=MoveIn, response=RoundOut, tags=("breakouts",), auth="facilitator"
)
def api_move(round_id: int, body: MoveIn) -> RoundOut:
    """Into a group (kept there when re-planned), or out of every group (`group_id` null).

    Drafts change freely; a running round takes latecomers and people marked absent (their
    absence mark goes) and moves between its groups, not out of them; locked and closed
    rounds answer 409."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    move_person(db, round_, body.person, body.group_id)
    db.commit()
    return summaries.round_out(db, round_)


@api.post("/breakouts/rounds/<int:round_id>/broadcasts")
@api_view(
    summary="Message every group",
    body=BroadcastIn,
    response=BroadcastOut,
    status=201,
    tags=("breakouts",),
)
def api_broadcast(round_id: int, body: BroadcastIn) -> BroadcastOut:
    """A short plain-text message (`kind` "message", at most 280 characters) or the
    "2 minutes left" notice (`kind` "time_left"), shown at once in every participant's group
    view and side panel while the round runs. 409 when the round is not running; 429 (with
    `retry_after` seconds) within 5 seconds of the round's previous message."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    sent = send_broadcast(db, round_, body)
    db.commit()
    return sent


@api.post("/breakouts/rounds/<int:round_id>/actions")
@api_view(
    summary="Change a round",
    body=RoundActionIn,
    response=RoundOut,
    tags=("breakouts",),
    auth="facilitator",
)
def api_round_action(round_id: int, body: RoundActionIn) -> RoundOut:
    """lock (rooms are made or groups pushed), unlock, start, close, replan, assign (the rest),
    open_picks, close_picks, push (make missing rooms or push again)."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    status_action(round_, body.action)
    db.commit()
    return summaries.round_out(db, round_)


@api.post("/breakouts/rounds/<int:round_id>/groups")
@api_view(
    summary="Add an empty group",
    body=GroupIn,
    response=RoundOut,
    status=201,
    tags=("breakouts",),
    auth="facilitator",
)
def api_add_group(round_id: int, body: GroupIn) -> RoundOut:
    """A new empty group at the end (draft rounds)."""
    facilitator = require_facilitator()
    db = get_db()
    round_ = get_round(db, facilitator, round_id)
    add_group(db, round_, body.name)
    db.commit()
    return summaries.round_out(db, round_)


@api.patch("/breakouts/groups/<int:group_id>")
@api_view(
    summary="Rename a group",
    body=GroupIn,
    response=RoundOut,
    tags=("breakouts",),
    auth="facilitator",
)
def api_rename_group(group_id: int, body: GroupIn) -> RoundOut:
    """Names must differ within a round (platforms show them)."""
    facilitator = require_facilitator()
    db = get_db()
    group = get_breakout_group(db, facilitator, group_id)
    rename_group(db, group, body.name)
    db.commit()
    return summaries.round_out(db, group.round)


@api.delete("/breakouts/groups/<int:group_id>")
@api_view(
    summary="Remove an empty group", response=RoundOut, tags=("breakouts",), auth="facilitator"
)
def api_remove_group(group_id: int) -> RoundOut:
    """Only empty groups of draft rounds."""
    facilitator = require_facilitator()
    db = get_db()
    group = get_breakout_group(db, facilitator, group_id)
    round_ = group.round
    remove_group(db, group)
    db.commit()
    return summaries.round_out(db, round_)


@api.put("/sessions/<int:session_id>/absences/<int:participant_id>")
@api_view(
    summary="Mark someone absent or present",
    body=AbsenceIn,
    response=AttendanceOut,
    tags=("breakouts",),
    auth="facilitator",
)
def api_absence(session_id: int, participant_id: int, body: AbsenceIn) -> AttendanceOut:
    """Draft rounds follow: absent people leave them, optimised drafts are planned again."""
    facilitator = require_facilitator()
    db = get_db()
    session = get_session(db, facilitator, session_id)
    change = set_absent(db, session, participant_id, body.absent)
    db.commit()
    return AttendanceOut(
        absent=sorted(absent_ids(db, session)),
        replanned=[r.id for r in change.replanned],
        problem=change.problem,
    )


@api.get("/sessions/<int:session_id>/my-group")
@api_view(summary="My breakout group", response=MyGroupOut, tags=("breakouts",))
def api_my_group(session_id: int) -> MyGroupOut:
    """The participant's group (members, room) or the topic groups to choose from."""
    actor = require_actor()
    db = get_db()
    session = session_for_actor(db, actor, session_id)
    if actor.participant is None:
        raise NotFound(_("Facilitators see every group on the round's page."))
    return summaries.my_group_out(db, session, actor.participant)


@api.post("/breakouts/groups/<int:group_id>/pick")
@api_view(summary="Choose a topic group", response=MyGroupOut, tags=("breakouts",))
def api_pick(group_id: int) -> MyGroupOut:
    """409 with a clear message when the group is full or choosing is closed."""
    return _choose(group_id, lambda db, me, group: pick_group(db, me, group))


@api.delete("/breakouts/groups/<int:group_id>/pick")
@api_view(summary="Take back a choice", response=MyGroupOut, tags=("breakouts",))
def api_unpick(group_id: int) -> MyGroupOut:
    """While choosing is open."""
    return _choose(group_id, lambda db, me, group: unpick(db, me, group.round))


def _choose(
    group_id: int, change: Callable[[Db, Participant, BreakoutGroup], object]
) -> MyGroupOut:
    """A participant's choice of a topic group (or taking it back), then their view."""
    actor = require_actor()
    if actor.participant is None:
        raise NotFound(_("Only participants choose a group."))
    db = get_db()
    group = group_for_participant(db, actor.participant, group_id)
    session = group.round.session
    change(db, actor.participant, group)
    db.commit()
    return summaries.my_group_out(db, session, actor.participant)


@api.get("/programmes/<int:programme_id>/breakouts/met")
@api_view(
    summary="Who has met whom",
    query=MatrixQuery,
    response=MatrixOut,
    tags=("breakouts",),
    auth="facilitator",
)
def api_matrix(programme_id: int, query: MatrixQuery) -> MatrixOut:
    """Rounds together for every pair of a programme group's members."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    group = get_group(db, facilitator, query.group)
    if group.programme_id != programme.id:
        raise NotFound(_("No such group."))
    return summaries.matrix_out(db, group)


@api.post("/programmes/<int:programme_id>/breakouts/rules")
@api_view(
    summary="Keep two people apart or together",
    body=RuleIn,
    response=RuleOut,
    status=201,
    tags=("breakouts",),
    auth="facilitator",
)
def api_add_rule(programme_id: int, body: RuleIn) -> RuleOut:
    """In every round planned from now on; a pair has one rule (a new one replaces it)."""
    facilitator = require_facilitator()
    db = get_db()
    programme = get_programme(db, facilitator, programme_id)
    rule = add_rule(db, programme, body)
    db.commit()
    return RuleOut(id=rule.id, kind=rule.kind, first_id=rule.first_id, second_id=rule.second_id)


@api.delete("/programmes/<int:programme_id>/breakouts/rules/<int:rule_id>")
@api_view(summary="Remove a pair rule", tags=("breakouts",), auth="facilitator")
def api_remove_rule(programme_id: int, rule_id: int) -> None:
    """The pair may share groups again (or be apart)."""
    facilitator = require_facilitator()
    db = get_db()
    remove_rule(db, get_programme(db, facilitator, programme_id), rule_id)
    db.commit()

"""Topic rounds: one group per top-voted topic of the board; participants pick a group (up to
a limit) or the optimiser assigns them, and the rest are placed where they fit.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.board.access import board_for_session
from companion.board.snapshot import top_topics
from companion.breakouts import planning
from companion.breakouts.channel import publish_round
from companion.breakouts.drafts import (
    facilitator_rule_of,
    find_member,
    infeasible_error,
    new_member,
    next_number,
    plan_settings,
    require_draft,
)
from companion.breakouts.history import planning_history
from companion.breakouts.models import BreakoutGroup, BreakoutRound, RoundKind, RoundStatus
from companion.breakouts.people import (
    current_limit,
    present_participants,
    round_seats,
    seat_of_member,
)
from companion.breakouts.planning import PlanRequest, Sizing
from companion.breakouts.rules import rule_pairs
from companion.breakouts.schemas import PlanIn
from companion.core.db import Db
from companion.core.errors import Conflict, Invalid
from companion.grouping import Infeasible, ProblemError
from companion.programmes.models import Participant
from companion.sessions.models import Session


def plan_topic_round(
    db: Db, session: Session, facilitator: Facilitator, data: PlanIn
) -> BreakoutRound:
    """One group per top-voted topic; participants pick, or the optimiser assigns everyone."""
    board = board_for_session(db, session)
    topics = top_topics(db, board, data.topics)
    if not topics:
        raise Invalid(
            errors={"topics": _("The topic board has no topics to discuss yet. Vote first.")}
        )
    present = len(present_participants(db, session))
    limit = data.topic_limit
    if limit is not None and limit * len(topics) < present:
        raise Invalid(
            errors={
                "topic_limit": _(
                    "%(n)s topic groups of at most %(limit)s leave %(left)s people without a "
                    "place. Allow at least %(need)s per group.",
                    n=len(topics),
                    limit=limit,
                    left=present - limit * len(topics),
                    need=planning.topic_limit(present, len(topics)),
                )
            }
        )
    settings = plan_settings(db, data, session.group.programme)
    settings.update(topic_limit=limit, picks_open=data.assign == "pick", board_id=board.id)
    settings["sizing"] = {"groups": len(topics)}
    round_ = BreakoutRound(
        session=session,
        number=next_number(db, session),
        kind=RoundKind.TOPICS,
        status=RoundStatus.DRAFT,
        settings=settings,
        created_by_id=facilitator.id,
    )
    taken: set[str] = set()
    for position, topic in enumerate(topics):
        name = topic.title[:110]
        if name.casefold() in taken:  # platforms need distinct names
            name = f"{name} ({position + 1})"
        taken.add(name.casefold())
        round_.groups.append(BreakoutGroup(name=name, position=position, topic_id=topic.id))
    db.add(round_)
    db.flush()
    if data.assign == "optimiser":
        assign_rest(db, round_)
    else:
        publish_round(db, round_)
    return round_


def pick_group(db: Db, participant: Participant, group: BreakoutGroup) -> None:
    """The participant chooses a topic group (again: switches); a full group refuses."""
    # Lock the round so two last picks of one seat cannot both succeed (SQLite writers are
    # serialised already by BEGIN IMMEDIATE).
    round_ = db.execute(
        select(BreakoutRound).where(BreakoutRound.id == group.round_id).with_for_update()
    ).scalar_one()
    if round_.kind != RoundKind.TOPICS or not round_.is_draft:
        raise Conflict(_("Choosing a group is closed for this round."))
    if not round_.settings.get("picks_open"):
        raise Conflict(_("Choosing a group is closed for this round."))
    key = f"p:{participant.id}"
    member = find_member(round_, key)
    if member is not None and member.group_id == group.id:
        return
    limit = current_limit(db, round_)
    taken = sum(1 for m in group.members if m.participant_id is not None)
    if taken >= limit:
        raise Conflict(
            _(
                "“%(name)s” is full (%(count)s of %(limit)s). Please choose another topic.",
                name=group.name,
                count=taken,
                limit=limit,
            ),
            field="group",
        )
    if member is None:
        member = new_member(round_, group, key)
        db.add(member)
    else:
        member.group.members.remove(member)
        member.group = group
    member.fixed, member.source = True, "picked"
    publish_round(db, round_)


def unpick(db: Db, participant: Participant, round_: BreakoutRound) -> None:
    """Take back one's choice while choosing is open."""
    if round_.kind != RoundKind.TOPICS or not round_.is_draft:
        raise Conflict(_("Choosing a group is closed for this round."))
    member = find_member(round_, f"p:{participant.id}")
    if member is not None and member.source == "picked":
        member.group.members.remove(member)
        db.delete(member)
        publish_round(db, round_)


def set_picks_open(db: Db, round_: BreakoutRound, open_: bool) -> None:
    """Open or close choosing in a topic round."""
    if round_.kind != RoundKind.TOPICS:
        raise Conflict(_("Only topic rounds have choosing."))
    require_draft(round_)
    round_.settings = {**round_.settings, "picks_open": open_}
    publish_round(db, round_)


def assign_rest(db: Db, round_: BreakoutRound) -> None:
    """Place everyone present who has no group yet; picks and moves stay where they are.

    The optimiser does it (new people, mixed groups, the facilitator rule) when the groups can
    still be even; when picks already made them uneven, each person goes where they have met
    fewest before among the groups with room (`planning.balanced_fill`).
    """
    require_draft(round_)
    seats = round_seats(db, round_)
    placed = {m.key: g.position for g in round_.groups for m in g.members}
    unplaced = [s for s in seats if s.key not in placed]
    if not unplaced or not round_.groups:
        return
    counts = [len(g.members) for g in round_.groups]
    programme = round_.session.group.programme
    everyone = {s.key for s in seats} | set(placed)
    history = planning_history(db, programme, {round_.id})
    limit = current_limit(db, round_) if round_.kind == RoundKind.TOPICS else None
    if planning.can_keep_picks(counts, len(everyone)):
        apart, together = rule_pairs(db, programme)
        known = {s.key: s for s in seats}
        for group in round_.groups:
            for m in group.members:
                if m.key not in known:  # placed but absent, or a facilitator who left the list
                    known[m.key] = seat_of_member(m)
        request = PlanRequest(
            seats=list(known.values()),
            rounds=1,
            sizing=Sizing(groups=len(round_.groups)),
            history=history,
            apart=apart,
            together=together,
            facilitator_rule=facilitator_rule_of(round_.settings),
            fixed={0: placed},
            seed=int(round_.settings.get("seed", round_.id)),
            time_limit=planning.PLAN_SECONDS,
        )
        try:
            grouping = planning.plan(request).groupings[0]
        except (Infeasible, ProblemError) as exc:
            raise infeasible_error(exc, known.values(), [round_]) from None
        if limit is None or all(
            sum(1 for k in keys if k.startswith("p:")) <= limit for keys in grouping
        ):
            _place(db, round_, grouping, placed)
            return
    # Uneven already (or the even split breaks the limit): fill where there is room.
    limits = [limit or len(everyone)] * len(round_.groups)
    participants = [s.key for s in unplaced if not s.facilitator]
    current = [[m.key for m in g.members if m.participant_id is not None] for g in round_.groups]
    try:
        filled = planning.balanced_fill(
            participants, current, limits, planning.met_history(history, everyone)
        )
    except ValueError:
        raise Conflict(
            _("The topic groups are full. Raise the limit or add a group first.")
        ) from None
    chairs = [s.key for s in unplaced if s.facilitator]
    grouping = [list(keys) for keys in filled]
    for key in chairs:  # facilitators spread over the groups with fewest facilitators
        load = [sum(1 for m in g.members if m.facilitator_id is not None) for g in round_.groups]
        best = min(range(len(load)), key=lambda g: (load[g], len(grouping[g]), g))
        grouping[best].append(key)
    _place(db, round_, grouping, placed)


def _place(
    db: Db, round_: BreakoutRound, grouping: Sequence[Sequence[str]], placed: dict[str, int]
) -> None:
    for group, keys in zip(round_.groups, grouping, strict=False):
        for key in keys:
            if key in placed:
                continue
            member = new_member(round_, group, key)
            member.source = "assigned"
            db.add(member)
            placed[key] = group.position
    publish_round(db, round_)

"""What every way of shaping a draft round shares: its settings, groups and members, and
planning drafts together in one optimiser run (fixed people stay where they are).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete

from companion.breakouts import planning, rooms
from companion.breakouts.access import rounds_of
from companion.breakouts.channel import publish_round
from companion.breakouts.history import planning_history
from companion.breakouts.models import BreakoutGroup, BreakoutMember, BreakoutRound, RoundKind
from companion.breakouts.people import programme_facilitators, round_seats
from companion.breakouts.planning import PlanRequest, Seat, Sizing
from companion.breakouts.rules import rule_pairs
from companion.breakouts.schemas import PlanIn
from companion.core.db import Db
from companion.core.errors import Conflict, Invalid
from companion.grouping import FacilitatorRule, Infeasible, ProblemError, Weights
from companion.programmes.models import Programme
from companion.sessions.models import Session, SessionStatus

# --- rounds, groups and members -------------------------------------------------------------


def require_draft(round_: BreakoutRound) -> None:
    """Conflict unless the round is still a draft."""
    if not round_.is_draft:
        raise Conflict(_("The round is locked. Unlock it to change the groups."))


def find_member(round_: BreakoutRound, key: str) -> BreakoutMember | None:
    """The round's member with this key ("p:<id>" or "f:<id>"), if they are in a group."""
    for group in round_.groups:
        for member in group.members:
            if member.key == key:
                return member
    return None


def new_member(round_: BreakoutRound, group: BreakoutGroup, key: str) -> BreakoutMember:
    """A new (unsaved) member of the group for the person the key names."""
    kind, _sep, raw = key.partition(":")
    member = BreakoutMember(round_id=round_.id, group=group)
    if kind == "p":
        member.participant_id = int(raw)
    else:
        member.facilitator_id = int(raw)
    return member


def next_number(db: Db, session: Session) -> int:
    """The number of the session's next round."""
    numbers = [r.number for r in rounds_of(db, session)]
    return max(numbers, default=0) + 1


def default_group_name(programme: Programme, position: int) -> str:
    """The name of a new group ("Group 2") in the programme's language: platforms show it."""
    with force_locale(programme.language or "fi"):
        return str(_("Group %(n)s", n=position + 1))


def later_sessions(session: Session) -> list[Session]:
    """The group's scheduled sessions after this one."""
    return [
        s
        for s in session.group.sessions
        if s.starts_at > session.starts_at and s.status == SessionStatus.SCHEDULED
    ]


def drafts_from(db: Db, session: Session, number: int = 0) -> list[BreakoutRound]:
    """Draft optimised rounds of this session (from round `number`) and of later sessions."""
    found = [
        r
        for r in rounds_of(db, session)
        if r.is_draft and r.kind == RoundKind.OPTIMISED and r.number >= number
    ]
    for later in later_sessions(session):
        found += [r for r in rounds_of(db, later) if r.is_draft and r.kind == RoundKind.OPTIMISED]
    return found


# --- settings ---------------------------------------------------------------------------------


def plan_settings(db: Db, data: PlanIn, programme: Programme) -> dict[str, Any]:
    """A new round's settings from the planning form: sizing and the facilitators' part."""
    sizing: dict[str, int] = (
        {"groups": data.groups}
        if data.sizing == "count"
        else {"min": data.min_size, "max": data.max_size}
    )
    allowed = {f.id for f in programme_facilitators(db, programme)}
    return {
        "sizing": sizing,
        "facilitator_rule": data.facilitator_rule,
        "facilitator_ids": sorted({i for i in data.facilitator_ids if i in allowed}),
    }


def sizing_of(settings: dict[str, Any]) -> Sizing:
    """The group sizes a round's settings ask for."""
    raw = settings.get("sizing") or {}
    if "groups" in raw:
        return Sizing(groups=int(raw["groups"]))
    return Sizing(min_size=int(raw.get("min", 3)), max_size=int(raw.get("max", 4)))


def facilitator_rule_of(settings: dict[str, Any]) -> FacilitatorRule:
    """How facilitators spread over the groups, by a round's settings."""
    rule = settings.get("facilitator_rule", "any")
    return rule if rule in ("any", "at_most_one", "at_least_one", "exactly_one") else "any"


# --- planning with the optimiser --------------------------------------------------------------


def _round_label(round_: BreakoutRound) -> str:
    return str(_("%(session)s, round %(n)s", session=round_.session.title, n=round_.number))


_HEADLINES = {
    "group_size": lambda: _("The groups cannot be formed with these sizes."),
    "together": lambda: _("The keep-together pairs cannot all be kept together."),
    "apart": lambda: _("The keep-apart pairs cannot all be kept apart."),
    "facilitators": lambda: _("The rule for facilitators cannot be met."),
    "fixed": lambda: _("The people placed by hand do not fit."),
    "search": lambda: _("No grouping that keeps every rule was found in time."),
}


def infeasible_error(
    exc: Infeasible | ProblemError,
    seats: Iterable[Seat],
    rounds: Sequence[BreakoutRound],
) -> Invalid:
    """The optimiser's reason as a friendly error, with names instead of keys."""
    names = {seat.key: seat.name for seat in seats}
    constraint = exc.constraint if isinstance(exc, Infeasible) else "problem"
    headline = _HEADLINES.get(constraint, lambda: _("These groups cannot be planned."))()
    group_labels = [g.name for g in rounds[0].groups] if len(rounds) == 1 else []
    detail = planning.readable(exc.message, names, [_round_label(r) for r in rounds], group_labels)
    return Invalid(f"{headline} {detail}", constraint=constraint)


def plan_jointly(
    db: Db, planned: Sequence[BreakoutRound], *, random: bool = False
) -> planning.Plan:
    """Plan the rounds in one optimiser run, keeping fixed members where they are."""
    first = planned[0]
    programme = first.session.group.programme
    seats: dict[str, Seat] = {}
    present: list[set[str]] = []
    for round_ in planned:
        here = round_seats(db, round_)
        for seat in here:
            seats.setdefault(seat.key, seat)
        present.append({seat.key for seat in here})
    if not any(present):
        raise Invalid(_("There is nobody to place: everyone is marked absent."))
    fixed = {
        index: {
            m.key: group.position
            for group in round_.groups
            for m in group.members
            if m.fixed and m.key in present[index]
        }
        for index, round_ in enumerate(planned)
    }
    apart, together = rule_pairs(db, programme)
    request = PlanRequest(
        seats=list(seats.values()),
        rounds=len(planned),
        sizing=sizing_of(first.settings),
        history=[] if random else planning_history(db, programme, {r.id for r in planned}),
        absent={i: set(seats) - keys for i, keys in enumerate(present)},
        apart=apart,
        together=together,
        facilitator_rule=facilitator_rule_of(first.settings),
        fixed=fixed,
        seed=int(first.settings.get("seed", first.id)),
        weights=planning.RANDOM_WEIGHTS if random else Weights(),
        time_limit=planning.PLAN_SECONDS,
    )
    try:
        result = planning.plan(request)
    except (Infeasible, ProblemError) as exc:
        raise infeasible_error(exc, seats.values(), planned) from None
    for round_, grouping in zip(planned, result.groupings, strict=True):
        _fill(db, round_, grouping, source="random" if random else "optimiser")
        publish_round(db, round_)
    return result


def _fill(db: Db, round_: BreakoutRound, grouping: Sequence[Sequence[str]], source: str) -> None:
    """Replace the round's members by the grouping (fixed members keep their flag)."""
    programme = round_.session.group.programme
    fixed = {m.key for g in round_.groups for m in g.members if m.fixed}
    old_source = {m.key: m.source for g in round_.groups for m in g.members}
    # Deletes first: the unique (round, person) rows would collide with their replacements.
    db.execute(delete(BreakoutMember).where(BreakoutMember.round_id == round_.id))
    db.flush()
    for group in round_.groups:
        db.expire(group, ["members"])
    groups = list(round_.groups)
    while len(groups) < len(grouping):
        group = BreakoutGroup(name=default_group_name(programme, len(groups)), position=len(groups))
        round_.groups.append(group)
        groups.append(group)
    for extra in groups[len(grouping) :]:
        rooms.drop_group_room(db, extra)
        round_.groups.remove(extra)
        db.delete(extra)
    db.flush()
    for group, keys in zip(round_.groups, grouping, strict=False):
        for key in keys:
            member = new_member(round_, group, key)
            member.fixed = key in fixed
            member.source = old_source.get(key, source) if member.fixed else source
            db.add(member)
    db.flush()

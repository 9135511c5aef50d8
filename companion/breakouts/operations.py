"""Breakout rounds: planning, moves, topic picks, attendance, status and access rules.

A round is a draft while the facilitator shapes it (plans, moves people, re-plans when
attendance changes), then locked (final: rooms are made or the groups pushed to the
platform), started (participants go to their groups) and closed. Started and closed rounds
are the programme's history: their pairs have met, except people absent from the session.

Every change is logged on the live channel "breakouts:<session id>" with the round's public
summary (names of groups and counts, never who is where), so open pages fetch what they may see.
Operations never commit; views do.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select

from companion.accounts.identity import Actor
from companion.accounts.models import Facilitator, ProgrammeRole
from companion.board.operations import board_for_session, top_topics
from companion.breakouts import planning, rooms
from companion.breakouts.models import (
    BreakoutAbsence,
    BreakoutGroup,
    BreakoutMember,
    BreakoutRound,
    BreakoutRule,
    RoundKind,
    RoundStatus,
    RuleKind,
)
from companion.breakouts.planning import PastRound, PlanRequest, Seat, Sizing
from companion.breakouts.schemas import PlanIn, RuleIn
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid, NotAllowed, NotFound
from companion.core.events import append_event, register_channel
from companion.grouping import FacilitatorRule, Infeasible, ProblemError, Weights
from companion.programmes.models import Participant, Programme
from companion.sessions.models import Attendance, Session, SessionStatus
from companion.sessions.operations import get_session, session_for_actor

CHANNEL_PREFIX = "breakouts"

#: Largest id a path may name (PostgreSQL integers); larger ones are simply not found.
_MAX_ID = 2**31 - 1


def channel_for(session_id: int) -> str:
    """The live channel of a session's breakout rounds."""
    return f"{CHANNEL_PREFIX}:{session_id}"


# --- access -------------------------------------------------------------------------------------


def _possible_id(value: int) -> bool:
    return 0 < value <= _MAX_ID


def _no_round() -> NotFound:
    return NotFound(_("No such breakout round."))


def _no_group() -> NotFound:
    return NotFound(_("No such breakout group."))


def get_round(db: Db, facilitator: Facilitator, round_id: int) -> BreakoutRound:
    """The round if the facilitator manages its programme; NotFound for anyone else's."""
    round_ = db.get(BreakoutRound, round_id) if _possible_id(round_id) else None
    if round_ is None:
        raise _no_round()
    try:
        get_session(db, facilitator, round_.session_id)
    except NotAllowed:
        raise _no_round() from None
    return round_


def get_group(db: Db, facilitator: Facilitator, group_id: int) -> BreakoutGroup:
    """The group if the facilitator manages its programme."""
    group = db.get(BreakoutGroup, group_id) if _possible_id(group_id) else None
    if group is None:
        raise _no_group()
    get_round(db, facilitator, group.round_id)
    return group


def group_for_participant(db: Db, participant: Participant, group_id: int) -> BreakoutGroup:
    """A group of a session of the participant's own group (NotFound otherwise)."""
    group = db.get(BreakoutGroup, group_id) if _possible_id(group_id) else None
    if group is None:
        raise _no_group()
    session_for_actor(db, Actor(participant=participant), group.round.session_id)
    return group


def rounds_of(db: Db, session: Session) -> list[BreakoutRound]:
    """The session's rounds in order."""
    return list(
        db.scalars(
            select(BreakoutRound)
            .where(BreakoutRound.session_id == session.id)
            .order_by(BreakoutRound.number, BreakoutRound.id)
        )
    )


# --- people -------------------------------------------------------------------------------------


def group_members(session: Session) -> list[Participant]:
    """The participants of the session's group, by name."""
    return sorted(
        (m.participant for m in session.group.memberships), key=lambda p: p.name.casefold()
    )


def absent_ids(db: Db, session: Session) -> set[int]:
    """Participants marked absent from the session's breakouts."""
    return set(
        db.scalars(
            select(BreakoutAbsence.participant_id).where(BreakoutAbsence.session_id == session.id)
        )
    )


def present_participants(db: Db, session: Session) -> list[Participant]:
    """The group's members who are not marked absent."""
    away = absent_ids(db, session)
    return [p for p in group_members(session) if p.id not in away]


def programme_facilitators(db: Db, programme: Programme) -> list[Facilitator]:
    """The active facilitators holding a role in the programme, by name."""
    facilitators = db.scalars(
        select(Facilitator)
        .join(ProgrammeRole, ProgrammeRole.facilitator_id == Facilitator.id)
        .where(ProgrammeRole.programme_id == programme.id, Facilitator.active.is_(True))
    )
    return sorted(facilitators, key=lambda f: f.name.casefold())


def participant_seat(participant: Participant) -> Seat:
    """A participant as the planner sees them."""
    return Seat(
        key=f"p:{participant.id}",
        name=participant.name,
        company=participant.company,
        industry=participant.industry,
        region=participant.region,
        years=participant.years_as_entrepreneur,
    )


def facilitator_seat(facilitator: Facilitator) -> Seat:
    """A facilitator as the planner sees them (no attributes: they do not make a group mixed)."""
    return Seat(key=f"f:{facilitator.id}", name=facilitator.name, facilitator=True)


def round_facilitators(db: Db, round_: BreakoutRound) -> list[Facilitator]:
    """The facilitators taking part in the round's groups."""
    chosen = set(round_.settings.get("facilitator_ids") or [])
    programme = round_.session.group.programme
    return [f for f in programme_facilitators(db, programme) if f.id in chosen]


def round_seats(db: Db, round_: BreakoutRound) -> list[Seat]:
    """Everyone to place in the round: present participants, then the chosen facilitators."""
    participants = [participant_seat(p) for p in present_participants(db, round_.session)]
    return participants + [facilitator_seat(f) for f in round_facilitators(db, round_)]


def _person(db: Db, session: Session, key: str) -> Participant | Facilitator:
    """The participant or facilitator a key names, if they belong to the session."""
    kind, _sep, raw = key.partition(":")
    number = int(raw) if raw.isdigit() else 0
    if kind == "p" and _possible_id(number):
        participant = db.get(Participant, number)
        if participant is not None and any(
            m.group_id == session.group_id for m in participant.memberships
        ):
            return participant
    if kind == "f" and _possible_id(number):
        facilitator = db.get(Facilitator, number)
        programme = session.group.programme
        if facilitator is not None and facilitator in programme_facilitators(db, programme):
            return facilitator
    raise Invalid(errors={"person": _("This person is not in the session's group.")})


# --- history ------------------------------------------------------------------------------------


def _absent_keys(db: Db, session: Session, now: datetime | None = None) -> set[str]:
    """Who missed the session: marked absent, or (once people joined) never joined.

    Attendance only says something once the session has begun and someone's join link was
    used; before that, everyone not marked absent is expected.
    """
    keys = {f"p:{pid}" for pid in absent_ids(db, session)}
    now = now or utcnow()
    if session.starts_at <= now:
        joined = set(
            db.scalars(select(Attendance.participant_id).where(Attendance.session_id == session.id))
        )
        if joined:
            keys |= {f"p:{m.participant_id}" for m in session.group.memberships} - {
                f"p:{pid}" for pid in joined
            }
    return keys


def _as_past(db: Db, rounds: Iterable[BreakoutRound]) -> list[PastRound]:
    absent: dict[int, set[str]] = {}
    past: list[PastRound] = []
    for round_ in rounds:
        if round_.session_id not in absent:
            absent[round_.session_id] = _absent_keys(db, round_.session)
        groups = [[m.key for m in group.members] for group in round_.groups]
        past.append(PastRound(groups=groups, absent=absent[round_.session_id]))
    return past


def _programme_rounds(
    db: Db, programme: Programme, statuses: Collection[str]
) -> list[BreakoutRound]:
    from companion.programmes.models import Group

    rounds = db.scalars(
        select(BreakoutRound)
        .join(Session, Session.id == BreakoutRound.session_id)
        .join(Group, Group.id == Session.group_id)
        .where(Group.programme_id == programme.id, BreakoutRound.status.in_(list(statuses)))
    )
    return sorted(rounds, key=lambda r: (r.session.starts_at, r.number, r.id))


def history_before(db: Db, round_: BreakoutRound) -> list[PastRound]:
    """Rounds of the programme that happened before this one (started or closed)."""
    session = round_.session
    earlier = [
        r
        for r in _programme_rounds(
            db, session.group.programme, (RoundStatus.STARTED, RoundStatus.CLOSED)
        )
        if r.id != round_.id
        and (
            r.session.starts_at < session.starts_at
            or (r.session_id == session.id and r.number < round_.number)
        )
    ]
    return _as_past(db, earlier)


def programme_history(db: Db, programme: Programme) -> list[PastRound]:
    """Every round of the programme that happened (started or closed)."""
    return _as_past(db, _programme_rounds(db, programme, (RoundStatus.STARTED, RoundStatus.CLOSED)))


def _planning_history(db: Db, programme: Programme, planned: Collection[int]) -> list[PastRound]:
    # Locked rounds count too: they will happen, so planning others around them avoids repeats.
    statuses = (RoundStatus.LOCKED, RoundStatus.STARTED, RoundStatus.CLOSED)
    return _as_past(
        db, [r for r in _programme_rounds(db, programme, statuses) if r.id not in planned]
    )


def rules_of(db: Db, programme: Programme) -> list[BreakoutRule]:
    """The programme's keep-apart and keep-together pairs."""
    return list(
        db.scalars(
            select(BreakoutRule)
            .where(BreakoutRule.programme_id == programme.id)
            .order_by(BreakoutRule.id)
        )
    )


def _pairs(db: Db, programme: Programme) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    apart: list[tuple[str, str]] = []
    together: list[tuple[str, str]] = []
    for rule in rules_of(db, programme):
        pair = (f"p:{rule.first_id}", f"p:{rule.second_id}")
        (apart if rule.kind == RuleKind.APART else together).append(pair)
    return apart, together


# --- events -------------------------------------------------------------------------------------


def round_summary(db: Db, round_: BreakoutRound) -> dict[str, Any]:
    """What anyone in the session may know of a round: its groups' names and sizes."""
    limit = current_limit(db, round_) if round_.kind == RoundKind.TOPICS else None
    return {
        "id": round_.id,
        "number": round_.number,
        "kind": round_.kind,
        "status": round_.status,
        "picks_open": bool(round_.settings.get("picks_open")),
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "count": sum(1 for m in g.members if m.participant_id is not None),
                "limit": limit,
            }
            for g in round_.groups
        ],
    }


def _changed(db: Db, round_: BreakoutRound, kind: str = "round.changed") -> None:
    db.flush()
    for group in round_.groups:
        db.refresh(group, ["members"])
    append_event(db, channel_for(round_.session_id), kind, round_summary(db, round_))


def _authorize(db: Db, actor: Actor, channel: str) -> bool:
    """Only the session's facilitators and its group's members may follow its breakouts."""
    _prefix, _sep, raw = channel.partition(":")
    if not raw.isdigit() or not _possible_id(int(raw)):
        return False
    try:
        session_for_actor(db, actor, int(raw))
    except (NotFound, NotAllowed):
        return False
    return True


def _snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    _prefix, _sep, raw = channel.partition(":")
    session = session_for_actor(db, actor, int(raw))
    return {"rounds": [round_summary(db, r) for r in rounds_of(db, session)]}


register_channel(CHANNEL_PREFIX, authorize=_authorize, snapshot=_snapshot)


# --- making rounds ------------------------------------------------------------------------------


def _check_open(session: Session) -> None:
    if session.is_cancelled:
        raise Conflict(_("The session is cancelled."))


def _next_number(db: Db, session: Session) -> int:
    numbers = [r.number for r in rounds_of(db, session)]
    return max(numbers, default=0) + 1


def default_group_name(programme: Programme, position: int) -> str:
    """The name of a new group ("Group 2") in the programme's language: platforms show it."""
    with force_locale(programme.language or "fi"):
        return str(_("Group %(n)s", n=position + 1))


def _settings(db: Db, data: PlanIn, programme: Programme) -> dict[str, Any]:
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


def _sizing(settings: dict[str, Any]) -> Sizing:
    raw = settings.get("sizing") or {}
    if "groups" in raw:
        return Sizing(groups=int(raw["groups"]))
    return Sizing(min_size=int(raw.get("min", 3)), max_size=int(raw.get("max", 4)))


def _rule(settings: dict[str, Any]) -> FacilitatorRule:
    rule = settings.get("facilitator_rule", "any")
    return rule if rule in ("any", "at_most_one", "at_least_one", "exactly_one") else "any"


@dataclass(frozen=True)
class Planned:
    """Rounds just planned and, for an optimised plan, how often people meet again in it."""

    rounds: list[BreakoutRound]
    plan: planning.Plan | None = None


def plan_rounds(db: Db, session: Session, facilitator: Facilitator, data: PlanIn) -> Planned:
    """Make a round of the chosen kind (an optimised plan may cover every remaining session).

    Raises Invalid with the optimiser's reason, in people's names, when the rules cannot hold.
    """
    _check_open(session)
    programme = session.group.programme
    if data.kind == "topics":
        return Planned([_topic_round(db, session, facilitator, data)])
    round_ = BreakoutRound(
        session=session,
        number=_next_number(db, session),
        kind=data.kind,
        status=RoundStatus.DRAFT,
        settings=_settings(db, data, programme),
        created_by_id=facilitator.id,
    )
    db.add(round_)
    db.flush()
    if data.kind == "manual":
        count = _sizing(round_.settings).group_count(len(round_seats(db, round_)))
        for position in range(count):
            round_.groups.append(
                BreakoutGroup(name=default_group_name(programme, position), position=position)
            )
        _changed(db, round_)
        return Planned([round_])
    if data.kind == "random":
        round_.settings = {**round_.settings, "seed": planning.new_seed()}
        _plan_jointly(db, [round_], random=True)
        return Planned([round_])
    planned = [round_]
    if data.scope == "remaining":
        planned += _rounds_ahead(db, session, facilitator, round_.settings)
    return Planned(planned, _plan_jointly(db, planned))


def later_sessions(session: Session) -> list[Session]:
    """The group's scheduled sessions after this one."""
    return [
        s
        for s in session.group.sessions
        if s.starts_at > session.starts_at and s.status == SessionStatus.SCHEDULED
    ]


def _rounds_ahead(
    db: Db, session: Session, facilitator: Facilitator, settings: dict[str, Any]
) -> list[BreakoutRound]:
    """A draft optimised round in every later session of the group (reused if one exists)."""
    made: list[BreakoutRound] = []
    for later in later_sessions(session):
        drafts = [
            r
            for r in rounds_of(db, later)
            if r.is_draft and r.kind == RoundKind.OPTIMISED and r.settings.get("ahead")
        ]
        if drafts:
            round_ = drafts[0]
            kept = {k: v for k, v in round_.settings.items() if k not in settings}
            round_.settings = {**kept, **settings, "ahead": True}
        else:
            round_ = BreakoutRound(
                session=later,
                number=_next_number(db, later),
                kind=RoundKind.OPTIMISED,
                status=RoundStatus.DRAFT,
                settings={**settings, "ahead": True},
                created_by_id=facilitator.id,
            )
            db.add(round_)
            db.flush()
        made.append(round_)
    return made


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


def _infeasible(
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


def _plan_jointly(
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
    apart, together = _pairs(db, programme)
    request = PlanRequest(
        seats=list(seats.values()),
        rounds=len(planned),
        sizing=_sizing(first.settings),
        history=[] if random else _planning_history(db, programme, {r.id for r in planned}),
        absent={i: set(seats) - keys for i, keys in enumerate(present)},
        apart=apart,
        together=together,
        facilitator_rule=_rule(first.settings),
        fixed=fixed,
        seed=int(first.settings.get("seed", first.id)),
        weights=planning.RANDOM_WEIGHTS if random else Weights(),
        time_limit=planning.PLAN_SECONDS,
    )
    try:
        result = planning.plan(request)
    except (Infeasible, ProblemError) as exc:
        raise _infeasible(exc, seats.values(), planned) from None
    for round_, grouping in zip(planned, result.groupings, strict=True):
        _fill(db, round_, grouping, source="random" if random else "optimiser")
        _changed(db, round_)
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
            member = _member(round_, group, key)
            member.fixed = key in fixed
            member.source = old_source.get(key, source) if member.fixed else source
            db.add(member)
    db.flush()


def _member(round_: BreakoutRound, group: BreakoutGroup, key: str) -> BreakoutMember:
    kind, _sep, raw = key.partition(":")
    member = BreakoutMember(round_id=round_.id, group=group)
    if kind == "p":
        member.participant_id = int(raw)
    else:
        member.facilitator_id = int(raw)
    return member


def replan(db: Db, round_: BreakoutRound) -> Planned:
    """Plan a draft optimised round again, with the later sessions' drafts (fixed people stay)."""
    if round_.kind != RoundKind.OPTIMISED:
        raise Conflict(_("Only rounds planned by the optimiser can be planned again."))
    if not round_.is_draft:
        raise Conflict(_("The round is locked. Unlock it to change the groups."))
    planned = _drafts_from(db, round_.session, round_.number)
    return Planned(planned, _plan_jointly(db, planned))


def _drafts_from(db: Db, session: Session, number: int = 0) -> list[BreakoutRound]:
    """Draft optimised rounds of this session (from round `number`) and of later sessions."""
    found = [
        r
        for r in rounds_of(db, session)
        if r.is_draft and r.kind == RoundKind.OPTIMISED and r.number >= number
    ]
    for later in later_sessions(session):
        found += [r for r in rounds_of(db, later) if r.is_draft and r.kind == RoundKind.OPTIMISED]
    return found


# --- attendance ---------------------------------------------------------------------------------


@dataclass
class AttendanceChange:
    """What marking people absent or present did to the draft rounds."""

    replanned: list[BreakoutRound] = field(default_factory=list)
    #: Why the drafts could not be planned again (they then just lost the absent people).
    problem: str | None = None
    #: The new plan of the re-planned drafts (how often people meet again).
    plan: planning.Plan | None = None


def set_absences(db: Db, session: Session, absent: Collection[int]) -> AttendanceChange:
    """Mark exactly these members absent; draft rounds follow (re-planned where optimised)."""
    members = {p.id for p in group_members(session)}
    wanted = set(absent) & members
    current = absent_ids(db, session)
    if wanted == current:
        return AttendanceChange()
    if current - wanted:
        db.execute(
            delete(BreakoutAbsence).where(
                BreakoutAbsence.session_id == session.id,
                BreakoutAbsence.participant_id.in_(current - wanted),
            )
        )
    for participant_id in sorted(wanted - current):
        db.add(BreakoutAbsence(session_id=session.id, participant_id=participant_id))
    db.flush()
    return _after_attendance(db, session, wanted)


def set_absent(db: Db, session: Session, participant_id: int, absent: bool) -> AttendanceChange:
    """Mark one member absent or present again."""
    if participant_id not in {p.id for p in group_members(session)}:
        raise NotFound(_("This person is not in the session's group."))
    current = absent_ids(db, session)
    wanted = current | {participant_id} if absent else current - {participant_id}
    return set_absences(db, session, wanted)


def absent_not_joined(db: Db, session: Session) -> AttendanceChange:
    """Mark everyone who has not opened their join link for this session absent."""
    if session.starts_at > utcnow():
        raise Conflict(_("The session has not started yet, so nobody has joined."))
    joined = set(
        db.scalars(select(Attendance.participant_id).where(Attendance.session_id == session.id))
    )
    away = {p.id for p in group_members(session)} - joined
    return set_absences(db, session, away | absent_ids(db, session))


def _after_attendance(db: Db, session: Session, absent: set[int]) -> AttendanceChange:
    """Take absent people out of the session's drafts; re-plan the optimised ones."""
    for round_ in rounds_of(db, session):
        if not round_.is_draft:
            continue
        gone = [
            m
            for g in round_.groups
            for m in g.members
            if m.participant_id is not None and m.participant_id in absent
        ]
        for member in gone:
            member.group.members.remove(member)
            db.delete(member)
        db.flush()
        if round_.kind != RoundKind.OPTIMISED:
            _changed(db, round_)
    planned = _drafts_from(db, session)
    if not planned:
        return AttendanceChange()
    try:
        plan = _plan_jointly(db, planned)
    except Invalid as exc:  # raised before anything is written: the drafts stay as they are
        for round_ in planned:
            _changed(db, round_)
        return AttendanceChange(problem=exc.detail)
    return AttendanceChange(replanned=planned, plan=plan)


# --- moves and groups -----------------------------------------------------------------------------


def _require_draft(round_: BreakoutRound) -> None:
    if not round_.is_draft:
        raise Conflict(_("The round is locked. Unlock it to change the groups."))


def _find_member(round_: BreakoutRound, key: str) -> BreakoutMember | None:
    for group in round_.groups:
        for member in group.members:
            if member.key == key:
                return member
    return None


def move_person(db: Db, round_: BreakoutRound, key: str, group_id: int | None) -> None:
    """Put someone in a group of the round (kept there when re-planned), or out of every group."""
    _require_draft(round_)
    person = _person(db, round_.session, key)
    target = None
    if group_id is not None:
        target = next((g for g in round_.groups if g.id == group_id), None)
        if target is None:
            raise Invalid(errors={"group_id": _("Choose a group of this round.")})
    member = _find_member(round_, key)
    if target is None:
        if member is not None:
            member.group.members.remove(member)
            db.delete(member)
    elif member is None:
        member = _member(round_, target, key)
        member.fixed, member.source = True, "moved"
        db.add(member)
    else:
        if member.group_id != target.id:
            member.group.members.remove(member)
            member.group = target
        # Even "move to where they are" says: keep them here.
        member.fixed, member.source = True, "moved"
    if isinstance(person, Participant) and target is not None:
        # Placing someone by hand says they are here after all.
        db.execute(
            delete(BreakoutAbsence).where(
                BreakoutAbsence.session_id == round_.session_id,
                BreakoutAbsence.participant_id == person.id,
            )
        )
    if isinstance(person, Facilitator):
        ids = set(round_.settings.get("facilitator_ids") or []) | {person.id}
        round_.settings = {**round_.settings, "facilitator_ids": sorted(ids)}
    _changed(db, round_)


def release_person(db: Db, round_: BreakoutRound, key: str) -> None:
    """Let the optimiser move someone again on the next re-plan."""
    _require_draft(round_)
    member = _find_member(round_, key)
    if member is None:
        raise Invalid(errors={"person": _("This person is not in a group.")})
    member.fixed = False
    db.flush()


def add_group(db: Db, round_: BreakoutRound, name: str = "") -> BreakoutGroup:
    """An empty group at the end of the round."""
    _require_draft(round_)
    programme = round_.session.group.programme
    position = len(round_.groups)
    group = BreakoutGroup(name=name or default_group_name(programme, position), position=position)
    round_.groups.append(group)
    _changed(db, round_)
    return group


def rename_group(db: Db, group: BreakoutGroup, name: str) -> None:
    """A new name (platforms show it; Zoom needs it unique in the round)."""
    if not name:
        raise Invalid(errors={"name": _("This field is required.")})
    if any(g.name.casefold() == name.casefold() for g in group.round.groups if g is not group):
        raise Invalid(errors={"name": _("Another group of this round has this name.")})
    group.name = name
    _changed(db, group.round)


def remove_group(db: Db, group: BreakoutGroup) -> None:
    """Remove an empty group of a draft round."""
    round_ = group.round
    _require_draft(round_)
    if group.members:
        raise Conflict(_("Move the group's people elsewhere before removing it."))
    rooms.drop_group_room(db, group)
    round_.groups.remove(group)
    db.delete(group)
    for position, other in enumerate(round_.groups):
        other.position = position
    _changed(db, round_)


# --- topic rounds -------------------------------------------------------------------------------


def _topic_round(db: Db, session: Session, facilitator: Facilitator, data: PlanIn) -> BreakoutRound:
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
    settings = _settings(db, data, session.group.programme)
    settings.update(topic_limit=limit, picks_open=data.assign == "pick", board_id=board.id)
    settings["sizing"] = {"groups": len(topics)}
    round_ = BreakoutRound(
        session=session,
        number=_next_number(db, session),
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
        _changed(db, round_)
    return round_


def current_limit(db: Db, round_: BreakoutRound) -> int:
    """Most participants per topic group right now (an even share unless the facilitator set
    a limit)."""
    present = len(present_participants(db, round_.session))
    return planning.topic_limit(present, len(round_.groups), round_.settings.get("topic_limit"))


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
    member = _find_member(round_, key)
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
        member = _member(round_, group, key)
        db.add(member)
    else:
        member.group.members.remove(member)
        member.group = group
    member.fixed, member.source = True, "picked"
    _changed(db, round_)


def unpick(db: Db, participant: Participant, round_: BreakoutRound) -> None:
    """Take back one's choice while choosing is open."""
    if round_.kind != RoundKind.TOPICS or not round_.is_draft:
        raise Conflict(_("Choosing a group is closed for this round."))
    member = _find_member(round_, f"p:{participant.id}")
    if member is not None and member.source == "picked":
        member.group.members.remove(member)
        db.delete(member)
        _changed(db, round_)


def set_picks_open(db: Db, round_: BreakoutRound, open_: bool) -> None:
    """Open or close choosing in a topic round."""
    if round_.kind != RoundKind.TOPICS:
        raise Conflict(_("Only topic rounds have choosing."))
    _require_draft(round_)
    round_.settings = {**round_.settings, "picks_open": open_}
    _changed(db, round_)


def assign_rest(db: Db, round_: BreakoutRound) -> None:
    """Place everyone present who has no group yet; picks and moves stay where they are.

    The optimiser does it (new people, mixed groups, the facilitator rule) when the groups can
    still be even; when picks already made them uneven, each person goes where they have met
    fewest before among the groups with room (`planning.balanced_fill`).
    """
    _require_draft(round_)
    seats = round_seats(db, round_)
    placed = {m.key: g.position for g in round_.groups for m in g.members}
    unplaced = [s for s in seats if s.key not in placed]
    if not unplaced or not round_.groups:
        return
    counts = [len(g.members) for g in round_.groups]
    programme = round_.session.group.programme
    everyone = {s.key for s in seats} | set(placed)
    history = _planning_history(db, programme, {round_.id})
    limit = current_limit(db, round_) if round_.kind == RoundKind.TOPICS else None
    if planning.can_keep_picks(counts, len(everyone)):
        apart, together = _pairs(db, programme)
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
            facilitator_rule=_rule(round_.settings),
            fixed={0: placed},
            seed=int(round_.settings.get("seed", round_.id)),
            time_limit=planning.PLAN_SECONDS,
        )
        try:
            grouping = planning.plan(request).groupings[0]
        except (Infeasible, ProblemError) as exc:
            raise _infeasible(exc, known.values(), [round_]) from None
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


def seat_of_member(member: BreakoutMember) -> Seat:
    """The planner's view of someone already in a group."""
    if member.participant is not None:
        return participant_seat(member.participant)
    assert member.facilitator is not None
    return facilitator_seat(member.facilitator)


def _place(
    db: Db, round_: BreakoutRound, grouping: Sequence[Sequence[str]], placed: dict[str, int]
) -> None:
    for group, keys in zip(round_.groups, grouping, strict=False):
        for key in keys:
            if key in placed:
                continue
            member = _member(round_, group, key)
            member.source = "assigned"
            db.add(member)
            placed[key] = group.position
    _changed(db, round_)


# --- status -------------------------------------------------------------------------------------


@dataclass
class LockResult:
    """What locking did on the platform."""

    room_failures: list[str] = field(default_factory=list)
    push: dict[str, Any] | None = None


def unplaced_participants(db: Db, round_: BreakoutRound) -> list[Participant]:
    """Present participants in no group of the round."""
    placed = {m.participant_id for g in round_.groups for m in g.members}
    return [p for p in present_participants(db, round_.session) if p.id not in placed]


def lock_round(db: Db, round_: BreakoutRound) -> LockResult:
    """Make the round final: nobody left out, no empty group; rooms made or groups pushed."""
    _require_draft(round_)
    if not round_.groups:
        raise Conflict(_("The round has no groups yet."))
    left_out = unplaced_participants(db, round_)
    if left_out:
        raise Conflict(
            _(
                "Not everyone has a group yet: %(names)s. Place them, or mark them absent, first.",
                names=", ".join(p.name for p in left_out),
            )
        )
    empty = [g.name for g in round_.groups if not g.members]
    if empty:
        raise Conflict(
            _("%(group)s is empty. Add people to it or remove it first.", group=empty[0])
        )
    round_.status = RoundStatus.LOCKED
    round_.locked_at = utcnow()
    round_.settings = {**round_.settings, "picks_open": False}
    result = LockResult()
    mode = rooms.room_mode(db, round_.session)
    if mode == "rooms":
        result.room_failures = rooms.ensure_group_rooms(db, round_)
    elif mode == "push":
        result.push = rooms.push_round(db, round_)
    _changed(db, round_)
    _replan_ahead(db, round_.session)
    return result


def _replan_ahead(db: Db, session: Session) -> None:
    """Later sessions' optimised drafts were planned around this round as it was; now that it
    is final, plan them again around it (best effort: they stay as they are if rules fail)."""
    ahead = [
        r
        for later in later_sessions(session)
        for r in rounds_of(db, later)
        if r.is_draft and r.kind == RoundKind.OPTIMISED
    ]
    if not ahead:
        return
    try:
        _plan_jointly(db, ahead)
    except Invalid:  # raised before anything is written
        return


def retry_platform(db: Db, round_: BreakoutRound) -> LockResult:
    """Make the missing rooms, or push the groups again (after fixing what the platform said)."""
    if round_.status not in (RoundStatus.LOCKED, RoundStatus.STARTED):
        raise Conflict(_("Lock the round first."))
    mode = rooms.room_mode(db, round_.session)
    if mode == "rooms":
        return LockResult(room_failures=rooms.ensure_group_rooms(db, round_))
    if mode == "push":
        return LockResult(push=rooms.push_round(db, round_))
    return LockResult()


def unlock_round(db: Db, round_: BreakoutRound) -> None:
    """Back to a draft (before it starts); a later lock pushes the groups again."""
    if round_.status != RoundStatus.LOCKED:
        raise Conflict(_("Only a locked round that has not started can be unlocked."))
    round_.status = RoundStatus.DRAFT
    round_.locked_at = None
    _changed(db, round_)


def start_round(db: Db, round_: BreakoutRound) -> None:
    """People go to their groups: participants see theirs; another running round closes."""
    if round_.is_draft:
        raise Conflict(_("Lock the round first."))
    if round_.status != RoundStatus.LOCKED:
        raise Conflict(_("The round has already started."))
    for other in rounds_of(db, round_.session):
        if other.status == RoundStatus.STARTED and other.id != round_.id:
            other.status = RoundStatus.CLOSED
            other.closed_at = utcnow()
            _changed(db, other)
    round_.status = RoundStatus.STARTED
    round_.started_at = utcnow()
    _changed(db, round_)


def close_round(db: Db, round_: BreakoutRound) -> None:
    """Everyone back to the plenary."""
    if round_.status != RoundStatus.STARTED:
        raise Conflict(_("Only a running round can be closed."))
    round_.status = RoundStatus.CLOSED
    round_.closed_at = utcnow()
    _changed(db, round_)


def delete_round(db: Db, round_: BreakoutRound) -> None:
    """Remove a round that has not started (rooms on the platform go too)."""
    if round_.status in (RoundStatus.STARTED, RoundStatus.CLOSED):
        raise Conflict(_("A round that has started is part of the programme's history."))
    for group in list(round_.groups):
        rooms.drop_group_room(db, group)
    session_id, summary = round_.session_id, {"id": round_.id}
    db.delete(round_)
    db.flush()
    append_event(db, channel_for(session_id), "round.deleted", summary)


# --- pair rules ---------------------------------------------------------------------------------


def add_rule(db: Db, programme: Programme, data: RuleIn) -> BreakoutRule:
    """Keep two participants apart (or together) in every round; a pair has one rule."""
    ids = {p.id for p in programme.participants}
    for name in ("first_id", "second_id"):
        if getattr(data, name) not in ids:
            raise Invalid(errors={name: _("Choose a participant of this programme.")})
    first, second = sorted((data.first_id, data.second_id))
    rule = db.scalar(
        select(BreakoutRule).where(
            BreakoutRule.programme_id == programme.id,
            BreakoutRule.first_id == first,
            BreakoutRule.second_id == second,
        )
    )
    if rule is None:
        rule = BreakoutRule(programme_id=programme.id, first_id=first, second_id=second)
        db.add(rule)
    rule.kind = data.kind
    db.flush()
    return rule


def remove_rule(db: Db, programme: Programme, rule_id: int) -> None:
    """Drop a pair rule of the programme."""
    rule = db.get(BreakoutRule, rule_id) if _possible_id(rule_id) else None
    if rule is None or rule.programme_id != programme.id:
        raise NotFound(_("No such rule."))
    db.delete(rule)
    db.flush()


# --- participants' view -------------------------------------------------------------------------


def participant_round(db: Db, session: Session, participant: Participant) -> BreakoutRound | None:
    """The round a participant should see: the running one, a locked one, or one to pick in."""
    rounds = rounds_of(db, session)
    for status in (RoundStatus.STARTED, RoundStatus.LOCKED):
        found = [r for r in rounds if r.status == status]
        if found:
            return found[-1]
    picking = [
        r
        for r in rounds
        if r.kind == RoundKind.TOPICS and r.is_draft and r.settings.get("picks_open")
    ]
    return picking[-1] if picking else None


def group_of(round_: BreakoutRound, key: str) -> BreakoutGroup | None:
    """The group of the round a person is in."""
    member = _find_member(round_, key)
    return member.group if member is not None else None


def members_of_group(db: Db, session: Session, breakout_group_id: int) -> set[int]:
    """Participant ids of a breakout group of the session that has been announced (locked,
    started or closed); empty for drafts, unknown or foreign ids."""
    if not _possible_id(breakout_group_id):
        return set()
    group = db.get(BreakoutGroup, breakout_group_id)
    if group is None or group.round.session_id != session.id or group.round.is_draft:
        return set()
    return {m.participant_id for m in group.members if m.participant_id is not None}


def running_group_of(db: Db, session: Session, participant_id: int) -> int | None:
    """Id of the participant's group in the session's running round, if any."""
    running = [r for r in rounds_of(db, session) if r.status == RoundStatus.STARTED]
    group = group_of(running[-1], f"p:{participant_id}") if running else None
    return group.id if group is not None else None


def announced_groups_of(db: Db, session: Session, participant_id: int) -> list[int]:
    """Ids of the participant's groups in the session's announced rounds (locked, started or
    closed), in round order."""
    return [
        group.id
        for round_ in rounds_of(db, session)
        if not round_.is_draft
        for group in round_.groups
        if any(m.participant_id == participant_id for m in group.members)
    ]


def group_name_of(db: Db, session: Session, breakout_group_id: int) -> str | None:
    """The name of a breakout group of the session ("Group 2"), or None for other ids."""
    if not _possible_id(breakout_group_id):
        return None
    group = db.get(BreakoutGroup, breakout_group_id)
    if group is None or group.round.session_id != session.id:
        return None
    return group.name

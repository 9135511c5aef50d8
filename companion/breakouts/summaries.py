"""Read models of breakout rounds for the pages and the API (no writes here).

The facilitator's view shows everything (who met whom, mix, rooms, the platform's answer);
a participant's view shows only their own group, or the topic groups to pick from.
"""

from __future__ import annotations

from flask_babel import gettext as _

from companion.breakouts import planning, rooms
from companion.breakouts.broadcasts import broadcast_out
from companion.breakouts.history import history_before, programme_history
from companion.breakouts.models import BreakoutGroup, BreakoutRound, RoundKind, RoundStatus
from companion.breakouts.participant_groups import group_of, participant_round
from companion.breakouts.people import (
    absent_ids,
    current_limit,
    group_members,
    participant_seat,
    round_seats,
    seat_of_member,
)
from companion.breakouts.planning import Seat
from companion.breakouts.schemas import (
    ChoiceOut,
    GroupOut,
    HeldOut,
    MatrixOut,
    MemberOut,
    MetOut,
    MixOut,
    MyGroupOut,
    NeedFitOut,
    PersonOut,
    PushOut,
    RoundOut,
    TalkHintOut,
)
from companion.core.db import Db
from companion.needs.operations import hints_for, labelled, needs_fit, themes_of, ui_language
from companion.programmes.models import Group, Participant
from companion.sessions.models import Session


def _person_out(seat: Seat, *, fixed: bool = False, met: list[MetOut] | None = None) -> PersonOut:
    return PersonOut(
        key=seat.key,
        name=seat.name,
        company=seat.company,
        industry=seat.industry,
        region=seat.region,
        years=seat.years,
        facilitator=seat.facilitator,
        fixed=fixed,
        met_before=met or [],
    )


def round_out(db: Db, round_: BreakoutRound) -> RoundOut:
    """The round as the facilitator sees it: groups with met-before and mix, who is left out."""
    present = {seat.key: seat for seat in round_seats(db, round_)}
    seats = dict(present)
    for group in round_.groups:
        for member in group.members:
            seats.setdefault(member.key, seat_of_member(member))
    groupings = [[m.key for m in g.members] for g in round_.groups]
    facts = planning.group_facts(list(seats.values()), history_before(db, round_), groupings)
    limit = current_limit(db, round_) if round_.kind == RoundKind.TOPICS else None
    mode = rooms.room_mode(db, round_.session)
    absent = absent_ids(db, round_.session)
    themes = labelled(themes_of(db, round_.session.group.programme_id), ui_language())
    groups: list[GroupOut] = []
    warnings: list[str] = []
    placed: set[str] = set()
    for group, fact in zip(round_.groups, facts, strict=True):
        met: dict[str, list[MetOut]] = {}
        for a, b, times in fact.met_before:
            met.setdefault(a, []).append(MetOut(name=seats[b].name, times=times))
            met.setdefault(b, []).append(MetOut(name=seats[a].name, times=times))
        members = []
        for member in group.members:
            placed.add(member.key)
            members.append(
                _person_out(seats[member.key], fixed=member.fixed, met=met.get(member.key))
            )
            if member.participant_id in absent:
                warnings.append(
                    _(
                        "%(name)s is marked absent but is in %(group)s.",
                        name=seats[member.key].name,
                        group=group.name,
                    )
                )
        room = group.room
        groups.append(
            GroupOut(
                id=group.id,
                name=group.name,
                position=group.position,
                topic_id=group.topic_id,
                members=members,
                met_pairs=len(fact.met_before),
                mix=MixOut(
                    diversity=fact.mix.diversity,
                    level=fact.mix.level,
                    industries=fact.mix.industries,
                    regions=fact.mix.regions,
                    years_low=fact.mix.years_low,
                    years_high=fact.mix.years_high,
                ),
                room_url=room.join_url if room is not None and room.join_url else None,
                room_status=room.status if room is not None else None,
                limit=limit,
                needs_met=[
                    NeedFitOut.model_validate(f) for f in needs_fit(fact.needs_met, seats, themes)
                ],
            )
        )
        if room is not None and room.status == "failed":
            warnings.append(f"{group.name}: {room.data.get('error', '')}")
    unplaced = [_person_out(seat) for key, seat in present.items() if key not in placed]
    push = round_.settings.get("push")
    everyone = {p.id: p for p in group_members(round_.session)}
    away = (everyone[i] for i in absent if i in everyone and f"p:{i}" not in placed)
    absentees = [
        _person_out(participant_seat(p)) for p in sorted(away, key=lambda p: p.name.casefold())
    ]
    return RoundOut(
        id=round_.id,
        session_id=round_.session_id,
        number=round_.number,
        kind=round_.kind,
        status=round_.status,
        picks_open=bool(round_.settings.get("picks_open")),
        groups=groups,
        unplaced=unplaced,
        absent=sorted((everyone[i].name for i in absent if i in everyone), key=str.casefold),
        rooms=mode,
        push=PushOut.model_validate(push) if isinstance(push, dict) else None,
        held=held_out(db, round_.session),
        warnings=warnings,
        absentees=absentees,
        broadcast=broadcast_out(round_),
    )


def held_out(db: Db, session: Session) -> HeldOut | None:
    """What the session's platform holds of its rounds (None: it takes no pushed groups)."""
    status = rooms.held_status(db, session)
    if status is None:
        return None
    return HeldOut(
        state=status.state,
        text=status.text,
        error=status.error,
        current_round_id=status.current_round_id,
    )


def _member_out(group: BreakoutGroup, me: Participant) -> list[MemberOut]:
    out = []
    for member in group.members:
        if member.participant is not None:
            person = member.participant
            out.append(MemberOut(name=person.name, company=person.company, me=person.id == me.id))
        elif member.facilitator is not None:
            out.append(MemberOut(name=member.facilitator.name, facilitator=True))
    # Facilitators last, then by name: a participant looks for the others first.
    return sorted(out, key=lambda m: (m.facilitator, m.name.casefold()))


def my_group_out(db: Db, session: Session, participant: Participant) -> MyGroupOut:
    """A participant's group in the session's current round, or the topic groups to pick."""
    round_ = participant_round(db, session, participant)
    mode = rooms.room_mode(db, session)
    if round_ is None:
        return MyGroupOut(session_id=session.id, rooms=mode)
    group = group_of(round_, f"p:{participant.id}")
    out = MyGroupOut(
        session_id=session.id,
        round_id=round_.id,
        status=round_.status,
        rooms=mode,
        picks_open=bool(round_.settings.get("picks_open")) and round_.is_draft,
    )
    if round_.kind == RoundKind.TOPICS and round_.is_draft:
        limit = current_limit(db, round_)
        out.choices = [
            ChoiceOut(
                group_id=g.id,
                name=g.name,
                count=(count := sum(1 for m in g.members if m.participant_id is not None)),
                limit=limit,
                full=count >= limit,
                mine=group is not None and g.id == group.id,
            )
            for g in round_.groups
        ]
        if group is not None:
            out.group_id, out.group_name = group.id, group.name
        return out
    # Everyone sees the facilitator's message, even a latecomer who has no group yet.
    out.broadcast = broadcast_out(round_)
    if group is None or round_.status not in (RoundStatus.LOCKED, RoundStatus.STARTED):
        return out
    out.group_id, out.group_name = group.id, group.name
    out.members = _member_out(group, participant)
    others = [m.participant for m in group.members if m.participant is not None]
    hints = hints_for(db, participant, others)
    out.hints = [TalkHintOut(**vars(h), themes=list(h.themes)) for h in hints]
    if mode == "rooms":
        out.room_url = rooms.join_url(db, group, participant=participant)
    return out


def matrix_out(db: Db, group: Group) -> MatrixOut:
    """Who of a programme group has met whom, over the programme's rounds that happened."""
    people = sorted((m.participant for m in group.memberships), key=lambda p: p.name.casefold())
    matrix = planning.met_matrix(
        [f"p:{p.id}" for p in people], programme_history(db, group.programme)
    )
    return MatrixOut(
        names=[p.name for p in people],
        counts=matrix.counts,
        pairs=matrix.pairs,
        pairs_met=matrix.pairs_met(),
        pairs_met_twice=matrix.pairs_met(2),
    )

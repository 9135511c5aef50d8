"""Making rounds: optimised (optionally for every remaining session), random, manual or from
topics; planning optimised drafts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from companion.accounts.models import Facilitator
from companion.breakouts import planning
from companion.breakouts.access import rounds_of
from companion.breakouts.channel import publish_round
from companion.breakouts.drafts import (
    default_group_name,
    drafts_from,
    later_sessions,
    next_number,
    plan_jointly,
    plan_settings,
    sizing_of,
)
from companion.breakouts.models import BreakoutGroup, BreakoutRound, RoundKind, RoundStatus
from companion.breakouts.people import round_seats
from companion.breakouts.schemas import PlanIn
from companion.breakouts.topic_rounds import plan_topic_round
from companion.core.db import Db
from companion.core.errors import Conflict
from companion.sessions.models import Session


def _check_open(session: Session) -> None:
    if session.is_cancelled:
        raise Conflict(_("The session is cancelled."))


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
        return Planned([plan_topic_round(db, session, facilitator, data)])
    round_ = BreakoutRound(
        session=session,
        number=next_number(db, session),
        kind=data.kind,
        status=RoundStatus.DRAFT,
        settings=plan_settings(db, data, programme),
        created_by_id=facilitator.id,
    )
    db.add(round_)
    db.flush()
    if data.kind == "manual":
        count = sizing_of(round_.settings).group_count(len(round_seats(db, round_)))
        for position in range(count):
            round_.groups.append(
                BreakoutGroup(name=default_group_name(programme, position), position=position)
            )
        publish_round(db, round_)
        return Planned([round_])
    if data.kind == "random":
        round_.settings = {**round_.settings, "seed": planning.new_seed()}
        plan_jointly(db, [round_], random=True)
        return Planned([round_])
    planned = [round_]
    if data.scope == "remaining":
        planned += _rounds_ahead(db, session, facilitator, round_.settings)
    return Planned(planned, plan_jointly(db, planned))


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
                number=next_number(db, later),
                kind=RoundKind.OPTIMISED,
                status=RoundStatus.DRAFT,
                settings={**settings, "ahead": True},
                created_by_id=facilitator.id,
            )
            db.add(round_)
            db.flush()
        made.append(round_)
    return made


def replan(db: Db, round_: BreakoutRound) -> Planned:
    """Plan a draft optimised round again, with the later sessions' drafts (fixed people stay)."""
    if round_.kind != RoundKind.OPTIMISED:
        raise Conflict(_("Only rounds planned by the optimiser can be planned again."))
    if not round_.is_draft:
        raise Conflict(_("The round is locked. Unlock it to change the groups."))
    planned = drafts_from(db, round_.session, round_.number)
    return Planned(planned, plan_jointly(db, planned))

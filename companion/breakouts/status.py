"""A round's way from draft to history: lock (rooms are made or the groups pushed to the
platform), unlock, start, close, or delete it before it starts; and what each state allows.
After each step a pushing platform is brought in line with the session's current round
(`rooms.sync_breakouts`).

A draft changes freely. A locked round is final until it is unlocked. A running round takes
latecomers (and people marked absent who came after all) and moves between its groups, but
nobody is taken out of it: its groups are what people see on their phones and what the
platform holds. A closed round is history and never changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from companion.breakouts import rooms
from companion.breakouts.access import rounds_of
from companion.breakouts.channel import channel_for, publish_round
from companion.breakouts.drafts import later_sessions, plan_jointly, require_draft
from companion.breakouts.models import BreakoutRound, RoundKind, RoundStatus
from companion.breakouts.people import present_participants
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Invalid
from companion.core.events import append_event
from companion.programmes.models import Participant
from companion.sessions.models import Session


@dataclass
class LockResult:
    """What locking did on the platform."""

    room_failures: list[str] = field(default_factory=list)
    push: dict[str, Any] | None = None


def require_movable(round_: BreakoutRound, *, taking_out: bool = False) -> None:
    """Conflict unless people may be placed or moved in the round now (see the module's note);
    `taking_out`: the change takes someone out of every group."""
    if round_.is_draft:
        return
    if round_.status == RoundStatus.STARTED:
        if taking_out:
            raise Conflict(
                _(
                    "The round is running: people can be moved to another group, "
                    "but not taken out of every group."
                )
            )
        return
    if round_.status == RoundStatus.LOCKED:
        raise Conflict(_("The round is locked. Unlock it to change the groups."))
    raise Conflict(_("The round is closed. Its groups are part of the programme's history."))


def require_running(round_: BreakoutRound) -> None:
    """Conflict unless the round is running (messages go to groups that are meeting)."""
    if round_.status != RoundStatus.STARTED:
        raise Conflict(_("Messages can be sent to the groups only while the round runs."))


def unplaced_participants(db: Db, round_: BreakoutRound) -> list[Participant]:
    """Present participants in no group of the round."""
    placed = {m.participant_id for g in round_.groups for m in g.members}
    return [p for p in present_participants(db, round_.session) if p.id not in placed]


def lock_round(db: Db, round_: BreakoutRound) -> LockResult:
    """Make the round final: nobody left out, no empty group; rooms made or groups pushed."""
    require_draft(round_)
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
    publish_round(db, round_)
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
        plan_jointly(db, ahead)
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
        current = rooms.current_round(db, round_.session)
        if current is not None and current.id != round_.id:
            raise Conflict(
                _(
                    "The platform holds one set of breakout rooms per meeting: the latest locked "
                    "round's, round %(n)s.",
                    n=current.number,
                )
            )
        rooms.sync_breakouts(db, round_.session, force=True)
        return LockResult(push=round_.settings.get("push"))
    return LockResult()


def unlock_round(db: Db, round_: BreakoutRound) -> None:
    """Back to a draft (before it starts); a later lock pushes the groups again."""
    if round_.status != RoundStatus.LOCKED:
        raise Conflict(_("Only a locked round that has not started can be unlocked."))
    round_.status = RoundStatus.DRAFT
    round_.locked_at = None
    rooms.sync_breakouts(db, round_.session)
    publish_round(db, round_)


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
            publish_round(db, other)
    round_.status = RoundStatus.STARTED
    round_.started_at = utcnow()
    rooms.sync_breakouts(db, round_.session)
    publish_round(db, round_)


def close_round(db: Db, round_: BreakoutRound) -> None:
    """Everyone back to the plenary."""
    if round_.status != RoundStatus.STARTED:
        raise Conflict(_("Only a running round can be closed."))
    round_.status = RoundStatus.CLOSED
    round_.closed_at = utcnow()
    rooms.sync_breakouts(db, round_.session)
    publish_round(db, round_)


def delete_round(db: Db, round_: BreakoutRound) -> None:
    """Remove a round that has not started (rooms on the platform go too)."""
    if round_.status in (RoundStatus.STARTED, RoundStatus.CLOSED):
        raise Conflict(_("A round that has started is part of the programme's history."))
    for group in list(round_.groups):
        rooms.drop_group_room(db, group)
    session, summary = round_.session, {"id": round_.id}
    db.delete(round_)
    db.flush()
    rooms.sync_breakouts(db, session)
    append_event(db, channel_for(session.id), "round.deleted", summary)

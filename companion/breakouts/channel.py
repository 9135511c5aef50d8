"""The live channel "breakouts:<session id>": every change to a round is logged there.

An event carries the round's public summary (names of groups and counts, never who is where;
while the round runs, the facilitator's latest message to every group); only the session's
facilitators and its group's members may follow the channel.
"""

from __future__ import annotations

from typing import Any

from companion.accounts.identity import Actor
from companion.breakouts.access import rounds_of
from companion.breakouts.models import BreakoutRound, RoundKind, RoundStatus
from companion.breakouts.people import current_limit
from companion.core.db import Db
from companion.core.errors import NotAllowed, NotFound
from companion.core.events import append_event, channel_ids, register_channel
from companion.sessions.operations import session_for_actor

CHANNEL_PREFIX = "breakouts"


def channel_for(session_id: int) -> str:
    """The live channel of a session's breakout rounds."""
    return f"{CHANNEL_PREFIX}:{session_id}"


def round_summary(db: Db, round_: BreakoutRound) -> dict[str, Any]:
    """What anyone in the session may know of a round: its groups' names and sizes, and while
    it runs the facilitator's latest message to every group."""
    limit = current_limit(db, round_) if round_.kind == RoundKind.TOPICS else None
    # The facilitator's latest message is shown to everyone in the session anyway (see
    # `broadcasts`), and only while the round runs.
    running = round_.status == RoundStatus.STARTED
    return {
        "id": round_.id,
        "number": round_.number,
        "kind": round_.kind,
        "status": round_.status,
        "picks_open": bool(round_.settings.get("picks_open")),
        "broadcast": round_.settings.get("broadcast") if running else None,
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


def publish_round(db: Db, round_: BreakoutRound, kind: str = "round.changed") -> None:
    """Log the round's summary, as it is now, on the session's channel."""
    db.flush()
    for group in round_.groups:
        db.refresh(group, ["members"])
    append_event(db, channel_for(round_.session_id), kind, round_summary(db, round_))


def _authorize(db: Db, actor: Actor, channel: str) -> bool:
    """Only the session's facilitators and its group's members may follow its breakouts."""
    session_id = _session_id_of_channel(channel)
    if session_id is None:
        return False
    try:
        session_for_actor(db, actor, session_id)
    except (NotFound, NotAllowed):
        return False
    return True


def _session_id_of_channel(channel: str) -> int | None:
    ids = channel_ids(channel, CHANNEL_PREFIX)
    return ids[0] if ids is not None and len(ids) == 1 else None


def _snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    session_id = _session_id_of_channel(channel)
    if session_id is None:
        raise NotFound()
    session = session_for_actor(db, actor, session_id)
    return {"rounds": [round_summary(db, r) for r in rounds_of(db, session)]}


register_channel(CHANNEL_PREFIX, authorize=_authorize, snapshot=_snapshot)

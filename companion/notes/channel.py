"""The notes' live channels: what a client missed since a seq (the polling fallback), who may
watch a channel and the snapshot they get.

Importing this module registers the "notes" channel; `companion.notes.views` imports it, so it
is registered whenever the app (and with it the live server) is built.
"""

from __future__ import annotations

from typing import Any

from companion.accounts.identity import Actor
from companion.core.db import Db
from companion.core.errors import NotAllowed, NotFound
from companion.core.events import channel_ids, current_seq, events_since, register_channel
from companion.notes.access import CHANNEL_PREFIX, can_read, channel_of, find_space
from companion.notes.models import NoteSpace
from companion.notes.payloads import space_out
from companion.notes.schemas import SpaceEventsOut
from companion.sessions.operations import session_for_actor


def space_events(db: Db, space: NoteSpace, after: int) -> SpaceEventsOut:
    """Events after `after` on the space's channel, or a snapshot when too far behind."""
    channel = channel_of(space)
    seq = current_seq(db, channel)
    events = events_since(db, channel, after)
    if events is None:
        return SpaceEventsOut(seq=seq, snapshot=space_out(db, space))
    return SpaceEventsOut(seq=seq, events=[e.message() for e in events])


def _parse_channel(channel: str) -> tuple[int, int | None] | None:
    ids = channel_ids(channel, CHANNEL_PREFIX)
    if ids is None or len(ids) > 2:
        return None
    return ids[0], (ids[1] if len(ids) == 2 else None)


def _authorize_channel(db: Db, actor: Actor, channel: str) -> bool:
    parsed = _parse_channel(channel)
    if parsed is None:
        return False
    session_id, group_id = parsed
    try:
        session = session_for_actor(db, actor, session_id)
    except (NotFound, NotAllowed):
        return False
    space = find_space(db, session.id, group_id)
    if space is None:
        return actor.facilitator is not None or group_id is None
    return can_read(db, actor, space)


def _channel_snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    parsed = _parse_channel(channel)
    space = find_space(db, *parsed) if parsed else None
    if space is None:
        return {"items": [], "actions": [], "summary": None, "missing": True}
    return space_out(db, space).model_dump(mode="json")


register_channel(CHANNEL_PREFIX, authorize=_authorize_channel, snapshot=_channel_snapshot)

"""The live event log: per-channel gap-free sequence numbers, and the channel registry.

Every write that others should see live appends a `LiveEvent` in the writer's transaction;
after commit the event goes out on the bus. The log is the record: a live server that missed
a bus message, or a client that was offline, reads what it missed with `events_since`.

A feature plugs its channels in with `register_channel("board", authorize=..., snapshot=...)`;
its channel keys are then "board:<something>".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from companion.core.db import Base, Db, after_commit, utcnow
from companion.core.identity import Actor, ActorT
from companion.core.jobs import periodic

log = logging.getLogger(__name__)

#: How many events a reconnecting client may be behind before it gets a fresh snapshot.
REPLAY_LIMIT = 500


class LiveChannel(Base):
    """A channel of live events (e.g. "board:12") and the last sequence number it gave out."""

    __tablename__ = "live_channel"

    #: "<prefix>:<id>", e.g. "board:12" or "notes:7".
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    #: Sequence number of the newest event; the next event gets last_seq + 1.
    last_seq: Mapped[int] = mapped_column(default=0)


class LiveEvent(Base):
    """One change on a channel, numbered without gaps in commit order."""

    __tablename__ = "live_event"
    __table_args__ = (
        UniqueConstraint("channel", "seq"),
        Index("ix_live_event_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(
        String(120), ForeignKey("live_channel.key", ondelete="CASCADE")
    )
    #: 1, 2, 3 ... per channel; a client that saw n asks for what follows n.
    seq: Mapped[int] = mapped_column()
    #: What happened, e.g. "topic.proposed"; clients use it for announcements.
    kind: Mapped[str] = mapped_column(String(60))
    #: The new state of what changed (full objects, so applying an event twice is harmless).
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def message(self) -> dict[str, Any]:
        """The event as the bus and the clients carry it."""
        return {"seq": self.seq, "kind": self.kind, "data": self.data}


_CHANNELS_TABLE: Table = LiveChannel.__table__  # type: ignore[assignment]
_EVENTS_TABLE: Table = LiveEvent.__table__  # type: ignore[assignment]

# Core statements, built once: these run in every write that others see live, and the ORM's
# unit of work (an object per event, a flush) costs more than the two statements themselves.
_NEXT_SEQ = (
    update(_CHANNELS_TABLE)
    .where(_CHANNELS_TABLE.c.key == bindparam("channel"))
    .values(last_seq=_CHANNELS_TABLE.c.last_seq + 1)
    .returning(_CHANNELS_TABLE.c.last_seq)
)
_INSERT_EVENT = insert(_EVENTS_TABLE)


def _allocate_seq(db: Db, channel: str) -> int:
    """Take the channel's next number; the row lock keeps concurrent writers gap-free."""
    # UPDATE ... RETURNING takes the row lock (as SELECT ... FOR UPDATE would) and increments
    # in one round trip; a second writer waits for the first transaction, then sees its number.
    # On SQLite the writer already holds the database's write lock from BEGIN IMMEDIATE.
    connection = db.connection()
    seq = connection.execute(_NEXT_SEQ, {"channel": channel}).scalar()
    if seq is not None:
        return int(seq)
    insert_ = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert_(_CHANNELS_TABLE).values(key=channel, last_seq=0).on_conflict_do_nothing()
    )
    return int(connection.execute(_NEXT_SEQ, {"channel": channel}).scalar_one())


def append_event(db: Db, channel: str, kind: str, data: dict[str, Any]) -> LiveEvent:
    """Log an event in the caller's transaction; it is published on the bus after commit.

    The caller's pending changes are flushed first, so they are written before the event.
    The returned `LiveEvent` is a plain record of what was written (not kept in the session).
    """
    db.flush()
    seq = _allocate_seq(db, channel)
    created_at = utcnow()
    result = db.connection().execute(
        _INSERT_EVENT,
        {"channel": channel, "seq": seq, "kind": kind, "data": data, "created_at": created_at},
    )
    event = LiveEvent(channel=channel, seq=seq, kind=kind, data=data, created_at=created_at)
    primary_key = result.inserted_primary_key
    event.id = primary_key[0] if primary_key else None  # type: ignore[assignment]
    if has_app_context():
        from companion.core.bus import get_bus

        bus = get_bus(current_app._get_current_object())  # type: ignore[attr-defined]
        # "at" (the commit's time, roughly) lets live servers measure their fan-out lag; they
        # take it off before the event goes to clients.
        message = {**event.message(), "at": created_at.timestamp()}
        after_commit(db, lambda: bus.publish(channel, message))
    else:
        # Without an app there is no bus; live servers still find the event in the database.
        log.debug("append_event outside an app context: %s:%s not published", channel, seq)
    return event


def current_seq(db: Db, channel: str) -> int:
    """The channel's newest sequence number (0 before its first event)."""
    seq = db.scalar(select(LiveChannel.last_seq).where(LiveChannel.key == channel))
    return int(seq or 0)


def current_seqs(db: Db, channels: list[str]) -> dict[str, int]:
    """The newest sequence number of several channels at once (missing ones are 0)."""
    if not channels:
        return {}
    rows = db.execute(
        select(LiveChannel.key, LiveChannel.last_seq).where(LiveChannel.key.in_(channels))
    )
    found = {key: int(seq) for key, seq in rows}
    return {channel: found.get(channel, 0) for channel in channels}


def events_since(
    db: Db, channel: str, seq: int, limit: int | None = None
) -> list[LiveEvent] | None:
    """Events after `seq` in order; None when the caller needs a fresh snapshot instead.

    None means: more than `limit` events behind, ahead of the log (the database was reset),
    or some of the events were pruned.
    """
    limit = REPLAY_LIMIT if limit is None else limit
    last = current_seq(db, channel)
    if seq < 0 or seq > last or last - seq > limit:
        return None
    if seq == last:
        return []
    events = list(
        db.scalars(
            select(LiveEvent)
            .where(LiveEvent.channel == channel, LiveEvent.seq > seq, LiveEvent.seq <= last)
            .order_by(LiveEvent.seq)
        )
    )
    if len(events) != last - seq:
        return None
    return events


def prune_events(db: Db, older_than: timedelta) -> int:
    """Delete events older than `older_than`; clients that far behind get a snapshot."""
    result = db.execute(delete(LiveEvent).where(LiveEvent.created_at < utcnow() - older_than))
    return int(getattr(result, "rowcount", 0) or 0)


#: How long events are kept for clients resuming after a drop; older gaps get a snapshot.
EVENT_RETENTION = timedelta(days=2)


@periodic(3600)
def prune_old_events(db: Db) -> None:
    """Hourly: drop events no reconnecting client will ask for (they get a snapshot)."""
    prune_events(db, EVENT_RETENTION)


# --- the channel registry ---------------------------------------------------------------------

#: Whether an actor may watch a channel; a feature's rule, typed with its own actor class.
Authorize = Callable[[Db, ActorT, str], bool]
#: A channel's current state as an actor sees it.
Snapshot = Callable[[Db, ActorT, str], dict[str, Any]]


@dataclass(frozen=True)
class ChannelKind:
    """How one feature's channels are guarded and snapshotted."""

    prefix: str
    # Any: the actors core passes come from the registered identity provider, whose class
    # the feature's functions name; core itself cannot name it.
    authorize: Authorize[Any]
    snapshot: Snapshot[Any]


_CHANNELS: dict[str, ChannelKind] = {}


#: A channel key: a prefix and one to three ids, e.g. "board:12" or "notes:7:31".
CHANNEL_PATTERN = r"^[a-z]{1,30}(:[0-9]{1,10}){1,3}$"
_CHANNEL = re.compile(CHANNEL_PATTERN)
#: Largest id a channel may name (the id columns are 32-bit).
_MAX_ID = 2**31 - 1


def channel_ids(channel: str, prefix: str) -> list[int] | None:
    """The ids of a channel key of `prefix` ("board:12" -> [12]), or None when the key is
    malformed: another prefix, anything but ASCII digits, or an id no row can have."""
    if not isinstance(channel, str) or not _CHANNEL.fullmatch(channel):
        return None
    name, *parts = channel.split(":")
    if name != prefix:
        return None
    ids = [int(part) for part in parts]
    if not all(0 < value <= _MAX_ID for value in ids):
        return None
    return ids


def _prefix_of(channel: str) -> str:
    return channel.split(":", 1)[0]


def register_channel(
    prefix: str, *, authorize: Authorize[ActorT], snapshot: Snapshot[ActorT]
) -> None:
    """Plug in a feature's channels ("board" or "board:" both mean keys "board:<...>")."""
    name = prefix.rstrip(":")
    _CHANNELS[name] = ChannelKind(name, authorize, snapshot)


def channel_kind(channel: str) -> ChannelKind | None:
    """The registration serving `channel`, or None for an unknown prefix."""
    if ":" not in channel:
        return None
    return _CHANNELS.get(_prefix_of(channel))


def authorize_channel(db: Db, actor: Actor, channel: str) -> bool:
    """Whether the actor may watch the channel (False for unknown channels)."""
    kind = channel_kind(channel)
    return kind is not None and kind.authorize(db, actor, channel)


def snapshot_channel(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    """The channel's current state as the actor sees it."""
    kind = channel_kind(channel)
    if kind is None:
        raise LookupError(channel)
    return kind.snapshot(db, actor, channel)

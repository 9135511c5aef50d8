"""The event log: gap-free numbers under concurrency, publish after commit only, replay rules."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.core.bus import InProcessBus
from companion.core.db import Db, get_database
from companion.core.events import (
    LiveEvent,
    append_event,
    authorize_channel,
    current_seq,
    current_seqs,
    events_since,
    prune_events,
    register_channel,
    snapshot_channel,
)


def _append(app: Flask, channel: str, kind: str = "x", *, commit: bool = True) -> int:
    with app.app_context(), get_database(app).session() as db:
        event = append_event(db, channel, kind, {"k": kind})
        if commit:
            db.commit()
        else:
            db.rollback()
        return event.seq


def test_numbers_start_at_one_per_channel(app: Flask, db: Db) -> None:
    assert current_seq(db, "ev:1") == 0
    db.rollback()  # end the read so the next one sees the writers' commits
    assert [_append(app, "ev:1") for _ in range(3)] == [1, 2, 3]
    assert _append(app, "ev:2") == 1
    assert current_seqs(db, ["ev:1", "ev:2", "ev:3"]) == {"ev:1": 3, "ev:2": 1, "ev:3": 0}


def test_published_after_commit_and_never_after_rollback(app: Flask) -> None:
    bus = InProcessBus()
    received: list[tuple[str, dict[str, Any]]] = []
    bus.subscribe(lambda channel, message: received.append((channel, message)))
    original = app.extensions["companion.bus"]
    app.extensions["companion.bus"] = bus
    try:
        with app.app_context(), get_database(app).session() as db:
            append_event(db, "ev:3", "first", {"a": 1})
            append_event(db, "ev:3", "second", {"a": 2})
            assert received == []  # not before commit
            db.commit()
        assert [(c, {k: v for k, v in m.items() if k != "at"}) for c, m in received] == [
            ("ev:3", {"seq": 1, "kind": "first", "data": {"a": 1}}),
            ("ev:3", {"seq": 2, "kind": "second", "data": {"a": 2}}),
        ]
        assert all(isinstance(m["at"], float) for _c, m in received)  # for the fan-out lag
        _append(app, "ev:3", commit=False)
        assert len(received) == 2
        assert _append(app, "ev:3") == 3  # the rolled-back number is given again: no gap
    finally:
        app.extensions["companion.bus"] = original


def test_concurrent_writers_get_gap_free_unique_numbers(app: Flask, db: Db) -> None:
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                _append(app, "ev:4")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    seqs = sorted(db.scalars(select(LiveEvent.seq).where(LiveEvent.channel == "ev:4")))
    assert seqs == list(range(1, 41))


def test_events_since(app: Flask, db: Db) -> None:
    for _ in range(5):
        _append(app, "ev:5")
    assert [e.seq for e in events_since(db, "ev:5", 2) or []] == [3, 4, 5]
    assert events_since(db, "ev:5", 5) == []
    assert events_since(db, "ev:5", 6) is None  # ahead of the log: the database was reset
    assert events_since(db, "ev:5", -1) is None
    assert events_since(db, "ev:5", 0, limit=3) is None  # too far behind
    assert events_since(db, "ev:6", 0) == []


def test_pruned_events_mean_a_fresh_snapshot(app: Flask, db: Db) -> None:
    for _ in range(3):
        _append(app, "ev:7")
    assert prune_events(db, timedelta(seconds=-1)) >= 3
    db.commit()
    assert events_since(db, "ev:7", 1) is None
    assert events_since(db, "ev:7", 3) == []


def test_channel_registry(app: Flask, db: Db, make_facilitator: Any) -> None:
    register_channel(
        "regtest:",
        authorize=lambda _db, actor, channel: channel.endswith(":1"),
        snapshot=lambda _db, actor, channel: {"channel": channel},
    )
    actor = Actor(facilitator=make_facilitator())
    assert authorize_channel(db, actor, "regtest:1")
    assert not authorize_channel(db, actor, "regtest:2")
    assert not authorize_channel(db, actor, "unknown:1")
    assert not authorize_channel(db, actor, "regtest")
    assert snapshot_channel(db, actor, "regtest:1") == {"channel": "regtest:1"}


def test_the_worker_prunes_old_events_hourly(app: Flask, db: Db) -> None:
    from sqlalchemy import update

    from companion.core.db import utcnow
    from companion.core.jobs import Worker

    _append(app, "ev:8")
    _append(app, "ev:8")
    db.execute(
        update(LiveEvent).where(LiveEvent.seq == 1).values(created_at=utcnow() - timedelta(days=3))
    )
    db.commit()
    Worker(app).run_once()  # a new worker runs every periodic check at once
    db.rollback()
    assert [e.seq for e in db.scalars(select(LiveEvent).where(LiveEvent.channel == "ev:8"))] == [2]

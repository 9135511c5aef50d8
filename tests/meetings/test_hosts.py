"""Rooms are made in their host's account on every platform: a room made again after a
cancellation, or by the worker's retry, has the host the session was scheduled by."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from flask import Flask
from sqlalchemy import select

from companion.core.db import Db, utcnow
from companion.core.jobs import Worker
from companion.meetings.models import MeetingRoom
from companion.meetings.platform import Room, RoomSpec
from companion.sessions import operations as ops
from companion.sessions.schemas import SessionIn
from tests.fakes.platform import FakePlatform, install


class HostedPlatform(FakePlatform):
    """Records whose account each room was made in."""

    name = "hosted"
    label = "Hosted"
    hosts: ClassVar[list[tuple[str, int | None]]] = []

    def __init__(self, config: Any, db: Any, host_facilitator_id: int | None = None) -> None:
        self.host = host_facilitator_id

    def create_room(self, spec: RoomSpec) -> Room:
        room = super().create_room(spec)
        type(self).hosts.append((spec.key, self.host))
        return room


@pytest.fixture()
def hosted(monkeypatch: pytest.MonkeyPatch) -> type[HostedPlatform]:
    platform = install(monkeypatch, HostedPlatform, down=False)
    HostedPlatform.hosts = []
    return platform  # type: ignore[return-value]


def test_cancel_and_restore_keep_the_host(
    app: Flask, db: Db, make_programme: Any, make_facilitator: Any, hosted: type[HostedPlatform]
) -> None:
    host = make_facilitator()
    programme = make_programme(facilitator=host, platform="hosted")
    tomorrow = (utcnow() + timedelta(days=1)).date()
    with app.app_context():
        session = ops.create_session(
            db,
            programme,
            SessionIn(
                group_id=programme.groups[0].id, title="S", date=tomorrow, start_time="09:00"
            ),
            host=host,
        )
        db.commit()
        ops.cancel_session(db, session)
        db.commit()
        ops.restore_session(db, session)
        db.commit()
    key = f"session-{session.id}"
    assert HostedPlatform.hosts == [(key, host.id), (key, host.id)]
    assert session.room is not None and session.room.data["host_facilitator_id"] == host.id


def test_the_worker_retries_with_the_host(
    app: Flask, db: Db, make_programme: Any, make_facilitator: Any, hosted: type[HostedPlatform]
) -> None:
    host = make_facilitator()
    programme = make_programme(facilitator=host, platform="hosted")
    tomorrow = (utcnow() + timedelta(days=1)).date()
    hosted.down = True
    with app.app_context():
        session = ops.create_session(
            db,
            programme,
            SessionIn(
                group_id=programme.groups[0].id, title="S", date=tomorrow, start_time="09:00"
            ),
            host=host,
        )
        db.commit()
    row = db.scalar(select(MeetingRoom))
    assert row is not None and row.status == "failed"
    # A room failed before its host was written into it still finds its host.
    row.data = {k: v for k, v in row.data.items() if k != "host_facilitator_id"}
    db.commit()
    hosted.down = False
    Worker(app).run_once()
    db.rollback()
    assert HostedPlatform.hosts == [(f"session-{session.id}", host.id)]

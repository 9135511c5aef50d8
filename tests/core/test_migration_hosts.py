"""The room-host migration backfills each session's host from its latest plenary room."""

from __future__ import annotations

import sqlalchemy as sa

from companion.core.db import Database, upgrade_database
from tests.core.test_migration_presence import AT, _insert, database  # noqa: F401

BEFORE = "a100bea649b0"  # the Teams connections; no meeting_room_host yet


def test_hosts_come_from_the_latest_plenary_room(database: Database) -> None:  # noqa: F811
    upgrade_database(database, BEFORE)
    metadata = sa.MetaData()
    metadata.reflect(database.engine)
    t = metadata.tables
    with database.engine.begin() as connection:
        _insert(connection, t["organisation"], id=1, interest_token="tok")
        for fid in (7, 8):
            _insert(connection, t["facilitator"], id=fid, organisation_id=1, email=f"{fid}@x.fi")
        _insert(connection, t["programme"], id=1, organisation_id=1, timezone="Europe/Helsinki")
        _insert(connection, t["programme_group"], id=1, programme_id=1, intake_token="i")
        for sid in (1, 2, 3):
            _insert(connection, t["session"], id=sid, group_id=1, starts_at=AT)
        rooms = (
            (1, "plenary", {"host_facilitator_id": 7}),
            (1, "plenary", {"host_facilitator_id": 8}),  # made again later by the other host
            (2, "breakout", {"host_facilitator_id": 7}),  # not a plenary room
            (3, "plenary", {"host_facilitator_id": 99}),  # a facilitator who is gone
        )
        for sid, purpose, data in rooms:
            _insert(connection, t["meeting_room"], session_id=sid, purpose=purpose, data=data)
    upgrade_database(database)
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT session_id, facilitator_id FROM meeting_room_host")
        ).all()
    hosts = {session_id: facilitator_id for session_id, facilitator_id in rows}
    assert hosts == {1: 8}

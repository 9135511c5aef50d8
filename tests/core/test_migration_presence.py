"""The presence migration keeps every attendance fact: join links, Zoom's report, the
facilitator's ticks and breakout absences become presence reports, and a session whose summary
went out is marked so. Run on a database of its own (SQLite, or a schema of its own on the
PostgreSQL that CI tests on)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from companion.core.db import Database, upgrade_database

BEFORE = "c43e20fa9b4c"  # lifecycle columns and presence_report, the old tables still there
AT = datetime(2027, 4, 28, 6, 5, tzinfo=UTC)


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[Database]:
    url = os.environ.get("COMPANION_TEST_DATABASE_URL", "")
    if url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        admin = Database(url)
        with admin.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA migration_check"))
        admin.dispose()
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}options=-csearch_path%3Dmigration_check"
    else:
        url = f"sqlite:///{tmp_path / 'migration.sqlite'}"
    database = Database(url)
    yield database
    database.dispose()


def _blank(column: sa.Column[Any]) -> Any:
    """A value for a required column the test does not care about."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.Date):
        return AT.date()
    if isinstance(kind, sa.DateTime) or "datetime" in type(kind).__name__.lower():
        return AT
    if isinstance(kind, sa.JSON):
        return {}
    return ""


def _insert(connection: sa.Connection, table: sa.Table, **values: Any) -> None:
    for column in table.columns:
        if column.name not in values and not column.nullable and not column.primary_key:
            values[column.name] = _blank(column)
    connection.execute(table.insert().values(**values))


def test_attendance_and_absences_become_presence_reports(database: Database) -> None:
    upgrade_database(database, BEFORE)
    metadata = sa.MetaData()
    metadata.reflect(database.engine)
    t = metadata.tables
    with database.engine.begin() as connection:
        _insert(connection, t["organisation"], id=1, interest_token="tok")
        _insert(connection, t["programme"], id=1, organisation_id=1, timezone="Europe/Helsinki")
        _insert(connection, t["programme_group"], id=1, programme_id=1, intake_token="i")
        for person in (1, 2, 3, 4, 5):
            _insert(connection, t["participant"], id=person, programme_id=1, email=f"{person}@x.fi")
        _insert(connection, t["session"], id=1, group_id=1, starts_at=AT, status="ended")
        _insert(connection, t["session"], id=2, group_id=1, starts_at=AT, status="ended")
        _insert(connection, t["job"], kind="digest.send", dedupe_key="digest-1", run_at=AT)
        for person, source, minutes in (
            (1, "link", None),
            (2, "link+platform", 55),
            (3, "platform", 70),
            (4, "manual", None),
        ):
            _insert(
                connection,
                t["attendance"],
                session_id=1,
                participant_id=person,
                first_joined_at=AT,
                last_joined_at=AT,
                join_count=3 if source == "link" else 1,
                minutes_present=minutes,
                source=source,
            )
        _insert(connection, t["breakout_absence"], session_id=1, participant_id=5, created_at=AT)
    upgrade_database(database)
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT participant_id, source, present, count, minutes, detail "
                "FROM presence_report ORDER BY participant_id, source"
            )
        ).all()
        statuses = dict(connection.execute(sa.text("SELECT id, status FROM session")).all())
        tables = set(sa.inspect(connection).get_table_names())
    assert [tuple(r) for r in rows] == [
        (1, "link", True, 3, None, ""),
        (2, "link", True, 1, None, ""),
        (2, "platform", True, 1, 55, "zoom"),
        (3, "platform", True, 1, 70, "zoom"),
        (4, "facilitator", True, 1, None, ""),
        (5, "facilitator", False, 1, None, ""),
    ]
    # Session 1's digest run was queued: its summary went out. Session 2's was not.
    assert statuses == {1: "summary_sent", 2: "ended"}
    assert "attendance" not in tables and "breakout_absence" not in tables

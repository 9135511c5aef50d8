"""Attendance: recording what each source reports, and reading the one merged fact.

Writers: the join link (`record_join`), a platform's report (`record_platform_presence`),
the facilitator's mark (`mark_presence`). Breakout membership is not stored twice: the
breakouts package registers a reader of who sat in a group of a round that ran
(`register_breakout_source`). Readers: `presence_of` (one session) and `presence_by_session`
(many, in a few queries) give `presence.Presence` per participant; nothing else reads the
reports. Operations never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Insert, Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from companion.core.db import Db, utcnow
from companion.programmes.models import Membership
from companion.sessions import presence
from companion.sessions.lifecycle import StoredStatus
from companion.sessions.models import PresenceReport, Session
from companion.sessions.presence import Presence, PresenceSource, Report

#: Reads, for each of the given sessions, who sat in a breakout group of a round that ran.
BreakoutSource = Callable[[Db, Sequence[int]], dict[int, set[int]]]
_BREAKOUT_SOURCES: list[BreakoutSource] = []


def register_breakout_source(reader: BreakoutSource) -> BreakoutSource:
    """Register the reader of breakout membership (the breakouts package does, at import)."""
    if reader not in _BREAKOUT_SOURCES:
        _BREAKOUT_SOURCES.append(reader)
    return reader


# --- writing ------------------------------------------------------------------------------------


@cache
def _join_upsert(dialect: str) -> Insert:
    """The statement counting one opening, built once per database kind (each open of a link
    runs it; building and keying a new statement every time cost a millisecond)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, PresenceReport.__table__)
    statement = insert(table).values(
        session_id=bindparam("session_id"),
        participant_id=bindparam("participant_id"),
        source=PresenceSource.LINK.value,
        present=True,
        first_seen_at=bindparam("first_seen_at"),
        last_seen_at=bindparam("last_seen_at"),
        count=1,
        detail="",
        recorded_at=bindparam("recorded_at"),
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.session_id, table.c.participant_id, table.c.source],
        set_={
            "last_seen_at": statement.excluded.last_seen_at,
            "count": table.c.count + 1,
            "recorded_at": statement.excluded.recorded_at,
        },
    )


def record_join(
    db: Db, session_id: int, participant_id: int, *, at: datetime | None = None
) -> None:
    """Count one opening of the person's join link: one row even under concurrent opens."""
    at = at or utcnow()
    db.execute(
        _join_upsert(db.get_bind().dialect.name),
        {
            "session_id": session_id,
            "participant_id": participant_id,
            "first_seen_at": at,
            "last_seen_at": at,
            "recorded_at": at,
        },
    )


def record_platform_presence(
    db: Db,
    session: Session,
    participant_id: int,
    *,
    platform: str,
    joined_at: datetime,
    left_at: datetime | None,
    minutes: int | None,
) -> PresenceReport:
    """Fold one platform record (a join and leave) into the person's platform report.

    The earliest join and the latest leave win; minutes add up over records, so call it once
    per record of a report (a meeting that ran twice has two instances, each with records).
    """
    row = _report(db, session.id, participant_id, PresenceSource.PLATFORM)
    if row is None:
        row = PresenceReport(
            session_id=session.id,
            participant_id=participant_id,
            source=PresenceSource.PLATFORM.value,
            present=True,
            first_seen_at=joined_at,
            last_seen_at=left_at or joined_at,
            count=1,
            minutes=minutes,
            detail=platform,
        )
        db.add(row)
    else:
        row.first_seen_at = min(row.first_seen_at or joined_at, joined_at)
        row.last_seen_at = max(row.last_seen_at or joined_at, left_at or joined_at)
        row.count += 1
        if minutes is not None:
            row.minutes = (row.minutes or 0) + minutes
        row.detail = platform
        row.recorded_at = utcnow()
    db.flush()
    return row


def clear_platform_presence(db: Db, session: Session, *, platform: str) -> None:
    """Forget a platform's reports of a session before importing its report afresh."""
    db.execute(
        delete(PresenceReport).where(
            PresenceReport.session_id == session.id,
            PresenceReport.source == PresenceSource.PLATFORM.value,
            PresenceReport.detail == platform,
        )
    )
    db.flush()


def mark_presence(
    db: Db, session: Session, participant_id: int, present: bool | None, *, by: int | None = None
) -> None:
    """The facilitator's mark: present, absent, or None to take the mark back."""
    row = _report(db, session.id, participant_id, PresenceSource.FACILITATOR)
    if present is None:
        if row is not None:
            db.delete(row)
            db.flush()
        return
    if row is None:
        row = PresenceReport(
            session_id=session.id,
            participant_id=participant_id,
            source=PresenceSource.FACILITATOR.value,
        )
        db.add(row)
    row.present = present
    row.detail = "" if by is None else str(by)
    row.recorded_at = utcnow()
    db.flush()


def marked_absent(db: Db, session_id: int) -> set[int]:
    """Who the facilitator marked absent (in advance or afterwards)."""
    return set(
        db.scalars(
            select(PresenceReport.participant_id).where(
                PresenceReport.session_id == session_id,
                PresenceReport.source == PresenceSource.FACILITATOR.value,
                PresenceReport.present.is_(False),
            )
        )
    )


def _report(
    db: Db, session_id: int, participant_id: int, source: PresenceSource
) -> PresenceReport | None:
    return db.scalar(
        select(PresenceReport).where(
            PresenceReport.session_id == session_id,
            PresenceReport.participant_id == participant_id,
            PresenceReport.source == source.value,
        )
    )


# --- reading ------------------------------------------------------------------------------------


def is_settled(session: Session) -> bool:
    """Whether presence is decided for everyone: the session has ended. Until then someone
    nobody has seen is expected, not absent."""
    return session.status in (StoredStatus.ENDED, StoredStatus.SUMMARY_SENT)


def presence_by_session(db: Db, sessions: Sequence[Session]) -> dict[int, dict[int, Presence]]:
    """For each session, each member of its group (and anyone reported) and their fact."""
    if not sessions:
        return {}
    ids = [s.id for s in sessions]
    reports: dict[tuple[int, int], list[Report]] = defaultdict(list)
    for row in db.scalars(select(PresenceReport).where(PresenceReport.session_id.in_(ids))):
        reports[(row.session_id, row.participant_id)].append(
            Report(
                PresenceSource(row.source),
                row.present,
                row.minutes,
                row.first_seen_at,
                row.last_seen_at,
            )
        )
    for reader in _BREAKOUT_SOURCES:
        for session_id, people in reader(db, ids).items():
            for person in people:
                reports[(session_id, person)].append(Report(PresenceSource.BREAKOUT, True))
    members: dict[int, set[int]] = defaultdict(set)
    by_group: dict[int, list[int]] = defaultdict(list)
    for session in sessions:
        by_group[session.group_id].append(session.id)
    for group_id, participant_id in db.execute(
        select(Membership.group_id, Membership.participant_id).where(
            Membership.group_id.in_(list(by_group))
        )
    ):
        for session_id in by_group[group_id]:
            members[session_id].add(participant_id)
    result: dict[int, dict[int, Presence]] = {}
    for session in sessions:
        settled = is_settled(session)
        people = members[session.id] | {p for (s, p) in reports if s == session.id}
        result[session.id] = {
            person: presence.merge(reports.get((session.id, person), ()), settled=settled)
            for person in people
        }
    return result


def presence_of(db: Db, session: Session) -> dict[int, Presence]:
    """Each member of the session's group (and anyone reported) and whether they were there."""
    return presence_by_session(db, [session])[session.id]


def attended(db: Db, session: Session) -> set[int]:
    """Who was at the session, by the merged fact."""
    return presence.present_ids(presence_of(db, session))


def reports_of(
    db: Db, session: Session, people: Collection[int] | None = None
) -> list[PresenceReport]:
    """The raw reports of a session (for the presence list's "seen by" column)."""
    query = select(PresenceReport).where(PresenceReport.session_id == session.id)
    if people is not None:
        query = query.where(PresenceReport.participant_id.in_(list(people)))
    return list(db.scalars(query.order_by(PresenceReport.participant_id, PresenceReport.id)))

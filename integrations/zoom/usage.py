"""Zoom's per-host daily limit on meeting creations and updates, counted before it bites.

NOTES §2.1: "100 create+update requests per host user per 24 h (resets 00:00 UTC)"; the 429
that enforces it came without `X-RateLimit-Type`/`Retry-After` (NOTES §2.5). Kollega counts
what it sends, shows what is left, refuses before Zoom does, and remembers a daily 429.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from companion.core.db import Db, utcnow
from integrations.zoom.errors import ZoomError
from integrations.zoom.models import ZoomDailyUsage
from integrations.zoom.tokens import counting_transaction, is_sqlite

#: Meeting create/update requests Zoom allows per host user per UTC day (NOTES §2.1).
DAILY_MEETING_LIMIT = 100
#: Below this many left, pages warn the facilitator.
LOW_QUOTA = 10


def next_reset(now: datetime | None = None) -> datetime:
    """The next 00:00 UTC, when Zoom's daily count starts over (NOTES §2.1)."""
    now = now or utcnow()
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)


def _today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(UTC).date()


@dataclass(frozen=True)
class Quota:
    """How much of today's limit a host has used."""

    used: int
    limit: int
    resets_at: datetime
    blocked_until: datetime | None = None

    @property
    def left(self) -> int:
        """Creations and updates still allowed today."""
        if self.blocked_until is not None:
            return 0
        return max(0, self.limit - self.used)

    @property
    def low(self) -> bool:
        """Whether to warn the facilitator."""
        return self.left < LOW_QUOTA


def quota(db: Db, host_key: str, now: datetime | None = None) -> Quota:
    """Today's count for a host."""
    now = now or utcnow()
    row = db.scalar(
        select(ZoomDailyUsage).where(
            ZoomDailyUsage.host_key == host_key, ZoomDailyUsage.day == _today(now)
        )
    )
    blocked = row.blocked_until if row and row.blocked_until and row.blocked_until > now else None
    return Quota(row.requests if row else 0, DAILY_MEETING_LIMIT, next_reset(now), blocked)


def check_quota(db: Db, host_key: str, needed: int = 1) -> Quota:
    """The host's quota, or a ZoomError before Zoom would refuse."""
    current = quota(db, host_key)
    if current.left < needed:
        until = current.blocked_until or current.resets_at
        raise ZoomError(
            _(
                "Zoom allows %(limit)s meeting creations and changes per host a day, and today's "
                "are used up. Kollega tries again after %(time)s UTC.",
                limit=current.limit,
                time=until.strftime("%Y-%m-%d %H:%M"),
            ),
            temporary=True,
            retry_at=until,
        )
    return current


def _upsert(db: Db, host_key: str, *, add: int, blocked_until: datetime | None) -> None:
    insert = sqlite_insert if is_sqlite(db) else pg_insert
    values = {
        "host_key": host_key,
        "day": _today(),
        "requests": add,
        "blocked_until": blocked_until,
    }
    statement = insert(ZoomDailyUsage).values(**values)
    changes: dict[str, object] = {"requests": ZoomDailyUsage.requests + add}
    if blocked_until is not None:
        changes["blocked_until"] = blocked_until
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[ZoomDailyUsage.host_key, ZoomDailyUsage.day], set_=changes
        )
    )


def count_meeting_write(db: Db, host_key: str) -> None:
    """Count one create/update request sent for the host (it counts whatever the caller does)."""
    if not host_key:
        return
    with counting_transaction(db) as tx:
        _upsert(tx, host_key, add=1, blocked_until=None)


def block_host(db: Db, host_key: str, until: datetime) -> None:
    """Zoom said the host's daily limit is reached: send nothing more until `until`."""
    if not host_key:
        return
    with counting_transaction(db) as tx:
        _upsert(tx, host_key, add=0, blocked_until=until)

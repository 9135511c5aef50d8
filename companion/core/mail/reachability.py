"""Whether the mail server can be reached, shared by every worker through the database.

A refused connection, a timeout, a TLS or sign-in failure is the server's trouble, not a
message's: no message's attempts are spent on it. Instead the whole transport backs off
(`note_unreachable`: 2 s, doubling up to a minute, for every worker alike, since they share
the row), and the outbox page tells facilitators that the mail server is unreachable. The
first batch that connects again clears it (`note_reachable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, Text, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from companion.core.db import Base, Db, utcnow

#: First wait after the server could not be reached; it doubles with each failure.
FIRST_RETRY = timedelta(seconds=2)
#: Longest wait between two tries to reach the server.
MAX_RETRY = timedelta(seconds=60)


class MailServerState(Base):
    """One row (id 1) while the mail server is or was unreachable."""

    __tablename__ = "mail_server_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: When the current outage began; None once the server answered again.
    down_since: Mapped[datetime | None] = mapped_column(default=None)
    #: No worker tries the server before this.
    retry_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Failed tries in a row (the backoff doubles with each).
    failures: Mapped[int] = mapped_column(default=0)
    #: What the last try ran into (no message content).
    last_error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


_TABLE: Table = MailServerState.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class ServerStatus:
    """The mail server as the workers last found it."""

    down_since: datetime | None
    retry_at: datetime | None
    last_error: str

    @property
    def down(self) -> bool:
        """Whether the server could not be reached at the last try."""
        return self.down_since is not None


UP = ServerStatus(None, None, "")


def server_status(connection: Connection | Db) -> ServerStatus:
    """The shared state (UP when no outage was ever recorded)."""
    row = connection.execute(
        select(_TABLE.c.down_since, _TABLE.c.retry_at, _TABLE.c.last_error).where(_TABLE.c.id == 1)
    ).first()
    if row is None:
        return UP
    return ServerStatus(row.down_since, row.retry_at, row.last_error or "")


def note_unreachable(connection: Connection | Db, error: str) -> ServerStatus:
    """Record a failed try and set when the next may be made (the caller commits)."""
    now = utcnow()
    current = connection.execute(
        select(_TABLE.c.failures, _TABLE.c.down_since).where(_TABLE.c.id == 1)
    ).first()
    failures = (current.failures if current and current.down_since else 0) + 1
    wait = min(FIRST_RETRY * 2 ** (failures - 1), MAX_RETRY)
    down_since = current.down_since if current and current.down_since else now
    values = {
        "down_since": down_since,
        "retry_at": now + wait,
        "failures": failures,
        "last_error": error[:500],
        "updated_at": now,
    }
    insert = pg_insert if _dialect(connection) == "postgresql" else sqlite_insert
    statement = insert(_TABLE).values(id=1, **values)
    connection.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))
    return ServerStatus(down_since, now + wait, error[:500])


def note_reachable(connection: Connection | Db) -> None:
    """The server answered: clear the outage (the caller commits)."""
    connection.execute(
        update(_TABLE)
        .where(_TABLE.c.id == 1)
        .values(down_since=None, retry_at=None, failures=0, updated_at=utcnow())
    )


def _dialect(connection: Connection | Db) -> str:
    bind = connection.get_bind() if isinstance(connection, Db) else connection
    return bind.dialect.name

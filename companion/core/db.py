"""The database: engine, sessions, the declarative base and shared column types.

Operations receive a `Session` and never commit on their own; the caller (a view, the CLI,
the worker, the live server) commits, so one request is one transaction.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from flask import Flask, current_app, g
from sqlalchemy import JSON, DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[dict[str, str]]: JSON(),
        list[Any]: JSON(),
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the worker and the web threads read while one writes; foreign keys are off by
    # default in SQLite; busy_timeout makes concurrent writers wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Whether SQLite transactions begin IMMEDIATE (taking the write lock up front). Writers need
#: it: a deferred transaction that reads and then writes fails at once ("database is locked")
#: if another writer committed in between. Readers must not take it, or every page view would
#: queue behind every write. Requests set it from their method (see `init_app`), everything
#: else (worker, CLI) writes and keeps the default.
_BEGIN_IMMEDIATE: ContextVar[bool] = ContextVar("kollega_begin_immediate", default=True)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


#: How long a writer waits for the others in this process before giving up.
WRITE_LOCK_TIMEOUT = 30.0


class _WriteQueue:
    """Writers of one process queue on a lock before SQLite's BEGIN IMMEDIATE.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so writers that collide
    wait far longer than the write takes; queueing in-process wakes the next writer the
    moment the previous one commits. Other processes still meet SQLite's busy handler.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def begin(self, conn: Any) -> None:
        if not _BEGIN_IMMEDIATE.get():
            conn.exec_driver_sql("BEGIN")
            return
        if not self.lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
            raise TimeoutError("another writer held the database for too long")
        conn.info["kollega_write_lock"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn: Any) -> None:
        if conn.info.pop("kollega_write_lock", False):
            self.lock.release()


@contextmanager
def reading() -> Iterator[None]:
    """Within this block SQLite transactions begin deferred (for read-only work)."""
    token = _BEGIN_IMMEDIATE.set(False)
    try:
        yield
    finally:
        _BEGIN_IMMEDIATE.reset(token)


def writes(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET view that writes (a join link records attendance), so it takes the lock."""
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=lambda obj: json.dumps(obj, ensure_ascii=False),
            connect_args={"check_same_thread": False, "timeout": 10},
            # A pool keeps connections open: opening one costs PRAGMAs, and closing the last
            # one checkpoints the WAL, both far slower than the write itself.
            pool_size=10,
            max_overflow=20,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is turned off so BEGIN IMMEDIATE is ours.
        event.listen(
            engine,
            "connect",
            lambda dbapi_conn, _rec: setattr(dbapi_conn, "isolation_level", None),
        )
        queue = _WriteQueue()
        event.listen(engine, "begin", queue.begin)
        event.listen(engine, "commit", queue.end)
        # "commit" fires just before COMMIT runs: a writer let in then meets SQLite's busy
        # handler for about a millisecond, which is cheap. A session closed mid-transaction
        # rolls back, which releases the queue too.
        event.listen(engine, "rollback", queue.end)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        json_serializer=lambda obj: json.dumps(obj, ensure_ascii=False),
    )


class Database:
    """An engine and its session factory; one per application."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for work outside a request; rolls back on error and always closes."""
        session = self.sessionmaker()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def init_app(app: Flask, database: Database) -> None:
    """Bind the database to the app; each request gets its own session, closed at teardown."""
    app.extensions["companion.db"] = database

    @app.before_request
    def _choose_begin_mode() -> None:
        from flask import request

        view = app.view_functions.get(request.endpoint or "")
        immediate = request.method not in SAFE_METHODS or getattr(view, "writes_on_get", False)
        g.begin_mode_token = _BEGIN_IMMEDIATE.set(immediate)

    @app.teardown_request
    def _restore_begin_mode(_exc: BaseException | None) -> None:
        token = g.pop("begin_mode_token", None)
        if token is not None:
            _BEGIN_IMMEDIATE.reset(token)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def get_database(app: Flask | None = None) -> Database:
    """The application's Database."""
    database: Database = (app or current_app).extensions["companion.db"]
    return database


def get_db() -> Session:
    """The session of the current request (or app context), created on first use."""
    if "db_session" not in g:
        g.db_session = get_database().sessionmaker()
    session: Session = g.db_session
    return session


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction has committed (never on rollback)."""
    callbacks: list[Callable[[], None]] = session.info.setdefault("after_commit", [])
    callbacks.append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks: list[Callable[[], None]] = session.info.pop("after_commit", [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop("after_commit", None)


#: The type operations take for their database session (named apart from the `Session` model).
Db = Session


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database: Database) -> Any:
    """Alembic's configuration for this database (migrations ship inside the package)."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    config.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    config.set_main_option("truncate_slug_length", "40")
    return config


def upgrade_database(database: Database, revision: str = "head") -> None:
    """Apply migrations up to `revision`; concurrent starters wait for each other."""
    from alembic import command

    config = alembic_config(database)
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting at once must not both run the same migration.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727172)")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


_HEADS: list[frozenset[str]] = []


def code_heads(database: Database) -> frozenset[str]:
    """The migration heads this code expects (read once per process)."""
    if not _HEADS:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config(database))
        _HEADS.append(frozenset(script.get_heads()))
    return _HEADS[0]


def schema_revision(database: Database) -> str | None:
    """The database's current migration revision (None before the first)."""
    from alembic.runtime.migration import MigrationContext

    # Read-only: on SQLite a deferred transaction, so it never waits for (or holds) the
    # write lock, not even one its own thread holds on another connection.
    with reading(), database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_is_current(database: Database) -> tuple[bool, str | None]:
    """Whether the database answers at this code's migration head, and its revision.

    Raises the driver's error when the database cannot be reached.
    """
    revision = schema_revision(database)
    return revision in code_heads(database), revision


def create_missing_schema(database: Database) -> list[str]:
    """Create tables and add columns the models have and the migrations do not yet.

    For tests and benchmarks of a branch whose migration is still to be written (the
    integrator writes migrations); a no-op on a database the migrations fully describe.
    Returns what it added, as "table" or "table.column".
    """
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateColumn

    added: list[str] = []
    with reading():
        existing = set(inspect(database.engine).get_table_names())
    Base.metadata.create_all(database.engine)
    added += [name for name in Base.metadata.tables if name not in existing]
    with reading():
        inspector = inspect(database.engine)
        present = {
            name: {column["name"] for column in inspector.get_columns(name)}
            for name in Base.metadata.tables
            if name in existing
        }
    missing = [
        (name, column)
        for name, table in Base.metadata.tables.items()
        if name in present
        for column in table.columns
        if column.name not in present[name]
    ]
    if missing:
        with database.engine.begin() as connection:
            for name, column in missing:
                definition = CreateColumn(column).compile(dialect=database.engine.dialect)
                connection.exec_driver_sql(f'ALTER TABLE "{name}" ADD COLUMN {definition}')
                added.append(f"{name}.{column.name}")
    return added

"""Shared fixtures: one app per test session, a clean database per test, factories, services.

The database is SQLite in a temporary folder unless `COMPANION_TEST_DATABASE_URL` names
another (CI runs the suite on PostgreSQL too). The schema is built by the Alembic
migrations, so every run also tests them.

Real services (SMTP via aiosmtpd, Redis, PostgreSQL, Chromium) are started by fixtures in
`tests/services.py`. Locally a test may skip when a service is missing; under `CI=true` a
missing service fails the test.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from companion.core.db import (
    Base,
    Database,
    Db,
    create_missing_schema,
    get_database,
    reading,
    upgrade_database,
)
from tests import factories
from tests.fakes.zoom_fixture import fake_zoom  # noqa: F401 - re-exported fixture
from tests.services import (  # noqa: F401 - re-exported fixtures
    browser,
    live_server,
    redis_url,
    require_service,
    smtp_server,
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _reset_schema(url: str) -> None:
    """Start every test run from an empty database."""
    if url.startswith("postgresql"):
        database = Database(url)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        database.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application, built once for the whole test session."""
    from companion.app import create_app

    instance = tmp_path_factory.mktemp("instance")
    url = os.environ.get("COMPANION_TEST_DATABASE_URL", "")
    if url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        _reset_schema(url)
    port = free_port()
    application = create_app(
        {
            "instance_path": instance,
            "database_url": url or f"sqlite:///{instance / 'test.sqlite'}",
            "secret_key": "test-secret-key-not-for-production",
            "base_url": f"http://127.0.0.1:{port}",
            "testing": True,
            "default_language": "en",
            "live_port": 0,
        }
    )
    application.config["TEST_PORT"] = port
    application.config["MAIL_RETRY_SECONDS"] = 0.0
    application.config["JOB_RETRY_SECONDS"] = 0.0
    database = get_database(application)
    upgrade_database(database)
    # Tables and columns of models whose migration is not written yet; the migration test
    # catches them.
    create_missing_schema(database)
    yield application
    database.dispose()


def _clean(database: Database) -> None:
    # DELETE in reverse dependency order: on PostgreSQL it is much faster than TRUNCATE for
    # tables this small (TRUNCATE makes new files for every table).
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as connection:
        for name in tables:
            connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts with an empty database, no rate-limit history and CSRF off."""
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    from companion.core.security import limiter

    _clean(get_database(application))
    limiter.reset()
    application.config["WTF_CSRF_ENABLED"] = False
    application.extensions.pop("companion.mail_transport", None)
    yield
    application.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture()
def csrf_on(app: Flask) -> Iterator[None]:
    """Turn CSRF checking on for this test (it is off by default to keep tests short)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


class _TestSession(Db):
    """The test's session: `rollback()` also forgets loaded objects.

    The app's sessions keep objects after commit (`expire_on_commit=False`); a test that
    reads after a request or the worker wrote must see fresh rows, and SQLAlchemy's
    rollback is a no-op (that keeps stale objects) when no transaction is open.
    """

    def rollback(self) -> None:
        super().rollback()
        self.expire_all()


@pytest.fixture()
def db(app: Flask) -> Iterator[Db]:
    """A database session for setting up and inspecting test data.

    It deliberately pushes no app context: a request made while one is active would reuse
    it (and its `g`), which hides bugs. Code that needs one uses `with app.app_context():`.
    """
    with reading(), _TestSession(get_database(app).engine, expire_on_commit=False) as session:
        yield session
        session.rollback()


class _Client(FlaskClient):
    """A test client that ends the test's own database transaction after each request.

    On SQLite a transaction reads from the snapshot it started with, so without this the
    test would not see what the request wrote (`expire_all()` alone is not enough).
    """

    test_db: Db | None = None

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        if self.test_db is not None:
            self.test_db.rollback()
        return response


@pytest.fixture()
def client(app: Flask, db: Db) -> FlaskClient:
    """A test client with its own cookie jar (see `_Client`)."""
    app.test_client_class = _Client
    test_client = app.test_client()
    test_client.test_db = db  # type: ignore[attr-defined]
    return test_client


@pytest.fixture()
def sign_in(app: Flask, db: Db) -> Callable[[FlaskClient, Any], FlaskClient]:
    """Put a facilitator's sign-in into a client's cookie session (with its server-side
    record, committed on its own so that the client's requests see it)."""
    from companion.accounts.identity import start_sign_in_session

    def _sign_in(client: FlaskClient, facilitator: Any) -> FlaskClient:
        # End the test's own transaction first: on SQLite a transaction that read before
        # another connection's commit can no longer write ("database is locked").
        with app.app_context():
            db.commit()
        with get_database(app).session() as own:
            key = start_sign_in_session(own, facilitator)
            own.commit()
        with client.session_transaction() as session:
            session["fid"] = facilitator.id
            session["fv"] = facilitator.session_version
            session["sk"] = key
        return client

    return _sign_in


# --- factories: one fixture per model, each with sensible defaults ---------------------------


def _in_app(app: Flask, factory: Callable[..., Any], db: Db) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with app.app_context():
            return factory(db, *args, **kwargs)

    return call


@pytest.fixture()
def make_organisation(app: Flask, db: Db) -> Callable[..., Any]:
    """`make_organisation(name=...)`."""
    return _in_app(app, factories.make_organisation, db)


@pytest.fixture()
def make_facilitator(app: Flask, db: Db) -> Callable[..., Any]:
    """`make_facilitator(organisation=None, admin=False, email=..., password=...)`."""
    return _in_app(app, factories.make_facilitator, db)


@pytest.fixture()
def make_programme(app: Flask, db: Db) -> Callable[..., Any]:
    """`make_programme(facilitator=None, groups=2, name=..., timezone=...)`."""
    return _in_app(app, factories.make_programme, db)


@pytest.fixture()
def make_participant(app: Flask, db: Db) -> Callable[..., Any]:
    """`make_participant(programme, group=None, name=..., email=...)`."""
    return _in_app(app, factories.make_participant, db)


@pytest.fixture()
def make_session(app: Flask, db: Db) -> Callable[..., Any]:
    """`make_session(group, starts_at=..., duration_minutes=120)` with its Jitsi room."""
    return _in_app(app, factories.make_session, db)


@pytest.fixture()
def fixtures_dir() -> Path:
    """Files used by tests (sample CSV/XLSX exports)."""
    return Path(__file__).parent / "data"

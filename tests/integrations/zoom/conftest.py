"""Fixtures for the Zoom integration: the app pointed at the fake Zoom, connected hosts, sessions.

The app is built once per test session and its `Config` is frozen, so the Zoom settings are
put in by swapping the app's validated configuration (`app.extensions["companion.config"]`)
for a copy with the fake's addresses and credentials, and putting the original back after
the test. Every part of Kollega reads its settings from there (views, operations through
`meetings.operations`, the worker), so no test-only switch is needed in the code itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from companion.config import Config
from companion.core.db import Db, utcnow
from companion.meetings.operations import ensure_session_room
from companion.sessions.models import Session
from integrations.zoom.configuration import app_home_url, redirect_uri
from integrations.zoom.connections import save_connection
from integrations.zoom.models import ZoomConnection
from integrations.zoom.oauth import token_set
from tests.fakes.zoom import FakeUser, FakeZoom

WEBHOOK_SECRET = "fake-webhook-secret-token"

#: Short timeouts and backoff keep the retry tests fast.
FAST = {
    "zoom_timeout_seconds": 2.0,
    "zoom_retries": 2,
    "zoom_backoff_seconds": 0.01,
    "zoom_max_wait_seconds": 3.0,
}


@contextmanager
def english(app: Flask) -> Iterator[None]:
    """An app context whose messages are in English (outside requests the default is fi)."""
    with app.app_context(), force_locale("en"):
        yield


def connected_programme(
    make_facilitator: Any, zoom_programme: Any, connect_zoom: Any
) -> tuple[Any, Any]:
    """A facilitator who connected Zoom, and a Zoom programme of theirs."""
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    return facilitator, zoom_programme(facilitator)


@pytest.fixture()
def zoom_config(app: Flask) -> Iterator[Callable[..., Config]]:
    """`zoom_config(**changes)` swaps in a configuration with these changes (undone after)."""
    original: Config = app.extensions["companion.config"]

    def change(**changes: Any) -> Config:
        current: Config = app.extensions["companion.config"]
        updated = current.model_copy(update=changes)
        app.extensions["companion.config"] = updated
        return updated

    try:
        yield change
    finally:
        app.extensions["companion.config"] = original


@pytest.fixture()
def zoom(fake_zoom: FakeZoom, zoom_config: Callable[..., Config]) -> FakeZoom:
    """The fake Zoom, with the app configured for it as a user-managed (OAuth) app."""
    config = zoom_config(
        zoom_client_id=fake_zoom.client_id,
        zoom_client_secret=fake_zoom.client_secret,
        zoom_account_id="",
        zoom_webhook_secret=WEBHOOK_SECRET,
        zoom_api_url=fake_zoom.api_url,
        zoom_oauth_url=fake_zoom.oauth_url,
        **FAST,
    )
    # NOTES §1.1: the redirect must be on the app's OAuth allow list, exactly.
    fake_zoom.redirect_uris.append(redirect_uri(config))
    fake_zoom.redirect_uris.append(app_home_url(config))
    return fake_zoom


@pytest.fixture()
def zoom_s2s(fake_zoom: FakeZoom, zoom_config: Callable[..., Config]) -> FakeZoom:
    """The fake Zoom, with the app configured as the organisation's Server-to-Server app."""
    zoom_config(
        zoom_client_id=fake_zoom.s2s_client_id,
        zoom_client_secret=fake_zoom.s2s_client_secret,
        zoom_account_id=fake_zoom.account_id,
        zoom_webhook_secret=WEBHOOK_SECRET,
        zoom_api_url=fake_zoom.api_url,
        zoom_oauth_url=fake_zoom.oauth_url,
        **FAST,
    )
    return fake_zoom


@pytest.fixture()
def config(app: Flask) -> Callable[[], Config]:
    """The app's configuration as it is right now (after the fixtures' changes)."""
    return lambda: app.extensions["companion.config"]


@pytest.fixture()
def connect_zoom(app: Flask, db: Db, zoom: FakeZoom) -> Callable[..., ZoomConnection]:
    """`connect_zoom(facilitator, user=None)`: the facilitator connected Zoom (no browser)."""

    def connect(facilitator: Any, user: FakeUser | None = None) -> ZoomConnection:
        user = user or zoom.default_user
        answer = zoom.issue_tokens(user)
        with app.app_context():
            row = save_connection(
                db, app.extensions["companion.config"], facilitator, token_set(answer),
                user.as_json(),
            )  # fmt: skip
            db.commit()
        return row

    return connect


@pytest.fixture()
def zoom_programme(make_facilitator: Any, make_programme: Any) -> Callable[..., Any]:
    """`zoom_programme(facilitator=None)`: a programme meeting on Zoom."""

    def make(facilitator: Any = None, **fields: Any) -> Any:
        facilitator = facilitator or make_facilitator()
        return make_programme(facilitator=facilitator, platform="zoom", **fields)

    return make


@pytest.fixture()
def zoom_session(app: Flask, db: Db) -> Callable[..., Session]:
    """`zoom_session(group, host, starts_at=None)`: a session whose room the host creates."""

    def make(
        group: Any,
        host: Any,
        *,
        starts_at: datetime | None = None,
        duration_minutes: int = 120,
        title: str = "Session 1",
    ) -> Session:
        with english(app):
            session = Session(
                group=group,
                title=title,
                starts_at=starts_at or utcnow() + timedelta(days=1),
                duration_minutes=duration_minutes,
                platform="zoom",
            )
            db.add(session)
            db.flush()
            ensure_session_room(db, session, host.id)
            db.commit()
        return session

    return make

"""Fixtures for Teams' identity side: the app pointed at the fake Microsoft identity platform,
connected facilitators, and sessions whose Teams meeting has a chat thread.

Like the Zoom tests, the settings go in by swapping the app's frozen `Config` for a copy
(and back after the test); everything reads it from `app.extensions["companion.config"]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from werkzeug.test import TestResponse

from companion.config import Config
from companion.core.db import Db, utcnow
from companion.meetings.models import MeetingRoom
from companion.sessions.models import Session
from integrations.teams import accounts
from integrations.teams.claims import MicrosoftUser
from integrations.teams.models import TeamsConnection
from integrations.teams.oauth import token_set
from tests.fakes.microsoft_fixture import fake_microsoft  # noqa: F401 - re-exported fixture
from tests.fakes.microsoft_identity import FakeMicrosoftIdentity, MicrosoftAccount


@contextmanager
def english(app: Flask) -> Iterator[None]:
    """An app context whose messages are in English."""
    with app.app_context(), force_locale("en"):
        yield


@pytest.fixture()
def teams_config(app: Flask) -> Iterator[Callable[..., Config]]:
    """`teams_config(**changes)` swaps in a configuration with these changes (undone after)."""
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
def microsoft(
    fake_microsoft: FakeMicrosoftIdentity,  # noqa: F811 - the fixture imported above
    teams_config: Callable[..., Config],
) -> FakeMicrosoftIdentity:
    """The fake identity platform, with the app configured as its registered Entra app."""
    config = teams_config(
        teams_client_id=fake_microsoft.client_id,
        teams_client_secret=fake_microsoft.client_secret,
        teams_login_url=fake_microsoft.login_url,
        teams_tenant="organizations",
    )
    # NOTES §1.1: the redirect URI must be registered, exactly.
    fake_microsoft.redirect_uris.append(accounts.redirect_uri(config))
    return fake_microsoft


@pytest.fixture()
def config(app: Flask) -> Callable[[], Config]:
    """The app's configuration as it is right now (after the fixtures' changes)."""
    return lambda: app.extensions["companion.config"]


def user_of(account: MicrosoftAccount) -> MicrosoftUser:
    """The checked-token view of a fake account."""
    return MicrosoftUser(
        tenant_id=account.tenant_id,
        object_id=account.object_id,
        name=account.name,
        username=account.upn,
        email=account.email.lower(),
        verified_email=account.email.lower() if account.email_verified else "",
        claims={},
    )


@pytest.fixture()
def connect_teams(
    app: Flask, db: Db, microsoft: FakeMicrosoftIdentity
) -> Callable[..., TeamsConnection]:
    """`connect_teams(facilitator, account=None)`: the facilitator connected Microsoft 365."""

    def connect(facilitator: Any, account: MicrosoftAccount | None = None) -> TeamsConnection:
        account = account or microsoft.default_account
        answer = microsoft.issue_tokens(account)
        with english(app):
            row = accounts.connect_account(
                db, app.extensions["companion.config"], facilitator, token_set(answer),
                user_of(account),
            )  # fmt: skip
            db.commit()
        return row

    return connect


@pytest.fixture()
def teams_session(app: Flask, db: Db) -> Callable[..., Session]:
    """`teams_session(group, thread_id)`: a session whose Teams meeting has that chat thread
    (the room as the Graph side stores it: platform "teams", `data["thread_id"]`)."""

    def make(group: Any, thread_id: str, *, title: str = "Session 1") -> Session:
        with english(app):
            session = Session(
                group=group,
                title=title,
                starts_at=utcnow() + timedelta(hours=1),
                duration_minutes=120,
                platform="teams",
            )
            db.add(session)
            db.flush()
            db.add(
                MeetingRoom(
                    session=session,
                    purpose="plenary",
                    platform="teams",
                    external_id="AAMkAGI2TG93AAA=",
                    join_url="https://teams.microsoft.com/l/meetup-join/19%3ameeting_x",
                    status="active",
                    data={"thread_id": thread_id, "event_id": "AAMkAGI2TG93AAA="},
                )
            )
            db.commit()
        return session

    return make


def follow_microsoft(client: FlaskClient, started: TestResponse) -> TestResponse:
    """Follow a redirect to the fake's authorise endpoint and back to Kollega's callback."""
    assert started.status_code == 303, started.get_data(as_text=True)
    answer = requests.get(started.headers["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return client.get(f"{back.path}?{back.query}")

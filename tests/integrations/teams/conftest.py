"""Fixtures for Teams: the app pointed at the fake Microsoft identity platform and the fake
Graph, facilitators connected through the identity platform (their tokens are the ones Graph
accepts), Teams programmes and sessions whose meetings their host makes in Graph, and
sessions given a chat thread directly (for the side panel's own tests).

Like the Zoom tests, the settings go in by swapping the app's frozen `Config` for a copy
(and back after the test); everything reads it from `app.extensions["companion.config"]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from werkzeug.test import TestResponse

from companion.breakouts import planning
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.meetings.models import MeetingRoom
from companion.meetings.operations import ensure_session_room
from companion.sessions.models import Session
from integrations.teams import accounts
from integrations.teams.claims import MicrosoftUser
from integrations.teams.models import TeamsConnection
from integrations.teams.oauth import token_set
from tests.breakouts.conftest import enter_as
from tests.fakes.graph import FakeGraph, GraphUser
from tests.fakes.graph.fixture import fake_graph  # noqa: F401 - re-exported fixture
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
def thread_session(app: Flask, db: Db) -> Callable[..., Session]:
    """`thread_session(group, thread_id)`: a session whose Teams meeting has that chat thread
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


#: Short timeouts and backoff keep the retry tests fast.
FAST = {
    "teams_timeout_seconds": 1.0,
    "teams_retries": 2,
    "teams_backoff_seconds": 0.01,
    "teams_max_wait_seconds": 3.0,
}


@dataclass(frozen=True)
class TeamsFakes:
    """The two Microsoft services a Teams test talks to: the identity platform (sign-in,
    tokens) and Graph, which takes only live access tokens the identity platform issued."""

    identity: FakeMicrosoftIdentity
    graph: FakeGraph

    def user_of(self, account: MicrosoftAccount) -> GraphUser:
        """The Graph user of an identity-platform account."""
        return self.graph.user_of(account)


@pytest.fixture()
def teams(
    fake_graph: FakeGraph,  # noqa: F811 - the fixture imported above
    microsoft: FakeMicrosoftIdentity,
    teams_config: Callable[..., Config],
) -> TeamsFakes:
    """The fake Graph trusting the fake identity platform, the app configured for both."""
    teams_config(teams_graph_url=fake_graph.graph_url, **FAST)
    fake_graph.trust(microsoft)
    return TeamsFakes(identity=microsoft, graph=fake_graph)


@pytest.fixture()
def teams_programme(make_facilitator: Any, make_programme: Any) -> Callable[..., Any]:
    """`teams_programme(facilitator=None)`: a programme meeting on Teams."""

    def make(facilitator: Any = None, **fields: Any) -> Any:
        facilitator = facilitator or make_facilitator()
        return make_programme(facilitator=facilitator, platform="teams", **fields)

    return make


@pytest.fixture()
def teams_session(app: Flask, db: Db) -> Callable[..., Session]:
    """`teams_session(group, host, starts_at=None)`: a session whose meeting the host makes."""

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
                starts_at=starts_at or (utcnow() + timedelta(days=2)).replace(microsecond=0),
                duration_minutes=duration_minutes,
                platform="teams",
            )
            db.add(session)
            db.flush()
            ensure_session_room(db, session, host.id)
            db.commit()
        return session

    return make


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    teams: TeamsFakes,
    connect_teams: Callable[..., TeamsConnection],
    make_facilitator: Any,
    make_participant: Any,
    teams_programme: Callable[..., Any],
    teams_session: Callable[..., Session],
) -> dict[str, Any]:
    """A host connected to Teams, a programme with two participants, one upcoming session."""
    host = make_facilitator(name="Fanni Fasilitaattori")
    connect_teams(host)
    programme = teams_programme(host)
    aino = make_participant(programme, name="Aino Aalto", email="Aino.Aalto@example.fi")
    eero = make_participant(programme, name="Eero Esimerkki", email="eero@example.fi")
    session = teams_session(programme.groups[0], host)
    return {
        "host": host,
        "programme": programme,
        "aino": aino,
        "eero": eero,
        "session": session,
    }


@pytest.fixture(autouse=True)
def _fast_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """The optimiser gets a fraction of a second: these instances are small."""
    monkeypatch.setattr(planning, "PLAN_SECONDS", 0.2)


@pytest.fixture()
def rounds(
    app: Flask,
    db: Db,
    teams: TeamsFakes,
    world: dict[str, Any],
    make_participant: Any,
    sign_in: Any,
) -> dict[str, Any]:
    """The world with three more participants and signed-in clients for breakout rounds."""
    programme = world["programme"]
    for name in ("Bertta Berg", "Cecilia Carlsson", "Daniel Dahl"):
        make_participant(programme, name=name, email=f"{name.split()[0].lower()}@example.fi")
    facilitator = app.test_client()
    facilitator.test_db = db  # type: ignore[attr-defined]
    aino = app.test_client()
    aino.test_db = db  # type: ignore[attr-defined]
    return {
        **world,
        "facilitator": sign_in(facilitator, world["host"]),
        "aino_client": enter_as(app, db, aino, world["aino"]),
    }


def act(client: FlaskClient, round_id: int, action: str) -> Any:
    """Lock, start, replan ... a breakout round through the API; its JSON."""
    answer = client.post(f"/api/v1/breakouts/rounds/{round_id}/actions", json={"action": action})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def locked_round(client: FlaskClient, session: Session, groups: int = 2) -> Any:
    """A random round of `groups` groups, planned and locked (group meetings made)."""
    planned = client.post(
        f"/api/v1/sessions/{session.id}/breakouts",
        json={"kind": "random", "sizing": "count", "groups": groups},
    ).get_json()[0]
    return act(client, planned["id"], "lock")

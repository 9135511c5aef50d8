"""Fixtures of the board tests: a session with a facilitator and participants, and their clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.identity import participant_token
from companion.core.db import Db
from companion.core.live import LiveServer
from companion.sessions.join_links import join_link_for


@dataclass
class BoardWorld:
    """A session of a group, its facilitator, two members and someone of another programme."""

    session: Any
    facilitator: Any
    alice: Any
    bob: Any
    outsider: Any
    facilitator_client: FlaskClient
    alice_client: FlaskClient
    bob_client: FlaskClient
    outsider_client: FlaskClient
    tokens: dict[str, str]

    @property
    def board_url(self) -> str:
        """The session's board in the API."""
        return f"/api/v1/sessions/{self.session.id}/board"


class BearerClient:
    """A test client that sends a participant's bearer token and no cookies (the side panel)."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def open(self, method: str, url: str, **kwargs: Any) -> Any:
        """A request with `Authorization: Bearer`."""
        headers = dict(kwargs.pop("headers", {}) or {})
        headers["Authorization"] = f"Bearer {self.token}"
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.open("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.open("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.open("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.open("DELETE", url, **kwargs)


def token_for(app: Flask, db: Db, participant: Any) -> str:
    """The side panel's bearer token of a participant."""
    with app.app_context():
        link = join_link_for(db, participant)
        db.commit()
        return participant_token(participant, link)


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> BoardWorld:
    """A running session with a facilitator (cookie), two members (bearer) and an outsider."""
    facilitator = make_facilitator()
    programme = make_programme(facilitator=facilitator)
    alice = make_participant(programme, name="Alice Aho")
    bob = make_participant(programme, name="Bob Berg")
    session = make_session(programme.groups[0])
    other = make_programme(name="Another programme")
    outsider = make_participant(other, name="Olli Outsider")
    tokens = {
        "alice": token_for(app, db, alice),
        "bob": token_for(app, db, bob),
        "outsider": token_for(app, db, outsider),
    }
    return BoardWorld(
        session=session,
        facilitator=facilitator,
        alice=alice,
        bob=bob,
        outsider=outsider,
        facilitator_client=sign_in(app.test_client(), facilitator),
        alice_client=BearerClient(app.test_client(), tokens["alice"]),  # type: ignore[arg-type]
        bob_client=BearerClient(app.test_client(), tokens["bob"]),  # type: ignore[arg-type]
        outsider_client=BearerClient(app.test_client(), tokens["outsider"]),  # type: ignore[arg-type]
        tokens=tokens,
    )


@pytest.fixture()
def live(app: Flask) -> Iterator[LiveServer]:
    """A live server on a free port in a thread, announced to pages as the app's live URL."""
    server = LiveServer(app, "127.0.0.1", 0, check_seconds=0.5).start_in_thread()
    app.extensions["companion.live_public_url"] = server.url
    try:
        yield server
    finally:
        server.stop()
        app.extensions.pop("companion.live_public_url", None)

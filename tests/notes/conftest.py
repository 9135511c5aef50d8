"""A running session with a facilitator, group members, someone of another group and another
programme, each with their own browser (cookie) client; breakout groups on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db, utcnow
from companion.core.live import LiveServer
from companion.notes import membership
from companion.sessions.join_links import join_link_for


def enter_as(app: Flask, db: Db, client: FlaskClient, participant: Any) -> FlaskClient:
    """Put the participant's join-link identity into the client's cookie, as opening it does."""
    with app.app_context():
        link = join_link_for(db, participant)
        db.commit()
        nonce = link.nonce
    with client.session_transaction() as session:
        session["pid"] = participant.id
        session["pn"] = nonce
    return client


@dataclass
class World:
    """Programme A: a session of group 1 (Alice, Bob, Carol) that started an hour ago, Dave in
    group 2; programme B: Olli. Everyone has a cookie client; the facilitator is signed in."""

    app: Flask
    programme: Any
    session: Any
    facilitator: Any
    alice: Any
    bob: Any
    carol: Any
    dave: Any
    olli: Any
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def client(self, name: str) -> FlaskClient:
        """The browser of a person ("facilitator", "alice", ...)."""
        return self.clients[name]

    def notes_url(self, group: int | None = None) -> str:
        """The API address of the session's plenary (or a breakout group's) notes."""
        url = f"/api/v1/sessions/{self.session.id}/notes"
        return url if group is None else f"{url}?group={group}"

    def space_id(self, group: int | None = None) -> int:
        """Open a space as the facilitator and return its id."""
        response = self.client("facilitator").get(self.notes_url(group))
        assert response.status_code == 200, response.get_json()
        return int(response.get_json()["id"])


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> World:
    """The people and their clients."""
    facilitator = make_facilitator(name="Fia Fasilitaattori")
    programme = make_programme(facilitator=facilitator)
    group_1, group_2 = programme.groups
    alice = make_participant(programme, group=group_1, name="Alice Aho", company="Aho Oy")
    bob = make_participant(programme, group=group_1, name="Bob Berg", company="Berg Design")
    carol = make_participant(programme, group=group_1, name="Carol Cedar")
    dave = make_participant(programme, group=group_2, name="Dave Dahl")
    session = make_session(group_1, starts_at=utcnow() - timedelta(hours=1))
    other = make_programme(name="Another programme")
    olli = make_participant(other, name="Olli Outsider")
    make_session(other.groups[0], starts_at=utcnow() - timedelta(hours=1))
    world = World(app, programme, session, facilitator, alice, bob, carol, dave, olli)
    world.clients["facilitator"] = sign_in(app.test_client(), facilitator)
    for name in ("alice", "bob", "carol", "dave", "olli"):
        world.clients[name] = enter_as(app, db, app.test_client(), getattr(world, name))
    world.clients["nobody"] = app.test_client()
    return world


@pytest.fixture()
def breakouts(monkeypatch: pytest.MonkeyPatch) -> dict[int, set[int]]:
    """Breakout group id -> participant ids, standing in for the breakouts package (issue 3)."""
    groups: dict[int, set[int]] = {}

    def members(db: Db, session: Any, breakout_group_id: int) -> set[int] | None:
        return set(groups.get(breakout_group_id, set()))

    def own(db: Db, session: Any, participant_id: int) -> list[int]:
        return sorted(group for group, ids in groups.items() if participant_id in ids)

    def label(db: Db, session: Any, breakout_group_id: int) -> str | None:
        return "" if breakout_group_id in groups else None

    monkeypatch.setattr(membership, "group_members_of", members)
    monkeypatch.setattr(membership, "own_breakout_groups", own)
    monkeypatch.setattr(membership, "breakout_group_label", label)
    return groups


@pytest.fixture()
def live(app: Flask) -> Iterator[LiveServer]:
    """A live server on a free port, announced to pages as the app's live address."""
    server = LiveServer(app, "127.0.0.1", 0, check_seconds=0.5).start_in_thread()
    app.extensions["companion.live_public_url"] = server.url
    try:
        yield server
    finally:
        server.stop()
        app.extensions.pop("companion.live_public_url", None)

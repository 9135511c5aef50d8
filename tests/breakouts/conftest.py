"""A programme group with mixed members, three sessions, two facilitators and an outsider, each
with their own browser (cookie) client; helpers to plan and read rounds over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.operations import grant_programme
from companion.breakouts import planning
from companion.core.db import Db, utcnow
from companion.core.live import LiveServer
from companion.sessions.join_links import join_link_for

#: Name, company, industry, region, years as entrepreneur.
PEOPLE = (
    ("Aino Aalto", "Aalto Design", "design", "Turku", 2),
    ("Bertta Berg", "Berg Bakery", "food", "Salo", 12),
    ("Cecilia Carlsson", "CC Consulting", "consulting", "Turku", 6),
    ("Daniel Dahl", "Dahl Build", "construction", "Uusikaupunki", 20),
    ("Eero Eskola", "Eskola IT", "software", "Turku", 1),
    ("Fanni Forsman", "Forsman Flowers", "retail", "Salo", 9),
    ("Gustav Grön", "Grön Garden", "retail", "Kaarina", 4),
    ("Hanna Heino", "Heino Health", "wellbeing", "Raisio", 15),
)


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
    """Programme A, group 1: eight participants, sessions yesterday (ended), now and in three
    weeks; two facilitators. Programme B: Olli, and a facilitator of another organisation."""

    app: Flask
    db: Db
    programme: Any
    group: Any
    facilitator: Any
    cofacilitator: Any
    people: list[Any]
    past: Any
    session: Any
    later: Any
    olli: Any
    stranger: Any
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def client(self, name: str) -> FlaskClient:
        """The browser of "facilitator", "cofacilitator", "stranger", "olli", "nobody" or a
        participant's first name in lower case ("aino")."""
        return self.clients[name]

    def person(self, first_name: str) -> Any:
        """A participant by first name."""
        return next(p for p in self.people if p.name.split()[0].lower() == first_name.lower())

    def plan(self, session: Any = None, expect: int = 201, **fields: Any) -> Any:
        """Plan a round over the API as the facilitator; the rounds' JSON."""
        session = session or self.session
        body = {"kind": "optimised", "min_size": 3, "max_size": 4, **fields}
        response = self.client("facilitator").post(
            f"/api/v1/sessions/{session.id}/breakouts", json=body
        )
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    def round(self, round_id: int) -> Any:
        """A round's JSON as the facilitator sees it."""
        response = self.client("facilitator").get(f"/api/v1/breakouts/rounds/{round_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def act(self, round_id: int, action: str, expect: int = 200) -> Any:
        """A status change over the API."""
        response = self.client("facilitator").post(
            f"/api/v1/breakouts/rounds/{round_id}/actions", json={"action": action}
        )
        assert response.status_code == expect, response.get_json()
        return response.get_json()


def key_of(participant: Any) -> str:
    """The planner's key of a participant."""
    return f"p:{participant.id}"


def groups_of(round_json: Any) -> list[set[str]]:
    """A round's groups as sets of keys."""
    return [{m["key"] for m in g["members"]} for g in round_json["groups"]]


@pytest.fixture(autouse=True)
def _fast_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """The optimiser gets a fraction of a second: these instances are small."""
    monkeypatch.setattr(planning, "PLAN_SECONDS", 0.2)


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    client: FlaskClient,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> World:
    """The people, their sessions and their clients."""
    facilitator = make_facilitator(name="Fia Fasilitaattori")
    cofacilitator = make_facilitator(name="Kalle Kollega", organisation=facilitator.organisation)
    programme = make_programme(facilitator=facilitator)
    with app.app_context():
        grant_programme(db, cofacilitator, programme)
        db.commit()
    group = programme.groups[0]
    people = [
        make_participant(
            programme,
            group=group,
            name=name,
            company=company,
            industry=industry,
            region=region,
            years_as_entrepreneur=years,
        )
        for name, company, industry, region, years in PEOPLE
    ]
    now = utcnow()
    past = make_session(group, starts_at=now - timedelta(days=21), title="Session 1")
    session = make_session(group, starts_at=now - timedelta(minutes=30), title="Session 2")
    later = make_session(group, starts_at=now + timedelta(days=21), title="Session 3")
    other = make_programme(name="Another programme")
    olli = make_participant(other, name="Olli Outsider")
    make_session(other.groups[0], starts_at=now - timedelta(minutes=30))
    stranger = make_facilitator(name="Sara Stranger")
    world = World(
        app, db, programme, group, facilitator, cofacilitator, people, past, session, later,
        olli, stranger,
    )  # fmt: skip

    def new_client() -> FlaskClient:
        fresh = app.test_client()
        fresh.test_db = db  # type: ignore[attr-defined]
        return fresh

    world.clients["facilitator"] = sign_in(new_client(), facilitator)
    world.clients["cofacilitator"] = sign_in(new_client(), cofacilitator)
    world.clients["stranger"] = sign_in(new_client(), stranger)
    for person in people:
        world.clients[person.name.split()[0].lower()] = enter_as(app, db, new_client(), person)
    world.clients["olli"] = enter_as(app, db, new_client(), olli)
    world.clients["nobody"] = new_client()
    return world


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

"""Forms, sessions, redirects and privacy (issue 13, items 4-9 and 11), replayed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.accounts.operations import deactivate_facilitator, set_password
from companion.core.db import Db
from companion.core.events import LiveEvent
from companion.programmes.models import InterestSubmission, Programme
from tests.factories import PASSWORD
from tests.hardening.conftest import Site, row_counts, warm_up
from tests.notes.conftest import enter_as


def _csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, path
    return match.group(1)


# --- 4: the interest form ---------------------------------------------------------------------


def test_the_interest_form_keeps_the_first_answer(client: FlaskClient, site: Site, db: Db) -> None:
    url = f"/interest/{site.tokens['interest']}"
    first = {"name": "Eero", "email": "eero@example.fi", "message": "Syksyllä", "consent": "on"}
    assert client.post(url, data=first).status_code == 200
    other = {**first, "name": "Mallory", "email": "EERO@Example.FI", "message": "Hijacked"}
    assert client.post(url, data=other).status_code == 200
    db.rollback()
    rows = db.execute(select(InterestSubmission.name, InterestSubmission.message)).all()
    assert [tuple(r) for r in rows] == [("Eero", "Syksyllä")]


# --- 5: sign-in throttling -----------------------------------------------------------------------


def test_sign_in_is_limited_per_address_whatever_the_email(
    client: FlaskClient, config_changed: Any
) -> None:
    config_changed(sign_in_address_limit="3 per 15 minutes")
    for number in range(3):
        answer = client.post("/sign-in", data={"email": f"x{number}@example.org", "password": "x"})
        assert answer.status_code == 401
    refused = client.post("/sign-in", data={"email": "new@example.org", "password": "x"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    # Another client address is not held back by it.
    other = client.post(
        "/sign-in",
        data={"email": "new@example.org", "password": "x"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 401


def test_sign_in_is_limited_in_all(client: FlaskClient, config_changed: Any) -> None:
    config_changed(sign_in_global_limit="4 per 5 minutes")
    for number in range(4):
        answer = client.post(
            "/sign-in",
            data={"email": "x@example.org", "password": "x"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{number + 1}"},
        )
        assert answer.status_code == 401
    refused = client.post(
        "/sign-in",
        data={"email": "y@example.org", "password": "x"},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert refused.status_code == 429


# --- 6: signing out ends the session -------------------------------------------------------------


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("kollega_session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    copy = app.test_client()
    copy.set_cookie("kollega_session", value)
    return copy


def test_a_copied_cookie_stops_working_at_sign_out(
    app: Flask, client: FlaskClient, make_facilitator: Any
) -> None:
    facilitator = make_facilitator(email="fia@example.org")
    assert client.post("/sign-in", data={"email": facilitator.email, "password": PASSWORD})
    copied = _cookie(client)
    assert _with_cookie(app, copied).get("/programmes").status_code == 200
    assert client.post("/sign-out").status_code == 303
    assert _with_cookie(app, copied).get("/programmes").status_code == 302
    answer = _with_cookie(app, copied).get("/api/v1/programmes")
    assert answer.status_code == 401


@pytest.mark.parametrize("change", ["password", "deactivation"])
def test_password_change_and_deactivation_end_every_copy(
    app: Flask, db: Db, client: FlaskClient, make_facilitator: Any, change: str
) -> None:
    facilitator = make_facilitator(email="fia@example.org")
    client.post("/sign-in", data={"email": facilitator.email, "password": PASSWORD})
    copied = _cookie(client)
    with app.app_context():
        account = db.get(Facilitator, facilitator.id)
        if change == "password":
            set_password(db, account, "a new long password")
        else:
            deactivate_facilitator(db, account)
            # Even activated again, the old cookies stay ended.
            account.active = True
        db.commit()
    assert _with_cookie(app, copied).get("/programmes").status_code == 302


# --- 7: CSRF and bearer tokens agree ----------------------------------------------------------


@pytest.mark.parametrize("header", ["Bearer ", "Bearer    ", "bearer\t", "Bearer !!"])
def test_a_blank_or_malformed_bearer_does_not_skip_csrf(
    site: Site, db: Db, csrf_on: None, header: str
) -> None:
    fac = site.clients["facilitator"]
    before = db.scalar(select(Programme.id).order_by(Programme.id.desc()))
    response = fac.post(
        "/api/v1/programmes", json={"name": "Forged"}, headers={"Authorization": header}
    )
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    db.rollback()
    assert db.scalar(select(Programme.id).order_by(Programme.id.desc())) == before


# --- 8: open redirects ---------------------------------------------------------------------


EVIL = [
    "https://evil.example/x",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
]


def _stays_here(response: Any) -> bool:
    location = response.headers.get("Location", "")
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", EVIL)
def test_back_and_next_only_lead_to_our_own_pages(
    app: Flask, site: Site, target: str, make_facilitator: Any
) -> None:
    fac, aino = site.clients["facilitator"], site.clients["participant"]
    invited = fac.post(f"/programmes/{site.ids['programme']}/invitations", data={"back": target})
    assert invited.status_code in (303, 422) and (
        invited.status_code == 422 or _stays_here(invited)
    )
    ticked = aino.post(f"/actions/{site.ids['action']}/done", data={"done": "on", "back": target})
    assert ticked.status_code in (303, 422) and (ticked.status_code == 422 or _stays_here(ticked))
    account = make_facilitator(email=f"n{abs(hash(target))}@example.org")
    signing = app.test_client()
    answer = signing.post(
        "/sign-in",
        query_string={"next": target},
        data={"email": account.email, "password": PASSWORD},
    )
    assert answer.status_code in (303, 422) and (answer.status_code == 422 or _stays_here(answer))


# --- 9: a GET makes no rows for other groups -----------------------------------------------------


def test_notes_of_another_organisations_group_are_not_made(
    app: Flask, db: Db, site: Site, make_programme: Any, make_session: Any, sign_in: Any
) -> None:
    other = make_programme(name="Someone else's")
    session = make_session(other.groups[0])
    stranger = sign_in(app.test_client(), other.roles[0].facilitator)
    rounds = stranger.post(f"/api/v1/sessions/{session.id}/breakouts", json={"kind": "manual"})
    foreign_group = rounds.get_json()[0]["groups"][0]["id"] if rounds.status_code == 201 else 1
    warm_up(app, site)
    before = row_counts(db)
    fac = site.clients["facilitator"]
    for group in (foreign_group, 2**31 - 1, site.ids["breakout_group"] + 1000):
        response = fac.get(f"/api/v1/sessions/{site.ids['session']}/notes?group={group}")
        assert response.status_code == 404
    assert row_counts(db) == before


# --- 11: votes are not linkable to people ------------------------------------------------------


def test_nobody_sees_who_voted_or_answered(
    app: Flask, db: Db, site: Site, make_participant: Any
) -> None:
    aino, fac = site.clients["participant"], site.clients["facilitator"]
    programme = db.get(Programme, site.ids["programme"])
    bea = enter_as(app, db, app.test_client(), make_participant(programme, name="Bea Two"))
    board, topic = site.ids["board"], site.ids["topic"]
    voted = aino.post(f"/api/v1/topics/{topic}/vote?request_id=r-1-abcdef")
    assert voted.status_code == 200
    own = voted.get_json()["vote"]
    assert own == {"topic_id": topic, "votes": 1, "request_id": "r-1-abcdef", "count": 1, "left": 2}
    fac.post(f"/api/v1/boards/{board}/timer", json={"action": "start", "minutes": 1})
    aino_key = aino.get(f"/api/v1/boards/{board}").get_json()["me"]["key"]
    seen_by_bea = bea.get(f"/api/v1/boards/{board}").get_json()
    # Aino's key is only on the topic she proposed under her name (the name is public
    # anyway), never beside a vote or an answer.
    named = [t for t in seen_by_bea["topics"] if t["author_key"] == aino_key]
    assert [t["author"] for t in named] == ["Aino Aalto"]
    for topic_seen in seen_by_bea["topics"]:
        topic_seen.pop("author_key")
    assert aino_key not in json.dumps(seen_by_bea)
    assert set(seen_by_bea["board"]["poll"] or {}) <= {"round", "up", "down"}
    assert seen_by_bea["topics"][0]["votes"] == 1 and "voters" not in seen_by_bea["topics"][0]
    assert seen_by_bea["me"]["votes"] == {}
    assert aino.get(f"/api/v1/boards/{board}").get_json()["me"]["votes"] == {str(topic): 1}
    db.rollback()
    events = db.scalars(select(LiveEvent).where(LiveEvent.channel == f"board:{board}")).all()
    vote = next(e for e in events if e.kind == "vote.cast")
    assert vote.data == {"vote": {"topic_id": topic, "votes": 1, "request_id": "r-1-abcdef"}}
    assert all(aino_key not in json.dumps(e.data) for e in events if e.kind.startswith("vote"))
    anonymous = bea.post(
        f"/api/v1/boards/{board}/topics", json={"title": "Quiet one", "anonymous": True}
    ).get_json()
    assert anonymous["topics"][0]["author_key"] is None
    assert anonymous["topics"][0]["author"] is None

"""Every programme role × every programme action, through real requests (issue 16, part 2).

Each cell is a fresh programme (with a group of four, a session and its board) of
organisation A; the person of the row signs in and does the action of the column once. `ok`
means the action's own success answer, `403` a refusal that admits the programme exists (their
own organisation's, or a role that may not do this), `404` one that does not (another
organisation's programme they hold no role in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.models import Facilitator, ProgrammeRole
from companion.accounts.operations import grant_programme
from companion.accounts.roles import Role
from companion.core.db import Db, utcnow
from companion.programmes.models import Programme
from tests.conftest import _Client

ACTIONS = (
    "view",
    "view_team",
    "edit",
    "create_session",
    "run_board",
    "run_breakouts",
    "read_outcomes",
    "manage_team",
    "delete",
)

# fmt: off
#: role: the answer to each action, in the order of ACTIONS.
MATRIX: dict[str, tuple[str, ...]] = {
    #                       view  team   edit   session board  breakout outcomes manage delete
    "owner":               ("ok", "ok",  "ok",  "ok",   "ok",  "ok",    "ok",    "ok",  "ok"),
    "co_facilitator":      ("ok", "ok",  "ok",  "ok",   "ok",  "ok",    "ok",    "403", "403"),
    "observer":            ("ok", "ok",  "403", "403",  "403", "403",   "ok",    "403", "403"),
    "shared_co_facilitator": ("ok", "ok", "ok", "ok",   "ok",  "ok",    "ok",    "403", "403"),
    "shared_observer":     ("ok", "ok",  "403", "403",  "403", "403",   "ok",    "403", "403"),
    "org_admin":           ("ok", "ok",  "ok",  "ok",   "ok",  "ok",    "ok",    "ok",  "ok"),
    "colleague_without_role": ("403", "403", "403", "403", "403", "403", "403", "403", "403"),
    "other_organisation":  ("404", "404", "404", "404", "404", "404",   "404",   "404", "404"),
}
# fmt: on

#: The success answer of each action.
SUCCESS = {
    "view": 200,
    "view_team": 200,
    "edit": 303,
    "create_session": 201,
    "run_board": 200,
    "run_breakouts": 201,
    "read_outcomes": 200,
    "manage_team": 303,
    "delete": 303,
}


@dataclass
class World:
    """One programme of organisation A, its people and ids."""

    programme_id: int
    programme_name: str
    group_id: int
    session_id: int
    board_id: int
    people: dict[str, Facilitator]


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
    """A programme with a person for every row of the matrix."""
    owner = make_facilitator(name="Olli Owner")
    organisation = owner.organisation
    programme = make_programme(facilitator=owner, name="Spring mentoring")
    group = programme.groups[0]
    for name in ("Aino Aalto", "Bea Berg", "Cai Cedar", "Dan Dahl"):
        make_participant(programme, group=group, name=name)
    # Over already, so that deleting is not held back by coming sessions.
    session = make_session(group, starts_at=utcnow() - timedelta(days=2))
    partner = make_facilitator(name="Paula Partner")  # another organisation
    people = {
        "owner": owner,
        "co_facilitator": make_facilitator(organisation=organisation, name="Cora Co"),
        "observer": make_facilitator(organisation=organisation, name="Otto Observer"),
        "shared_co_facilitator": partner,
        "shared_observer": make_facilitator(organisation=partner.organisation, name="Funder"),
        "org_admin": make_facilitator(organisation=organisation, admin=True, name="Ada Admin"),
        "colleague_without_role": make_facilitator(organisation=organisation, name="Col"),
        "other_organisation": make_facilitator(name="Oscar Outside"),
    }
    with app.app_context():
        held = db.get(Programme, programme.id)
        assert held is not None
        for key, role in (
            ("co_facilitator", Role.CO_FACILITATOR),
            ("observer", Role.OBSERVER),
            ("shared_co_facilitator", Role.CO_FACILITATOR),
            ("shared_observer", Role.OBSERVER),
        ):
            grant_programme(db, db.merge(people[key]), held, role)
        db.commit()
    browser = _browser(app, db, sign_in, owner)
    board = browser.get(f"/api/v1/sessions/{session.id}/board").get_json()
    return World(
        programme_id=programme.id,
        programme_name=programme.name,
        group_id=group.id,
        session_id=session.id,
        board_id=board["board"]["id"],
        people=people,
    )


def _browser(
    app: Flask, db: Db, sign_in: Callable[..., FlaskClient], person: Facilitator
) -> FlaskClient:
    app.test_client_class = _Client
    made = app.test_client()
    made.test_db = db  # type: ignore[attr-defined]
    return sign_in(made, db.merge(person))


def act(browser: FlaskClient, world: World, action: str) -> Any:
    """Do the action as the browser's person; the response."""
    pid, sid = world.programme_id, world.session_id
    if action == "view":
        return browser.get(f"/programmes/{pid}")
    if action == "view_team":
        return browser.get(f"/programmes/{pid}/team")
    if action == "edit":
        return browser.post(
            f"/programmes/{pid}/edit",
            data={
                "name": "Spring mentoring 2027",
                "language": "fi",
                "timezone": "Europe/Helsinki",
                "platform": "jitsi",
            },
        )
    if action == "create_session":
        day = (utcnow() + timedelta(days=7)).date().isoformat()
        return browser.post(
            f"/api/v1/programmes/{pid}/sessions",
            json={
                "group_id": world.group_id,
                "title": "Pricing",
                "date": day,
                "start_time": "17:00",
            },
        )
    if action == "run_board":
        return browser.post(f"/api/v1/boards/{world.board_id}/timer", json={"action": "start"})
    if action == "run_breakouts":
        return browser.post(
            f"/api/v1/sessions/{sid}/breakouts",
            json={"kind": "optimised", "min_size": 2, "max_size": 3},
        )
    if action == "read_outcomes":
        return browser.get(f"/programmes/{pid}/outcomes")
    if action == "manage_team":
        newcomer = world.people["colleague_without_role"].email
        return browser.post(f"/programmes/{pid}/team", data={"email": newcomer, "role": "observer"})
    if action == "delete":
        return browser.post(
            f"/programmes/{pid}/delete", data={"confirm_name": world.programme_name}
        )
    raise AssertionError(action)


CELLS = [
    pytest.param(role, action, MATRIX[role][index], id=f"{role}-{action}")
    for role in MATRIX
    for index, action in enumerate(ACTIONS)
]


@pytest.mark.parametrize(("role", "action", "expected"), CELLS)
def test_role_may_or_may_not(
    app: Flask,
    db: Db,
    world: World,
    sign_in: Callable[..., FlaskClient],
    role: str,
    action: str,
    expected: str,
) -> None:
    """The person of the row gets the matrix's answer to the action of the column."""
    browser = _browser(app, db, sign_in, world.people[role])
    response = act(browser, world, action)
    want = SUCCESS[action] if expected == "ok" else int(expected)
    assert response.status_code == want, response.get_data(as_text=True)[:300]
    programme = db.get(Programme, world.programme_id)
    if action == "delete":
        assert (programme is None) == (expected == "ok")
    if action == "manage_team":
        added = db.scalar(
            select(ProgrammeRole.role).where(
                ProgrammeRole.programme_id == world.programme_id,
                ProgrammeRole.facilitator_id == world.people["colleague_without_role"].id,
            )
        )
        assert added == ("observer" if expected == "ok" else None)
    if action == "edit":
        assert programme is not None
        assert (programme.name == "Spring mentoring 2027") == (expected == "ok")


def test_every_role_and_action_has_a_cell() -> None:
    """The matrix is complete: a row per role, a column per action."""
    assert all(len(row) == len(ACTIONS) for row in MATRIX.values())
    assert set(SUCCESS) == set(ACTIONS)

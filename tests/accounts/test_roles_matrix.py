"""Every programme role × every programme action, through real requests (issue 16, part 2).

Each cell is a fresh programme (with a group of four, a session and its board) of
organisation A; the person of the row signs in and does the action of the column once. `ok`
means the action's own success answer, `403` a refusal that admits the programme exists (their
own organisation's, or a role that may not do this), `404` one that does not (another
organisation's programme they hold no role in). The contact-details columns (a participant's
email address on the participants page and in the API, the mail in the outbox, the people
export) also check what the answer shows: `ok` shows the address, `hidden` answers 200 with
the person's name (where it names people) but without the address.
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
from companion.core.mail import queue_mail
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
    "participants_page",
    "participant_api",
    "outbox_list",
    "outbox_message",
    "export_people",
)

# fmt: off
#: role: the answer to each action, in the order of ACTIONS.
MATRIX: dict[str, tuple[str, ...]] = {
    #                       view  team   edit   session board  breakout outcomes manage delete
    #                       people    api       outbox    message export
    "owner":               ("ok", "ok",  "ok",  "ok",   "ok",  "ok",    "ok",    "ok",  "ok",
                            "ok",     "ok",     "ok",     "ok",   "ok"),
    "co_facilitator":      ("ok", "ok",  "ok",  "ok",   "ok",  "ok",    "ok",    "403", "403",
                            "ok",     "ok",     "ok",     "ok",   "ok"),
    "observer":            ("ok", "ok",  "403", "403",  "403", "403",   "ok",    "403", "403",
                            "hidden", "hidden", "hidden", "403",  "403"),
    "shared_co_facilitator": ("ok", "ok", "ok", "ok",   "ok",  "ok",    "ok",    "403", "403",
                            "ok",     "ok",     "ok",     "ok",   "ok"),
    "shared_observer":     ("ok", "ok",  "403", "403",  "403", "403",   "ok",    "403", "403",
                            "hidden", "hidden", "hidden", "403",  "403"),
    "org_admin":           ("ok", "ok",  "ok",  "ok",   "ok",  "ok",    "ok",    "ok",  "ok",
                            "ok",     "ok",     "ok",     "ok",   "ok"),
    # The outbox lists the mail of one's own programmes only: another's message is not found.
    "colleague_without_role": ("403", "403", "403", "403", "403", "403", "403", "403", "403",
                            "403",    "403",    "hidden", "404",  "403"),
    "other_organisation":  ("404", "404", "404", "404", "404", "404",   "404",   "404", "404",
                            "404",    "404",    "hidden", "404",  "404"),
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
    "participants_page": 200,
    "participant_api": 200,
    "outbox_list": 200,
    "outbox_message": 200,
    "export_people": 200,
}
#: The contact-details actions: their answer shows the participant's address or not.
CONTACT_ACTIONS = frozenset(
    {"participants_page", "participant_api", "outbox_list", "outbox_message", "export_people"}
)


@dataclass
class World:
    """One programme of organisation A, its people and ids."""

    programme_id: int
    programme_name: str
    group_id: int
    session_id: int
    board_id: int
    people: dict[str, Facilitator]
    #: Aino's id and email address, and the id of a message sent to her.
    participant_id: int
    participant_email: str
    message_id: int


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
    aino = make_participant(programme, group=group, name="Aino Aalto", email="aino.a@example.fi")
    for name in ("Bea Berg", "Cai Cedar", "Dan Dahl"):
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
        message = queue_mail(
            db,
            to_address=aino.email,
            to_name="Aino Aalto",
            subject="Welcome to Spring mentoring",
            text_body="Dear Aino, your personal link follows.",
            programme_id=programme.id,
        )
        assert message is not None
        message_id = message.id
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
        participant_id=aino.id,
        participant_email=aino.email,
        message_id=message_id,
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
    if action == "participants_page":
        return browser.get(f"/programmes/{pid}/participants")
    if action == "participant_api":
        return browser.get(f"/api/v1/participants/{world.participant_id}")
    if action == "outbox_list":
        return browser.get("/outbox")
    if action == "outbox_message":
        return browser.get(f"/outbox/{world.message_id}")
    if action == "export_people":
        return browser.get(f"/programmes/{pid}/outcomes/participants.csv")
    raise AssertionError(action)


def check_contact_details(response: Any, world: World, action: str, expected: str) -> None:
    """The answer shows Aino's address exactly when the cell says `ok`; a `hidden` page
    still names her where it is about people."""
    body = response.get_data(as_text=True)
    assert (world.participant_email in body) == (expected == "ok"), body[:300]
    if action == "participant_api" and expected in ("ok", "hidden"):
        shown = response.get_json()
        assert shown["name"] == "Aino Aalto"
        assert shown["email"] == (world.participant_email if expected == "ok" else None)
    if action == "participants_page" and expected in ("ok", "hidden"):
        assert "Aino Aalto" in body
        # The note says why, once, and only where something was left out.
        assert body.count("contacts-hidden") == (1 if expected == "hidden" else 0)


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
    want = SUCCESS[action] if expected in ("ok", "hidden") else int(expected)
    assert response.status_code == want, response.get_data(as_text=True)[:300]
    if action in CONTACT_ACTIONS:
        check_contact_details(response, world, action, expected)
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

"""A programme's Team page: owners add facilitators by email (also of another organisation,
which shares the programme), change roles and remove members; the last owner stays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.accounts.models import Facilitator, ProgrammeRole
from companion.core.access_mode import read_only
from companion.core.db import Db
from companion.core.events import authorize_channel
from companion.privacy.models import AuditEntry
from companion.programmes.models import Programme
from tests.conftest import _Client


@dataclass
class Team:
    """An owner's programme, a partner of another organisation, and a browser maker."""

    programme_id: int
    owner: Facilitator
    partner: Facilitator
    browser: Callable[[Facilitator], FlaskClient]


@pytest.fixture()
def team(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_organisation: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> Team:
    owner = make_facilitator(name="Olli Owner", language="en")
    programme = make_programme(facilitator=owner, name="Spring mentoring")
    partner_organisation = make_organisation(name="Yrittäjäyhdistys")
    partner = make_facilitator(organisation=partner_organisation, name="Paula Partner")

    def browser(person: Facilitator) -> FlaskClient:
        app.test_client_class = _Client
        made = app.test_client()
        made.test_db = db  # type: ignore[attr-defined]
        return sign_in(made, db.merge(person))

    return Team(programme.id, owner, partner, browser)


def _role(db: Db, programme_id: int, facilitator_id: int) -> str | None:
    return db.scalar(
        select(ProgrammeRole.role).where(
            ProgrammeRole.programme_id == programme_id,
            ProgrammeRole.facilitator_id == facilitator_id,
        )
    )


def test_the_creator_is_the_owner_and_the_team_page_lists_them(db: Db, team: Team) -> None:
    assert _role(db, team.programme_id, team.owner.id) == "owner"
    page = team.browser(team.owner).get(f"/programmes/{team.programme_id}/team")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Olli Owner" in html and "Add to the team" in html


def test_sharing_with_another_organisation(db: Db, team: Team) -> None:
    """The partner added by email sees the programme, marked as shared by its organisation,
    and the addition is in the owning organisation's audit log."""
    owner = team.browser(team.owner)
    added = owner.post(
        f"/programmes/{team.programme_id}/team",
        data={"email": team.partner.email.upper(), "role": "co_facilitator"},
    )
    assert added.status_code == 303
    assert _role(db, team.programme_id, team.partner.id) == "co_facilitator"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "team.add")).one()
    assert entry.organisation_id == team.owner.organisation_id
    assert entry.details["member_id"] == team.partner.id

    partner = team.browser(team.partner)
    listing = partner.get("/programmes").get_data(as_text=True)
    owning = db.get(Facilitator, team.owner.id)
    assert owning is not None
    assert "Spring mentoring" in listing
    assert f"Shared by {owning.organisation.name}" in listing
    assert partner.get(f"/programmes/{team.programme_id}").status_code == 200
    (listed,) = partner.get("/api/v1/programmes").get_json()
    assert listed["shared"] is True
    assert listed["organisation_name"] == owning.organisation.name
    # A co-facilitator does not manage the team.
    refused = partner.post(f"/programmes/{team.programme_id}/team/{team.owner.id}/remove", data={})
    assert refused.status_code == 403
    assert _role(db, team.programme_id, team.owner.id) == "owner"


def test_unknown_email_is_refused_on_the_form(db: Db, team: Team) -> None:
    response = team.browser(team.owner).post(
        f"/programmes/{team.programme_id}/team",
        data={"email": "nobody@example.org", "role": "observer"},
    )
    assert response.status_code == 422
    assert "There is no facilitator account with this email." in response.get_data(as_text=True)
    roles = db.scalars(
        select(ProgrammeRole).where(ProgrammeRole.programme_id == team.programme_id)
    ).all()
    assert len(roles) == 1


def test_the_last_owner_stays(db: Db, team: Team) -> None:
    owner = team.browser(team.owner)
    base = f"/programmes/{team.programme_id}/team"
    demoted = owner.post(f"{base}/{team.owner.id}", data={"role": "observer"})
    assert demoted.status_code == 303
    assert _role(db, team.programme_id, team.owner.id) == "owner"
    removed = owner.post(f"{base}/{team.owner.id}/remove", data={})
    assert removed.status_code == 303
    assert _role(db, team.programme_id, team.owner.id) == "owner"
    page = owner.get(base).get_data(as_text=True)
    assert "at least one owner" in page

    owner.post(base, data={"email": team.partner.email, "role": "co_facilitator"})
    promoted = owner.post(f"{base}/{team.partner.id}", data={"role": "owner"})
    assert promoted.status_code == 303
    assert _role(db, team.programme_id, team.partner.id) == "owner"
    leaving = owner.post(f"{base}/{team.owner.id}/remove", data={})
    assert leaving.status_code == 303
    assert leaving.headers["Location"].endswith("/programmes")
    assert _role(db, team.programme_id, team.owner.id) is None
    actions = set(db.scalars(select(AuditEntry.action)))
    assert {"team.add", "team.change", "team.remove"} <= actions


def test_legacy_facilitator_rows_count_as_owners(db: Db, team: Team) -> None:
    held = db.scalars(
        select(ProgrammeRole).where(ProgrammeRole.facilitator_id == team.owner.id)
    ).one()
    held.role = "facilitator"
    db.commit()
    owner = team.browser(team.owner)
    added = owner.post(
        f"/programmes/{team.programme_id}/team",
        data={"email": team.partner.email, "role": "observer"},
    )
    assert added.status_code == 303
    assert owner.get(f"/programmes/{team.programme_id}/delete").status_code == 200
    removed = owner.post(f"/programmes/{team.programme_id}/team/{team.owner.id}/remove")
    assert _role(db, team.programme_id, team.owner.id) == "facilitator"  # the last owner
    assert removed.status_code == 303


def test_the_team_page_in_finnish(db: Db, team: Team) -> None:
    owner = db.get(Facilitator, team.owner.id)
    assert owner is not None
    owner.language = "fi"
    db.commit()
    page = team.browser(owner).get(
        f"/programmes/{team.programme_id}/team", headers={"Accept-Language": "fi"}
    )
    html = page.get_data(as_text=True)
    assert "Lisää tiimiin" in html and "Tarkkailija (vain luku)" in html


def test_team_forms_need_the_csrf_token(db: Db, team: Team, csrf_on: None) -> None:
    refused = team.browser(team.owner).post(
        f"/programmes/{team.programme_id}/team",
        data={"email": team.partner.email, "role": "observer"},
    )
    assert refused.status_code == 400
    assert _role(db, team.programme_id, team.partner.id) is None


def test_an_observer_watches_the_board_live_but_writes_nothing(
    app: Flask,
    db: Db,
    team: Team,
    make_session: Callable[..., Any],
) -> None:
    """The live server only reads: an observer may watch the board's channel (the live
    token is a GET); the board's writes over HTTP are refused."""
    owner = team.browser(team.owner)
    owner.post(
        f"/programmes/{team.programme_id}/team",
        data={"email": team.partner.email, "role": "observer"},
    )
    programme = db.get(Programme, team.programme_id)
    assert programme is not None
    session = make_session(programme.groups[0])
    board_id = owner.get(f"/api/v1/sessions/{session.id}/board").get_json()["board"]["id"]
    observer = team.browser(team.partner)
    token = observer.get(f"/api/v1/live/token?channel=board:{board_id}")
    assert token.status_code == 200
    with app.app_context():
        actor = Actor(facilitator=db.get(Facilitator, team.partner.id))
        with read_only():
            assert authorize_channel(db, actor, f"board:{board_id}")
    refused = observer.post(f"/api/v1/boards/{board_id}/topics", json={"title": "Hinnoittelu"})
    assert refused.status_code == 403
    assert (
        observer.post(f"/api/v1/boards/{board_id}/timer", json={"action": "start"}).status_code
        == 403
    )


def test_a_partners_copy_stays_with_the_owning_organisation(db: Db, team: Team) -> None:
    """The next round made by a shared co-facilitator is the owning organisation's, with the
    team and its roles; copying makes nobody an owner."""
    team.browser(team.owner).post(
        f"/programmes/{team.programme_id}/team",
        data={"email": team.partner.email, "role": "co_facilitator"},
    )
    copied = team.browser(team.partner).post(
        f"/programmes/{team.programme_id}/copy", data={"name": "Autumn mentoring"}
    )
    assert copied.status_code == 303
    copy = db.scalars(select(Programme).where(Programme.name == "Autumn mentoring")).one()
    assert copy.organisation_id == team.owner.organisation_id
    assert _role(db, copy.id, team.partner.id) == "co_facilitator"
    assert _role(db, copy.id, team.owner.id) == "owner"

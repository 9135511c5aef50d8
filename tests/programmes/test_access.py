"""Who may read and change a programme: guessed ids of another organisation find nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.identity import facilitator_token
from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.programmes.models import Group, Participant, Programme

SECRETS = ("Secret Spring", "Salainen Osallistuja", "salainen@example.fi", "Secret Group")


@dataclass
class World:
    """One organisation's programme and the people around it."""

    owner: Facilitator
    colleague: Facilitator  # same organisation, no role in the programme
    admin: Facilitator  # same organisation, organisation admin
    stranger: Facilitator  # another organisation
    programme: Programme
    group: Group
    participant: Participant
    session_id: int

    def ids(self) -> dict[str, int]:
        return {
            "p": self.programme.id,
            "g": self.group.id,
            "pt": self.participant.id,
            "s": self.session_id,
        }


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Facilitator],
    make_programme: Callable[..., Programme],
    make_participant: Callable[..., Participant],
    make_session: Callable[..., Any],
) -> World:
    owner = make_facilitator()
    colleague = make_facilitator(organisation=owner.organisation)
    admin = make_facilitator(organisation=owner.organisation, admin=True)
    stranger = make_facilitator()
    # The stranger has a programme of their own, so their ids overlap in range with ours.
    make_programme(facilitator=stranger, name="Stranger's own")
    programme = make_programme(facilitator=owner, name="Secret Spring", groups=1)
    group = programme.groups[0]
    group.name = "Secret Group"
    db.commit()
    participant = make_participant(
        programme, name="Salainen Osallistuja", email="salainen@example.fi"
    )
    session = make_session(group, title="Secret session")
    return World(owner, colleague, admin, stranger, programme, group, participant, session.id)


PAGES_GET = [
    "/programmes/{p}",
    "/programmes/{p}/edit",
    "/programmes/{p}/participants",
    "/programmes/{p}/participants/new",
    "/programmes/{p}/import",
    "/groups/{g}",
    "/participants/{pt}/edit",
    "/sessions/{s}",
]
PAGES_POST: list[tuple[str, dict[str, Any]]] = [
    ("/programmes/{p}/edit", {"name": "Hijacked"}),
    ("/programmes/{p}/groups", {"name": "Hijacked"}),
    ("/groups/{g}", {"name": "Hijacked"}),
    ("/programmes/{p}/participants/new", {"name": "Spy", "email": "spy@example.org"}),
    ("/participants/{pt}/edit", {"name": "Hijacked", "email": "spy@example.org"}),
    ("/participants/{pt}/remove", {}),
    (
        "/programmes/{p}/import",
        {"file": (io.BytesIO(b"Name;Email\nSpy;spy@example.org\n"), "x.csv")},
    ),
]
API: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/programmes/{p}", None),
    ("PATCH", "/api/v1/programmes/{p}", {"name": "Hijacked"}),
    ("GET", "/api/v1/programmes/{p}/groups", None),
    ("POST", "/api/v1/programmes/{p}/groups", {"name": "Hijacked"}),
    ("GET", "/api/v1/groups/{g}", None),
    ("PATCH", "/api/v1/groups/{g}", {"name": "Hijacked"}),
    ("GET", "/api/v1/programmes/{p}/participants", None),
    ("POST", "/api/v1/programmes/{p}/participants", {"name": "Spy", "email": "spy@example.org"}),
    ("GET", "/api/v1/participants/{pt}", None),
    ("PATCH", "/api/v1/participants/{pt}", {"name": "Hijacked"}),
    ("DELETE", "/api/v1/participants/{pt}", None),
    ("GET", "/api/v1/sessions/{s}", None),
]


def as_client(app: Flask, sign_in: Callable[..., FlaskClient], who: Facilitator) -> FlaskClient:
    return sign_in(app.test_client(), who)


def as_api(app: Flask, who: Facilitator) -> FlaskClient:
    with app.app_context():
        token = facilitator_token(who)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def reveals_nothing(response: Any) -> None:
    body = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in body, secret


def untouched(db: Db, world: World) -> None:
    db.expire_all()
    programme = db.get(Programme, world.programme.id)
    assert programme.name == "Secret Spring"
    assert [g.name for g in programme.groups] == ["Secret Group"]
    assert [p.name for p in programme.participants] == ["Salainen Osallistuja"]


def post(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    data = {
        k: ((io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v)
        for k, v in data.items()
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def test_another_organisation_finds_nothing_through_pages(
    app: Flask, db: Db, world: World, sign_in: Callable[..., FlaskClient]
) -> None:
    client = as_client(app, sign_in, world.stranger)
    for template in PAGES_GET:
        response = client.get(template.format(**world.ids()))
        assert response.status_code == 404, template
        reveals_nothing(response)
    for template, data in PAGES_POST:
        response = post(client, template.format(**world.ids()), data)
        assert response.status_code == 404, template
        reveals_nothing(response)
    listing = client.get("/programmes")
    assert listing.status_code == 200
    reveals_nothing(listing)
    untouched(db, world)


def test_another_organisation_finds_nothing_through_the_api(
    app: Flask, db: Db, world: World
) -> None:
    client = as_api(app, world.stranger)
    for method, template, body in API:
        response = client.open(template.format(**world.ids()), method=method, json=body)
        assert response.status_code == 404, (method, template)
        assert response.mimetype == "application/problem+json"
        reveals_nothing(response)
    listing = client.get("/api/v1/programmes")
    assert [p["name"] for p in listing.get_json()] == ["Stranger's own"]
    untouched(db, world)


def test_a_colleague_without_a_role_is_refused(
    app: Flask, db: Db, world: World, sign_in: Callable[..., FlaskClient]
) -> None:
    client = as_client(app, sign_in, world.colleague)
    for template in PAGES_GET:
        response = client.get(template.format(**world.ids()))
        assert response.status_code == 403, template
        assert "You are not a facilitator of this programme." in response.get_data(as_text=True)
        reveals_nothing(response)
    for template, data in PAGES_POST:
        assert post(client, template.format(**world.ids()), data).status_code == 403, template
    api = as_api(app, world.colleague)
    for method, template, body in API:
        response = api.open(template.format(**world.ids()), method=method, json=body)
        assert response.status_code == 403, (method, template)
        assert response.mimetype == "application/problem+json"
        reveals_nothing(response)
    assert api.get("/api/v1/programmes").get_json() == []
    untouched(db, world)


def test_an_organisation_admin_sees_and_manages_every_programme(
    app: Flask, world: World, sign_in: Callable[..., FlaskClient]
) -> None:
    client = as_client(app, sign_in, world.admin)
    assert "Secret Spring" in client.get("/programmes").get_data(as_text=True)
    for template in PAGES_GET:
        assert client.get(template.format(**world.ids())).status_code == 200, template
    api = as_api(app, world.admin)
    names = [p["name"] for p in api.get("/api/v1/programmes").get_json()]
    assert names == ["Secret Spring"]
    renamed = api.patch(f"/api/v1/groups/{world.group.id}", json={"name": "Admin's group"})
    assert renamed.status_code == 200


def test_the_owner_reaches_everything(
    app: Flask, world: World, sign_in: Callable[..., FlaskClient]
) -> None:
    client = as_client(app, sign_in, world.owner)
    for template in PAGES_GET:
        assert client.get(template.format(**world.ids())).status_code == 200, template
    api = as_api(app, world.owner)
    for method, template, _body in API:
        if method == "GET":
            assert api.get(template.format(**world.ids())).status_code == 200, template


def test_group_ids_of_another_programme_cannot_be_joined(
    app: Flask,
    world: World,
    make_programme: Callable[..., Programme],
    sign_in: Callable[..., FlaskClient],
) -> None:
    theirs = make_programme(facilitator=world.stranger, name="Theirs")
    api = as_api(app, world.stranger)
    response = api.post(
        f"/api/v1/programmes/{theirs.id}/participants",
        json={"name": "Spy", "email": "spy@example.org", "group_ids": [world.group.id]},
    )
    assert response.status_code == 422
    response = api.patch(
        f"/api/v1/programmes/{theirs.id}", json={"name": "Still theirs", "platform": "jitsi"}
    )
    assert response.status_code == 422  # the platform is not a field one can patch

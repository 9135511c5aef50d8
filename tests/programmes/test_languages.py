"""Pages, errors and API problems of programmes in Finnish and English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.identity import facilitator_token
from companion.accounts.models import Facilitator
from companion.programmes.models import Programme


@pytest.fixture()
def facilitator(make_facilitator: Callable[..., Facilitator]) -> Facilitator:
    return make_facilitator()


@pytest.fixture()
def programme(make_programme: Callable[..., Programme], facilitator: Facilitator) -> Programme:
    return make_programme(facilitator=facilitator)


def page(response: Any) -> str:
    body: str = response.get_data(as_text=True)
    return body


@pytest.mark.parametrize(
    ("path", "english", "finnish"),
    [
        ("/programmes", "New programme", "Uusi ohjelma"),
        ("/programmes/new", "Create programme", "Luo ohjelma"),
        ("/programmes/{p}", "Coming sessions", "Tulevat tapaamiset"),
        ("/programmes/{p}/participants", "Add a participant", "Lisää osallistuja"),
        ("/programmes/{p}/import", "Upload and preview", "Lähetä ja esikatsele"),
        ("/groups/{g}", "Intake survey", "Etukäteiskysely"),
        ("/interest", "Interest in later rounds", "Kiinnostuneet tulevista kierroksista"),
    ],
)
def test_facilitator_pages_in_both_languages(
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
    programme: Programme,
    path: str,
    english: str,
    finnish: str,
) -> None:
    sign_in(client, facilitator)
    url = path.format(p=programme.id, g=programme.groups[0].id)
    assert english in page(client.get(url + "?lang=en"))
    in_finnish = page(client.get(url + "?lang=fi"))
    assert finnish in in_finnish
    assert '<html lang="fi">' in in_finnish
    # The choice sticks for the rest of the visit.
    assert finnish in page(client.get(url))


def test_the_browser_language_is_used_without_a_choice(
    app: Flask,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
) -> None:
    client = sign_in(app.test_client(), facilitator)
    finnish = client.get("/programmes", headers={"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.8"})
    assert "Uusi ohjelma" in page(finnish)
    english = client.get("/programmes", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "New programme" in page(english)


def test_a_facilitators_own_language_wins_over_the_browser(
    app: Flask,
    make_facilitator: Callable[..., Facilitator],
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
) -> None:
    finn = make_facilitator(language="fi")
    client = sign_in(app.test_client(), finn)
    response = client.get("/programmes", headers={"Accept-Language": "en"})
    assert "Aloita ensimmäinen ohjelmasi" in page(response)


def test_error_pages_in_finnish(
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    make_facilitator: Callable[..., Facilitator],
    programme: Programme,
) -> None:
    sign_in(client, make_facilitator(organisation=programme.organisation))
    forbidden = client.get(f"/programmes/{programme.id}?lang=fi")
    assert forbidden.status_code == 403
    assert "Et ole tämän ohjelman fasilitaattori." in page(forbidden)
    missing = client.get("/programmes/999999?lang=fi")
    assert missing.status_code == 404
    assert "Ohjelmaa ei löydy." in page(missing)
    assert '<html lang="fi">' in page(missing)
    survey = client.get("/intake/nope?lang=fi")
    assert "Kyselyn osoite ei ole voimassa." in page(survey)


def test_form_errors_in_finnish(
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
    programme: Programme,
) -> None:
    sign_in(client, facilitator)
    response = client.post(
        f"/programmes/{programme.id}/participants/new?lang=fi",
        data={"name": "Aino", "email": "ei-osoite"},
    )
    assert response.status_code == 422
    assert "Sähköposti: Anna kelvollinen sähköpostiosoite." in page(response)


def test_api_problems_follow_accept_language(
    app: Flask, facilitator: Facilitator, programme: Programme
) -> None:
    with app.app_context():
        token = facilitator_token(facilitator)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "fi"}
    response = client.get("/api/v1/programmes/999999", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["detail"] == "Ohjelmaa ei löydy."
    response = client.post(
        f"/api/v1/programmes/{programme.id}/groups", json={"name": "Group 1"}, headers=headers
    )
    assert response.get_json()["detail"] == "Ohjelmassa on jo tämänniminen ryhmä."

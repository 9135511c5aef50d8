"""The public intake survey of a group and the interest form of an organisation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.models import Facilitator, Organisation
from companion.core.db import Db, utcnow
from companion.privacy.models import Consent
from companion.programmes.models import (
    Group,
    InterestSubmission,
    Membership,
    Participant,
    Programme,
)
from companion.programmes.operations import CONSENT_VERSION

ANSWER = {
    "name": "Aino Virtanen",
    "email": "Aino@Example.fi",
    "phone": "+358 40 123 4567",
    "company": "Virtasen Puutyö Oy",
    "industry": "Rakentaminen",
    "region": "Turku",
    "years_as_entrepreneur": "12",
    "interests": "Hinnoittelu, ajanhallinta",
    "goals": "Sparrauskaveri",
    "language": "fi",
    "consent": "on",
}


@pytest.fixture()
def facilitator(make_facilitator: Callable[..., Facilitator]) -> Facilitator:
    return make_facilitator()


@pytest.fixture()
def programme(make_programme: Callable[..., Programme], facilitator: Facilitator) -> Programme:
    return make_programme(facilitator=facilitator, name="eKollega kevät 2027", language="fi")


@pytest.fixture()
def group(programme: Programme) -> Group:
    return programme.groups[0]


def survey(group: Group) -> str:
    return f"/intake/{group.intake_token}"


def text(response: Any) -> str:
    body: str = response.get_data(as_text=True)
    return body


# --- intake survey ----------------------------------------------------------------------------


def test_the_survey_is_public_and_labelled(client: FlaskClient, group: Group) -> None:
    response = client.get(survey(group))
    assert response.status_code == 200
    page = text(response)
    assert "eKollega kevät 2027: Group 1" in page
    for field in ("name", "email", "industry", "region", "years_as_entrepreneur", "consent"):
        assert f'for="f-{field}"' in page, field
    # The programme writes in Finnish, so emails default to Finnish.
    assert '<option value="fi" selected>' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_an_answer_creates_a_participant_membership_and_consent(
    client: FlaskClient, group: Group, programme: Programme, db: Db
) -> None:
    before = utcnow()
    response = client.post(survey(group), data=ANSWER)
    assert response.status_code == 200
    assert "Thank you, Aino Virtanen!" in text(response)

    participant = db.scalar(select(Participant))
    assert participant.programme_id == programme.id
    assert participant.email == "aino@example.fi"
    assert participant.source == "survey"
    assert participant.years_as_entrepreneur == 12
    assert participant.interests == "Hinnoittelu, ajanhallinta"
    assert [m.group_id for m in db.scalars(select(Membership))] == [group.id]
    consent = db.scalar(select(Consent))
    assert consent.participant_id == participant.id
    assert (consent.purpose, consent.source, consent.text_version) == (
        "programme",
        "survey",
        CONSENT_VERSION,
    )
    assert before - timedelta(seconds=1) <= consent.given_at <= utcnow()


def test_consent_is_required_with_a_clear_field_error(
    client: FlaskClient, group: Group, db: Db
) -> None:
    response = client.post(survey(group), data={**ANSWER, "consent": ""})
    assert response.status_code == 422
    page = text(response)
    assert "Please give your consent so that we can store your answers." in page
    assert 'href="#f-consent"' in page
    assert 'id="f-consent-error"' in page
    assert 'aria-describedby="f-consent-error"' in page
    # The other answers stay filled in.
    assert 'value="Aino Virtanen"' in page
    assert db.scalar(select(Participant)) is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "aino"}, "email", "Enter a valid email address."),
        ({"industry": ""}, "industry", "This field is required."),
        ({"region": "x" * 121}, "region", "Use at most 120 characters."),
        ({"years_as_entrepreneur": "-3"}, "years_as_entrepreneur", "Enter 0 or more."),
        ({"language": "de"}, "language", "Choose Finnish (fi) or English (en)."),
        ({"name": "Aino\x00"}, "name", "control characters"),
    ],
)
def test_survey_field_errors(
    client: FlaskClient, group: Group, db: Db, change: dict[str, str], field: str, message: str
) -> None:
    response = client.post(survey(group), data={**ANSWER, **change})
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert f'id="f-{field}-error"' in page
    assert db.scalar(select(Participant)) is None


def test_a_second_answer_for_a_known_email_changes_nothing(
    client: FlaskClient, programme: Programme, db: Db
) -> None:
    """The survey is public: knowing someone's email must not let anyone rewrite their answers
    or learn that they take part."""
    first, second = programme.groups
    client.post(survey(first), data=ANSWER)
    again = client.post(
        survey(second),
        data={**ANSWER, "name": "Someone Else", "email": "AINO@example.fi", "goals": "Hijack"},
    )
    assert again.status_code == 200
    page = text(again)
    assert "Someone Else" in page  # thanked by the name they typed, not the stored one
    assert ANSWER["name"] not in page
    people = db.scalars(select(Participant)).all()
    assert len(people) == 1
    assert people[0].goals == ANSWER["goals"]
    assert {m.group_id for m in db.scalars(select(Membership))} == {first.id}
    assert len(db.scalars(select(Consent)).all()) == 1


def test_a_closed_survey_says_so(client: FlaskClient, group: Group, db: Db) -> None:
    db.get(Group, group.id).intake_open = False
    db.commit()
    page = text(client.get(survey(group)))
    assert "This survey is closed. Please contact the organisers." in page
    assert "<form" not in page.split("<main", 1)[1]
    late = client.post(survey(group), data=ANSWER)
    assert late.status_code == 403
    assert "This survey is closed" in text(late)
    assert db.scalar(select(Participant)) is None


@pytest.mark.parametrize("token", ["nope", "a" * 65, "%00", "..", "x" * 5000])
def test_an_unknown_survey_address(client: FlaskClient, token: str) -> None:
    response = client.get(f"/intake/{token}")
    assert response.status_code == 404
    assert "This survey address is not valid." in text(response)
    assert client.post(f"/intake/{token}", data=ANSWER).status_code == 404


def test_the_survey_in_english_and_finnish(client: FlaskClient, group: Group) -> None:
    assert "Your name" in text(client.get(survey(group) + "?lang=en"))
    finnish = text(client.get(survey(group) + "?lang=fi"))
    assert "Nimesi" in finnish
    assert '<html lang="fi">' in finnish
    browser = text(
        FlaskClient(client.application).get(survey(group), headers={"Accept-Language": "fi"})
    )
    assert '<html lang="fi">' in browser


def test_the_facilitator_sees_the_answers_on_the_group_page(
    client: FlaskClient,
    app: Flask,
    group: Group,
    facilitator: Facilitator,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
) -> None:
    client.post(survey(group), data=ANSWER)
    page = text(sign_in(app.test_client(), facilitator).get(f"/groups/{group.id}"))
    for answer in ("Aino Virtanen", "Virtasen Puutyö Oy", "Rakentaminen", "Hinnoittelu"):
        assert answer in page
    assert "survey" in page


def test_the_survey_is_rate_limited(client: FlaskClient, group: Group) -> None:
    for number in range(20):
        client.post(survey(group), data={**ANSWER, "email": f"p{number}@example.fi"})
    assert client.post(survey(group), data=ANSWER).status_code == 429


# --- interest form ----------------------------------------------------------------------------


def interest_form(organisation: Organisation) -> str:
    return f"/interest/{organisation.interest_token}"


INTEREST = {
    "name": "Eero Mäkelä",
    "email": "eero@example.fi",
    "company": "Mäkelän Konsultointi",
    "industry": "Konsultointi",
    "region": "Salo",
    "message": "Syksyllä sopisi",
    "language": "fi",
    "consent": "on",
}


def test_interest_form_saves_with_consent(
    client: FlaskClient, facilitator: Facilitator, db: Db
) -> None:
    url = interest_form(facilitator.organisation)
    assert client.get(url).status_code == 200
    response = client.post(url, data=INTEREST)
    assert response.status_code == 200
    assert "We will be in touch when the next round starts." in text(response)
    entry = db.scalar(select(InterestSubmission))
    assert entry.organisation_id == facilitator.organisation_id
    assert entry.consent_version == CONSENT_VERSION
    assert entry.consented_at is not None
    # The same address again (in any letter case) changes nothing: the form is public, so
    # anyone could otherwise replace someone's name, company and message (issue 13, item 4).
    again = client.post(
        url, data={**INTEREST, "name": "Someone Else", "email": "EERO@example.fi", "message": "x"}
    )
    assert again.status_code == 200
    assert "We will be in touch when the next round starts." in text(again)
    db.expire_all()
    entries = db.scalars(select(InterestSubmission)).all()
    assert [(e.name, e.message) for e in entries] == [(INTEREST["name"], INTEREST["message"])]


def test_interest_form_needs_consent(client: FlaskClient, facilitator: Facilitator, db: Db) -> None:
    response = client.post(
        interest_form(facilitator.organisation), data={**INTEREST, "consent": ""}
    )
    assert response.status_code == 422
    assert "Please give your consent" in text(response)
    assert db.scalar(select(InterestSubmission)) is None


def test_interest_form_unknown_address(client: FlaskClient) -> None:
    response = client.get("/interest/not-a-token")
    assert response.status_code == 404
    assert "This form address is not valid." in text(response)


def test_the_facilitator_lists_their_organisations_interest(
    client: FlaskClient,
    app: Flask,
    facilitator: Facilitator,
    make_facilitator: Callable[..., Facilitator],
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
) -> None:
    other = make_facilitator()
    client.post(interest_form(facilitator.organisation), data=INTEREST)
    client.post(
        interest_form(other.organisation),
        data={**INTEREST, "name": "Toisen Väki", "email": "toinen@example.fi"},
    )
    page = text(sign_in(app.test_client(), facilitator).get("/interest"))
    assert "Eero Mäkelä" in page and "Syksyllä sopisi" in page
    assert "Toisen Väki" not in page
    assert f"/interest/{facilitator.organisation.interest_token}" in page
    empty = text(sign_in(app.test_client(), other).get("/interest"))
    assert "Eero Mäkelä" not in empty and "Toisen Väki" in empty

"""Offers and needs over HTTP: the intake survey, the participant's own page, the import, the
facilitator's theme list and participant form, and who may reach them."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.needs.models import ParticipantNeeds, ProgrammeTheme
from companion.programmes.models import Participant, Programme
from tests.breakouts.conftest import enter_as
from tests.programmes.importing.conftest import form_of

ANSWER = {
    "name": "Aino Virtanen",
    "email": "aino@example.fi",
    "company": "Virtasen Puutyö Oy",
    "industry": "Rakentaminen",
    "region": "Turku",
    "years_as_entrepreneur": "12",
    "language": "fi",
    "consent": "on",
}


@pytest.fixture()
def facilitator(make_facilitator: Callable[..., Facilitator]) -> Facilitator:
    return make_facilitator()


@pytest.fixture()
def programme(make_programme: Callable[..., Programme], facilitator: Facilitator) -> Programme:
    return make_programme(facilitator=facilitator, language="fi")


def needs_of(db: Db, participant_id: int) -> ParticipantNeeds | None:
    return db.scalar(
        select(ParticipantNeeds).where(ParticipantNeeds.participant_id == participant_id)
    )


def text(response: Any) -> str:
    body: str = response.get_data(as_text=True)
    return body


def test_the_intake_survey_takes_offers_and_needs(
    client: FlaskClient, programme: Programme, db: Db
) -> None:
    url = f"/intake/{programme.groups[0].intake_token}"
    page = text(client.get(url))
    # The programme's themes (the default set) in the page's language.
    assert 'name="offers" value="pricing"' in page and "Pricing" in page
    finnish = text(client.get(url, headers={"Accept-Language": "fi"}))
    assert "Hinnoittelu" in finnish and "Pricing" not in finnish
    assert 'name="needs" value="finance"' in page and 'name="show_needs"' in page
    response = client.post(
        url,
        data={
            **ANSWER,
            "offers": ["pricing", "no-such-theme"],
            "needs": ["finance", "sales"],
            "offer_text": "Hinnoittelen puusepäntöitä",
            "show_needs": "on",
        },
    )
    assert response.status_code == 200, text(response)
    participant = db.scalar(select(Participant))
    entry = needs_of(db, participant.id)
    assert entry is not None
    assert (entry.offers, entry.needs) == (["pricing"], ["sales", "finance"])
    assert entry.offer_text == "Hinnoittelen puusepäntöitä" and entry.shown


def test_the_survey_without_offers_or_needs_stores_none(
    client: FlaskClient, programme: Programme, db: Db
) -> None:
    response = client.post(f"/intake/{programme.groups[0].intake_token}", data=ANSWER)
    assert response.status_code == 200
    entry = needs_of(db, db.scalar(select(Participant)).id)
    assert entry is None or (entry.offers, entry.needs, entry.shown) == ([], [], False)


def test_a_participant_edits_their_own_and_sees_them_on_their_page(
    app: Flask,
    db: Db,
    client: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
) -> None:
    aino = make_participant(programme, name="Aino Aalto", language="en")
    # Without a join-link identity the page asks who you are.
    assert 'name="offers"' not in text(client.get("/me/offers-needs"))
    enter_as(app, db, client, aino)
    page = text(client.get("/me/offers-needs"))
    assert "What I can offer others" in page and "Pricing" in page
    saved = client.post(
        "/me/offers-needs",
        data={"offers": ["pricing"], "needs": ["legal"], "need_text": "Sopimukset"},
    )
    assert saved.status_code == 303
    entry = needs_of(db, aino.id)
    assert entry is not None
    assert (entry.offers, entry.needs, entry.need_text) == (["pricing"], ["legal"], "Sopimukset")
    assert not entry.shown  # not shown to others unless ticked
    me = text(client.get("/me"))
    assert "I can offer: Pricing" in me and "I am looking for: Legal" in me
    assert "Only the facilitators see these." in me
    client.post("/me/offers-needs", data={"offers": ["pricing"], "show_needs": "on"})
    assert needs_of(db, aino.id).shown  # type: ignore[union-attr]
    # Too long a text is refused with the field named.
    refused = client.post("/me/offers-needs", data={"offer_text": "x" * 301})
    assert refused.status_code == 422 and 'id="f-offer_text-error"' in text(refused)


def test_the_facilitator_edits_the_theme_list(
    db: Db,
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
    programme: Programme,
    make_participant: Callable[..., Participant],
    app: Flask,
) -> None:
    aino = make_participant(programme, name="Aino Aalto")
    enter_as(app, db, client, aino)
    client.post("/me/offers-needs", data={"offers": ["pricing", "legal"], "needs": ["sales"]})
    sign_in(client, facilitator)
    url = f"/programmes/{programme.id}/themes"
    page = text(client.get(url))
    assert 'value="Hinnoittelu"' in page and 'value="Pricing"' in page
    # Keep pricing (renamed), drop legal and everything else, add one.
    response = client.post(
        url,
        data={
            "themes-0-key": "pricing",
            "themes-0-name_fi": "Hinnoittelu ja tarjoukset",
            "themes-0-name_en": "Pricing and quotes",
            "themes-1-key": "legal",
            "themes-1-name_fi": "Juridiikka",
            "themes-1-remove": "on",
            "themes-2-key": "",
            "themes-2-name_fi": "Rahoitus",
            "themes-2-name_en": "Funding",
        },
    )
    assert response.status_code == 303, text(response)
    rows = db.scalars(select(ProgrammeTheme).order_by(ProgrammeTheme.position)).all()
    assert [(r.name_fi, r.name_en) for r in rows] == [
        ("Hinnoittelu ja tarjoukset", "Pricing and quotes"),
        ("Rahoitus", "Funding"),
    ]
    entry = needs_of(db, aino.id)
    assert entry is not None and (entry.offers, entry.needs) == (["pricing"], [])


def test_the_facilitators_form_keeps_the_participants_choice_to_show(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
    programme: Programme,
    make_participant: Callable[..., Participant],
) -> None:
    aino = make_participant(programme, name="Aino Aalto")
    sign_in(client, facilitator)
    url = f"/participants/{aino.id}/offers-needs"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"offers": ["it"], "show_needs": "on"})
    assert response.status_code == 303
    entry = needs_of(db, aino.id)
    assert entry is not None and entry.offers == ["it"] and not entry.shown
    # The participant page shows the form.
    assert "offers-needs" in text(client.get(f"/participants/{aino.id}/edit"))


def test_other_organisations_reach_neither_themes_nor_a_participants_needs(
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    make_facilitator: Callable[..., Facilitator],
    programme: Programme,
    make_participant: Callable[..., Participant],
    db: Db,
) -> None:
    aino = make_participant(programme, name="Aino Aalto")
    sign_in(client, make_facilitator())  # another organisation
    for url in (f"/programmes/{programme.id}/themes", f"/participants/{aino.id}/offers-needs"):
        assert client.get(url).status_code in {403, 404}, url
        assert client.post(url, data={"offers": ["it"]}).status_code in {403, 404}, url
    assert needs_of(db, aino.id) is None


def test_the_import_reads_offers_and_needs_columns(
    db: Db,
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
    programme: Programme,
) -> None:
    sign_in(client, facilitator)
    csv = (
        "Nimi,Sähköposti,Toimiala,Kunta,Ryhmä,Voin tarjota,Etsin\n"
        'Aino Aalto,aino@example.fi,Design,Turku,Group 1,Hinnoittelu,"Myynti; IT and web"\n'
        "Bertta Berg,bertta@example.fi,Food,Salo,Group 1,,\n"
    ).encode()
    uploaded = client.post(
        f"/programmes/{programme.id}/import",
        data={"file": (io.BytesIO(csv), "people.csv")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 303, text(uploaded)
    url = uploaded.headers["Location"]
    page = text(client.get(url))
    form = form_of(page)
    assert form.get("map_offers") and form.get("map_needs"), form  # the columns were recognised
    done = client.post(url, data={**form, "action": "import"})
    assert done.status_code in {200, 303}, text(done)
    people = {p.email: p for p in db.scalars(select(Participant))}
    entry = needs_of(db, people["aino@example.fi"].id)
    assert entry is not None
    assert (entry.offers, entry.needs, entry.shown) == (["pricing"], ["sales", "it"], False)
    assert needs_of(db, people["bertta@example.fi"].id) is None


def test_the_import_names_unknown_themes(
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
    programme: Programme,
) -> None:
    sign_in(client, facilitator)
    csv = (
        "Nimi,Sähköposti,Toimiala,Kunta,Ryhmä,Voin tarjota\n"
        "Aino Aalto,aino@example.fi,Design,Turku,Group 1,Astrologia\n"
    ).encode()
    uploaded = client.post(
        f"/programmes/{programme.id}/import",
        data={"file": (io.BytesIO(csv), "people.csv")},
        content_type="multipart/form-data",
    )
    page = text(client.get(uploaded.headers["Location"]))
    assert "Unknown themes: “Astrologia”" in page

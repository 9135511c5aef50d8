"""Observers see a programme's people by name only (Capability.CONTACT_DETAILS): the pages
that show people leave the addresses out, the pages about mail and the personal-data exports
refuse them. The roles matrix (test_roles_matrix.py) covers the participants page, the
participant API, the outbox and the people export for every role; this covers the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.access import observes_only
from companion.accounts.models import Facilitator
from companion.accounts.operations import grant_programme
from companion.accounts.roles import Role
from companion.core.db import Db, utcnow
from companion.core.mail import queue_mail
from companion.programmes.models import InterestSubmission, Programme
from tests.conftest import _Client

EMAIL = "aino.a@example.fi"
PHONE = "+358 40 123 4567"
NOTE = "contacts-hidden"


@dataclass
class People:
    """An owner's programme with Aino in its group and an ended session; an observer and a
    co-facilitator of the same organisation; `browser(person)` signs one in."""

    programme_id: int
    group_id: int
    session_id: int
    participant_id: int
    owner: Facilitator
    co_facilitator: Facilitator
    observer: Facilitator
    browser: Callable[[Facilitator], FlaskClient]


@pytest.fixture()
def people(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> People:
    owner = make_facilitator(name="Olli Owner", language="en")
    programme = make_programme(facilitator=owner, name="Spring mentoring")
    group = programme.groups[0]
    aino = make_participant(programme, group=group, name="Aino Aalto", email=EMAIL, phone=PHONE)
    make_participant(programme, group=group, name="Bea Berg")
    session = make_session(group, starts_at=utcnow() - timedelta(days=1))
    co_facilitator = make_facilitator(organisation=owner.organisation, name="Cora Co")
    observer = make_facilitator(organisation=owner.organisation, name="Otto Observer")
    with app.app_context():
        held = db.get(Programme, programme.id)
        assert held is not None
        grant_programme(db, db.merge(co_facilitator), held, Role.CO_FACILITATOR)
        grant_programme(db, db.merge(observer), held, Role.OBSERVER)
        db.commit()

    def browser(person: Facilitator) -> FlaskClient:
        app.test_client_class = _Client
        made = app.test_client()
        made.test_db = db  # type: ignore[attr-defined]
        return sign_in(made, db.merge(person))

    return People(
        programme.id, group.id, session.id, aino.id, owner, co_facilitator, observer, browser
    )


def test_the_participant_page_leaves_out_the_address_and_phone(people: People) -> None:
    """The observer sees Aino's page without her address or phone, not even in a field."""
    url = f"/participants/{people.participant_id}/edit"
    shown = people.browser(people.co_facilitator).get(url).get_data(as_text=True)
    assert EMAIL in shown and PHONE in shown and NOTE not in shown
    assert "data.json" in shown
    response = people.browser(people.observer).get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Aino Aalto" in page
    assert EMAIL not in page and PHONE not in page
    assert 'name="email"' not in page and 'name="phone"' not in page
    assert page.count(NOTE) == 1
    assert "data.json" not in page  # the export it would be refused


def test_the_group_page_names_members_without_addresses(people: People) -> None:
    url = f"/groups/{people.group_id}"
    assert EMAIL in people.browser(people.owner).get(url).get_data(as_text=True)
    response = people.browser(people.observer).get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Aino Aalto" in page and EMAIL not in page
    assert page.count(NOTE) == 1


def test_an_observer_cannot_search_by_address(people: People) -> None:
    """Searching by an address would tell whose it is: for an observer it finds nobody."""
    url = f"/programmes/{people.programme_id}/participants?q=aino.a@example"
    assert "Aino Aalto" in people.browser(people.owner).get(url).get_data(as_text=True)
    page = people.browser(people.observer).get(url).get_data(as_text=True)
    assert "Aino Aalto" not in page
    assert "Search by name, company or industry" in page


def test_a_persons_data_export_is_refused_to_an_observer(people: People) -> None:
    url = f"/participants/{people.participant_id}/data.json"
    allowed = people.browser(people.co_facilitator).get(url)
    assert allowed.status_code == 200 and EMAIL in allowed.get_data(as_text=True)
    refused = people.browser(people.observer).get(url)
    assert refused.status_code == 403
    assert EMAIL not in refused.get_data(as_text=True)


def test_the_api_lists_participants_without_contact_details(people: People) -> None:
    url = f"/api/v1/programmes/{people.programme_id}/participants"
    owners = {p["name"]: p for p in people.browser(people.owner).get(url).get_json()}
    assert owners["Aino Aalto"]["email"] == EMAIL and owners["Aino Aalto"]["phone"] == PHONE
    observers = {p["name"]: p for p in people.browser(people.observer).get(url).get_json()}
    assert set(observers) == {"Aino Aalto", "Bea Berg"}
    assert all(p["email"] is None and p["phone"] is None for p in observers.values())


@pytest.mark.parametrize("path", ["/sessions/{sid}/digest", "/sessions/{sid}/digest/preview.html"])
def test_the_summary_email_pages_are_refused_to_an_observer(people: People, path: str) -> None:
    """The summary email is mail to people, with their addresses: 403 with a page that
    says why (in English here: the observer's language is the default)."""
    url = path.format(sid=people.session_id)
    assert people.browser(people.owner).get(url).status_code == 200
    refused = people.browser(people.observer).get(url)
    assert refused.status_code == 403
    body = refused.get_data(as_text=True)
    assert EMAIL not in body


def test_the_session_page_offers_no_summary_email_to_an_observer(people: People) -> None:
    url = f"/sessions/{people.session_id}"
    digest = f"/sessions/{people.session_id}/digest"
    assert digest in people.browser(people.owner).get(url).get_data(as_text=True)
    page = people.browser(people.observer).get(url)
    assert page.status_code == 200
    assert digest not in page.get_data(as_text=True)


def test_the_outcomes_page_offers_no_people_export_to_an_observer(people: People) -> None:
    url = f"/programmes/{people.programme_id}/outcomes"
    export = f"/programmes/{people.programme_id}/outcomes/participants.csv"
    assert export in people.browser(people.owner).get(url).get_data(as_text=True)
    page = people.browser(people.observer).get(url).get_data(as_text=True)
    assert f"/programmes/{people.programme_id}/outcomes/attendance.csv" in page
    assert export not in page


def test_sending_the_survey_is_not_shown_to_an_observer(people: People) -> None:
    """The survey's send page lists its recipients' addresses."""
    url = f"/programmes/{people.programme_id}/survey/send"
    people.browser(people.owner).get(f"/programmes/{people.programme_id}/survey")
    shown = people.browser(people.owner).get(url)
    assert shown.status_code == 200 and EMAIL in shown.get_data(as_text=True)
    refused = people.browser(people.observer).get(url)
    assert refused.status_code == 403 and EMAIL not in refused.get_data(as_text=True)


def test_the_refusal_says_why_in_finnish(people: People, app: Flask, db: Db) -> None:
    with app.app_context():
        observer = db.merge(people.observer)
        observer.language = "fi"
        db.commit()
    refused = people.browser(people.observer).get(
        f"/participants/{people.participant_id}/data.json"
    )
    assert refused.status_code == 403
    assert "Tarkkailijat eivät näe ihmisten yhteystietoja" in refused.get_data(as_text=True)


def test_an_observers_account_sees_the_interest_list_by_name(
    people: People, app: Flask, db: Db, make_facilitator: Callable[..., Any]
) -> None:
    """The interest list is the organisation's: an account that only observes sees names,
    a colleague without any role and the running roles see addresses; inviting from it is
    refused to the observer before anything is shown."""
    with app.app_context():
        observer = db.merge(people.observer)
        db.add(
            InterestSubmission(
                organisation_id=observer.organisation_id,
                name="Iida Interested",
                email="iida@example.fi",
                consent_version="2026-11-v2",
            )
        )
        db.commit()
        assert observes_only(observer)
        assert not observes_only(db.merge(people.co_facilitator))
    colleague = make_facilitator(organisation=people.owner.organisation, name="Col League")
    for person in (people.owner, people.co_facilitator, colleague):
        assert "iida@example.fi" in people.browser(person).get("/interest").get_data(as_text=True)
    response = people.browser(people.observer).get("/interest")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Iida Interested" in page and "iida@example.fi" not in page
    assert page.count(NOTE) == 1
    with app.app_context():
        submission_id = db.query(InterestSubmission.id).scalar()
    invite = f"/interest/invite?submission={submission_id}&group_id={people.group_id}"
    refused = people.browser(people.observer).get(invite)
    assert refused.status_code == 403
    assert "iida@example.fi" not in refused.get_data(as_text=True)


def test_the_outbox_says_what_an_observer_does_not_see(people: People, app: Flask, db: Db) -> None:
    """An observer's outbox leaves out the mail of the programmes they observe, and says so."""
    with app.app_context():
        queue_mail(
            db,
            to_address=EMAIL,
            subject="Your join link",
            text_body="Dear Aino",
            programme_id=people.programme_id,
        )
        db.commit()
    shown = people.browser(people.co_facilitator).get("/outbox").get_data(as_text=True)
    assert "Your join link" in shown and "you observe" not in shown
    page = people.browser(people.observer).get("/outbox").get_data(as_text=True)
    assert "Your join link" not in page and EMAIL not in page
    assert "The mail of the programme you observe is not shown" in page

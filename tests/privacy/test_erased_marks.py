"""The mark an erasure leaves: a keyed hash of the email per programme, never the email. A
facilitator cannot add the person back (form and API); the person signing up again themselves
can, and that clears the mark; the programme's deletion takes its marks along."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

from companion.accounts.identity import facilitator_token
from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.core.errors import PROBLEM_JSON
from companion.privacy.erased import email_digest, was_erased
from companion.privacy.erasure import erase_participant, erase_programme_data
from companion.privacy.models import ErasedAddress
from companion.programmes.models import ERASED, Participant, Programme
from companion.programmes.operations import erased_message
from companion.programmes.rounds import delete_programme
from tests.programmes.test_intake import ANSWER

EMAIL = "Sanna.Jarvinen@Example.fi"


@pytest.fixture()
def facilitator(make_facilitator: Callable[..., Facilitator]) -> Facilitator:
    return make_facilitator()


@pytest.fixture()
def programme(make_programme: Callable[..., Programme], facilitator: Facilitator) -> Programme:
    return make_programme(facilitator=facilitator, name="Kevät 2027")


@pytest.fixture()
def erased(
    app: Flask, db: Db, programme: Programme, make_participant: Callable[..., Participant]
) -> Programme:
    """The programme after Sanna asked to be erased from it."""
    person = make_participant(programme, name="Sanna Järvinen", email=EMAIL.lower())
    with app.app_context():
        erase_participant(db, db.get_one(Participant, person.id))
    db.commit()
    return programme


def marks(db: Db) -> list[ErasedAddress]:
    db.expire_all()
    return list(db.scalars(select(ErasedAddress)))


def text(response: Any) -> str:
    body: str = response.get_data(as_text=True)
    return body


def test_the_erasure_keeps_a_keyed_hash_not_the_email(
    app: Flask, db: Db, erased: Programme
) -> None:
    [mark] = marks(db)
    assert mark.programme_id == erased.id
    assert len(mark.digest) == 64 and int(mark.digest, 16) >= 0
    assert "sanna" not in mark.digest.lower() and EMAIL.lower() not in mark.digest
    with app.app_context():
        assert mark.digest == email_digest(f"  {EMAIL.upper()} ")
        # Keyed: a plain hash of the address (guessable) is not what is stored.
        import hashlib

        assert mark.digest != hashlib.sha256(EMAIL.lower().encode()).hexdigest()
        assert was_erased(db, erased.id, EMAIL)
        assert not was_erased(db, erased.id, "someone.else@example.fi")


def test_the_mark_is_per_programme(
    app: Flask,
    db: Db,
    erased: Programme,
    make_programme: Callable[..., Programme],
    facilitator: Facilitator,
) -> None:
    other = make_programme(facilitator=facilitator, name="Syksy 2027")
    with app.app_context():
        assert not was_erased(db, other.id, EMAIL)


def test_a_facilitator_cannot_add_them_back_by_hand(
    signed_in: FlaskClient, db: Db, erased: Programme
) -> None:
    response = signed_in.post(
        f"/programmes/{erased.id}/participants/new",
        data={"name": "Sanna Järvinen", "email": EMAIL, "group_ids": str(erased.groups[0].id)},
    )
    # The form shows it at the email field, as it shows a duplicate email.
    assert response.status_code == 422
    page = text(response)
    assert "This person asked to be erased from this programme" in page
    assert 'aria-invalid="true"' in page
    db.expire_all()
    assert db.scalar(select(Participant).where(Participant.source != ERASED)) is None


def test_the_api_refuses_them_with_a_problem(
    app: Flask, db: Db, facilitator: Facilitator, erased: Programme
) -> None:
    with app.app_context():
        token = facilitator_token(facilitator)
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    response = api.post(
        f"/api/v1/programmes/{erased.id}/participants",
        json={"name": "Sanna Järvinen", "email": EMAIL.lower()},
    )
    assert response.status_code == 409
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert "asked to be erased" in body["detail"]
    db.expire_all()
    assert db.scalar(select(Participant).where(Participant.source != ERASED)) is None


def test_changing_someones_email_to_theirs_is_refused(
    app: Flask,
    db: Db,
    signed_in: FlaskClient,
    erased: Programme,
    make_participant: Callable[..., Participant],
) -> None:
    other = make_participant(erased, name="Olli", email="olli@example.fi")
    response = signed_in.post(
        f"/participants/{other.id}/edit", data={"name": "Olli", "email": EMAIL}
    )
    assert response.status_code == 422
    assert "asked to be erased" in text(response)
    db.expire_all()
    assert db.get_one(Participant, other.id).email == "olli@example.fi"


def test_signing_up_again_themselves_works_and_clears_the_mark(
    client: FlaskClient, db: Db, erased: Programme
) -> None:
    group = erased.groups[0]
    response = client.post(
        f"/intake/{group.intake_token}",
        data={**ANSWER, "name": "Sanna Järvinen", "email": EMAIL},
    )
    assert response.status_code == 200
    db.expire_all()
    person = db.scalar(select(Participant).where(Participant.source == "survey"))
    assert person is not None and person.email == EMAIL.lower()
    assert marks(db) == []


def test_deleting_the_programme_removes_its_marks(
    app: Flask, db: Db, facilitator: Facilitator, erased: Programme
) -> None:
    assert len(marks(db)) == 1
    with app.app_context():
        delete_programme(db, db.get_one(Facilitator, facilitator.id), erased, erased.name)
    db.commit()
    assert marks(db) == []


def test_a_whole_programme_erased_leaves_no_marks(
    app: Flask, db: Db, programme: Programme, make_participant: Callable[..., Participant]
) -> None:
    # Retention and deletion erase everyone: nobody asked, so nobody is remembered.
    make_participant(programme, email="aino@example.fi")
    with app.app_context():
        erase_programme_data(db, db.get_one(Programme, programme.id))
    db.commit()
    assert marks(db) == []


def test_the_refusal_is_in_both_languages(app: Flask) -> None:
    with app.test_request_context():
        with force_locale("en"):
            english = erased_message()
        with force_locale("fi"):
            finnish = erased_message()
    assert "asked to be erased" in english
    assert finnish != english and "poist" in finnish.lower()


@pytest.fixture()
def signed_in(
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
) -> FlaskClient:
    return sign_in(client, facilitator)

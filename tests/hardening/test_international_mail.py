"""Internationalised addresses (issue 13, item 10): accepted at input, delivered with IDNA
domains always and SMTPUTF8 when the local part needs it and the server offers it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.core.db import Db, get_database
from companion.core.mail import OutboxMessage, queue_mail
from companion.core.mail.delivery import deliver_due
from companion.core.mail.transport import SmtpTransport
from companion.programmes.models import InterestSubmission
from tests.services import SmtpServer


def _queue(db: Db, address: str) -> OutboxMessage:
    message = queue_mail(
        db,
        to_address=address,
        to_name="Tes Ti",
        subject="Hei",
        text_body="Tervetuloa!",
        html_body="<p>Tervetuloa!</p>",
    )
    db.commit()
    assert message is not None
    return message


def _deliver(app: Flask, smtp_server: SmtpServer) -> int:
    config = app.extensions["companion.config"]
    return deliver_due(get_database(app), config, SmtpTransport(smtp_server.url))


@pytest.mark.parametrize("smtp_server", ["no-smtputf8", "smtputf8"], indirect=True)
def test_an_international_domain_goes_as_idna_to_any_server(
    app: Flask, db: Db, smtp_server: SmtpServer
) -> None:
    message = _queue(db, "testi@esimerkki-ä.fi")
    assert _deliver(app, smtp_server) == 1
    (delivered,) = smtp_server.wait_for(1)
    assert delivered.recipients == ["testi@xn--esimerkki--z5a.fi"]
    assert "testi@xn--esimerkki--z5a.fi" in str(delivered.message["To"])
    db.rollback()
    assert db.get(OutboxMessage, message.id).status == "sent"


@pytest.mark.parametrize("smtp_server", ["smtputf8"], indirect=True)
def test_a_non_ascii_local_part_goes_with_smtputf8_where_offered(
    app: Flask, db: Db, smtp_server: SmtpServer
) -> None:
    _queue(db, "тест@пример.рф")
    assert _deliver(app, smtp_server) == 1
    (delivered,) = smtp_server.wait_for(1)
    assert delivered.recipients == ["тест@xn--e1afmkfd.xn--p1ai"]
    assert "тест@xn--e1afmkfd.xn--p1ai" in str(delivered.message["To"])
    assert delivered.message.get_body(("plain",)).get_content().strip() == "Tervetuloa!"


@pytest.mark.parametrize("smtp_server", ["no-smtputf8"], indirect=True)
def test_without_smtputf8_it_fails_once_with_a_reason(
    app: Flask, db: Db, smtp_server: SmtpServer
) -> None:
    message = _queue(db, "тест@пример.рф")
    assert _deliver(app, smtp_server) == 1
    assert smtp_server.messages == []
    db.rollback()
    failed = db.get(OutboxMessage, message.id)
    assert failed.status == "failed" and failed.attempts == 1
    assert "SMTPUTF8" in failed.last_error


def test_the_forms_take_international_addresses(
    client: FlaskClient, make_facilitator: Callable[..., Any], sign_in: Any, db: Db
) -> None:
    facilitator = make_facilitator()
    sign_in(client, facilitator)
    organisation_token = facilitator.organisation.interest_token
    answer = client.post(
        f"/interest/{organisation_token}",
        data={"name": "Testi", "email": "Тест@Пример.рф", "consent": "on"},
    )
    assert answer.status_code == 200
    db.rollback()
    (stored,) = db.scalars(select(InterestSubmission.email))
    assert stored == "тест@пример.рф"

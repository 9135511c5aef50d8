"""A participant's own data page: only their own data, the download, their choices, erasure."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from companion.contacts.models import ParticipantPreferences
from companion.core.db import Db
from companion.core.mail import OutboxMessage
from companion.privacy.models import AuditEntry, Consent, EmailOptOut
from companion.programmes.models import ERASED, Participant
from tests.privacy.conftest import EMAIL, NAME, PHONE, PRIVATE_TEXTS, SHARED_TOPIC, World, enter_as


def test_the_page_and_download_hold_her_data_and_nobody_elses(
    app: Flask, db: Db, world: World, client: Any
) -> None:
    enter_as(app, db, client, world.hannele)
    page = client.get("/me/data?lang=en").get_data(as_text=True)
    for text in (NAME, EMAIL, PHONE, PRIVATE_TEXTS[0], PRIVATE_TEXTS[2], SHARED_TOPIC):
        assert text in page
    # Bob is her contact: his name, as she sees it on her pages; nothing else of his or Carol's.
    assert "bob@example.fi" not in page and "carol@example.fi" not in page
    assert PRIVATE_TEXTS[3] not in page  # Carol's private note about her

    response = client.get("/me/data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.get_data(as_text=True))
    text = json.dumps(document, ensure_ascii=False)
    assert document["format"] == 1 and EMAIL in text and SHARED_TOPIC in text
    assert "bob@example.fi" not in text and PRIVATE_TEXTS[3] not in text
    assert [c["purpose"] for c in document["consents"]].count("programme") == 1


def test_bob_sees_only_his_own(app: Flask, db: Db, world: World, client: Any) -> None:
    enter_as(app, db, client, world.bob)
    page = client.get("/me/data?lang=en").get_data(as_text=True)
    document = client.get("/me/data.json").get_data(as_text=True)
    for text in (page, document):
        assert "bob@example.fi" in text
        assert EMAIL not in text and PHONE not in text and PRIVATE_TEXTS[0] not in text


def test_strangers_and_facilitators_get_no_one_s_data(
    app: Flask, db: Db, world: World, client: Any, sign_in: Any
) -> None:
    assert client.get("/me/data").status_code == 401
    assert client.get("/me/data.json").status_code == 401
    sign_in(client, world.facilitator)
    response = client.get("/me/data.json")
    assert response.status_code == 401 and EMAIL not in response.get_data(as_text=True)


def test_the_summary_email_can_be_turned_off_and_on(
    app: Flask, db: Db, world: World, client: Any
) -> None:
    enter_as(app, db, client, world.hannele)
    assert client.post("/me/data/summary-email", data={"summary_email": "off"}).status_code == 303
    refused = select(EmailOptOut).where(EmailOptOut.participant_id == world.hannele.id)
    assert [o.kind for o in db.scalars(refused)] == ["digest"]
    client.post("/me/data/summary-email", data={"summary_email": "on"})
    assert list(db.scalars(refused)) == []


def test_withdrawing_contact_sharing_stops_sharing(
    app: Flask, db: Db, world: World, client: Any
) -> None:
    sharing = db.scalar(
        select(Consent).where(
            Consent.participant_id == world.hannele.id, Consent.purpose == "contact_sharing"
        )
    )
    assert sharing is not None
    taking_part = db.scalar(
        select(Consent).where(
            Consent.participant_id == world.hannele.id, Consent.purpose == "programme"
        )
    )
    assert taking_part is not None
    enter_as(app, db, client, world.hannele)
    # Bob cannot withdraw her consent; taking part is withdrawn only by erasure.
    other = enter_as(app, db, app.test_client(), world.bob)
    assert other.post(f"/me/data/consents/{sharing.id}/withdraw").status_code == 404
    assert client.post(f"/me/data/consents/{taking_part.id}/withdraw").status_code == 409
    assert client.post(f"/me/data/consents/{sharing.id}/withdraw").status_code == 303
    db.rollback()
    assert db.get_one(Consent, sharing.id).withdrawn_at is not None
    preferences = db.get_one(ParticipantPreferences, world.hannele.id)
    assert not (preferences.share_phone or preferences.share_email or preferences.share_website)


def test_erasing_myself_needs_the_word_and_ends_my_links(
    app: Flask, db: Db, world: World, client: Any
) -> None:
    enter_as(app, db, client, world.hannele)
    with client.session_transaction() as cookie:
        nonce = cookie["pn"]
    assert client.post("/me/data/erase?lang=en", data={"confirm": "yes"}).status_code == 422
    assert db.get_one(Participant, world.hannele.id).name == NAME
    response = client.post("/me/data/erase?lang=en", data={"confirm": "erase"})
    assert response.status_code == 303
    assert "was erased" in client.get("/me/data/erase?lang=en").get_data(as_text=True)
    db.rollback()
    assert db.get_one(Participant, world.hannele.id).source == ERASED
    # The old cookie (and join link) no longer opens anything.
    enter_again = app.test_client()
    with enter_again.session_transaction() as session:
        session["pid"] = world.hannele.id
        session["pn"] = nonce
    assert enter_again.get("/me/data").status_code == 401
    assert client.get("/me/data").status_code == 401
    actions = list(db.scalars(select(AuditEntry.action)))
    assert "participant.erase" in actions


def test_no_summary_email_after_opting_out(app: Flask, db: Db, world: World, client: Any) -> None:
    from companion.digest.operations import send_digest
    from companion.sessions.models import Session

    enter_as(app, db, client, world.hannele)
    client.post("/me/data/summary-email", data={"summary_email": "off"})
    with app.app_context():
        session = db.get_one(Session, world.session.id)
        assert send_digest(db, app.extensions["companion.config"], session) == 2
        db.commit()
        digests = db.scalars(
            select(OutboxMessage.to_address).where(
                OutboxMessage.kind == "digest", OutboxMessage.dedupe_key.is_not(None)
            )
        ).all()
    assert sorted(digests) == ["bob@example.fi", "carol@example.fi"]

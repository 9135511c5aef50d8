"""Inviting an expert to a talk slot: the email with their personal link, what the link opens
(their own session only), joining the meeting, renewing and revoking, and their reminders."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from flask import Flask

from companion.core.db import Db
from companion.digest.reminders import send_due_reminders
from companion.experts.models import Material
from companion.sessions.attendance import presence_of
from companion.sessions.models import Session
from tests.digest.conftest import by_recipient, parts, run_worker, use_smtp  # noqa: F401
from tests.experts.conftest import Talk, fetch, make_talk, pdf_bytes
from tests.notes.conftest import World
from tests.services import SmtpServer

TOKEN = re.compile(r"/x/([\w.\-]+)")


def test_the_expert_is_invited_by_email_and_their_link_shows_their_slot(
    app: Flask,
    talk: Talk,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    talk.invite(language="fi")
    run_worker(app)
    received = by_recipient(use_smtp)["eeva@asiantuntija.fi"]
    assert len(received) == 1
    message = received[0]
    assert str(message["Subject"]).startswith("Kutsu pitämään asiantuntijatietoisku")
    text, html = parts(message)
    assert "Fia Fasilitaattori" in text  # who to ask
    for body in (text, html):
        assert "Kohta 4/5, 20 min, noin klo 10:15–10:35" in body
        assert "Ajat ovat aikavyöhykkeellä Europe/Helsinki" in html
    token = TOKEN.search(text)
    assert token is not None and token.group(1) in html

    # The speaker is set on the default slot: no second talk appears after the closing.
    agenda = talk.world.client("facilitator").get(f"/api/v1/sessions/{talk.session.id}")
    items = agenda.get_json()["agenda"]
    assert [i["kind"] for i in items][-2:] == ["expert_talk", "closing"]
    assert [i["speaker_name"] for i in items if i["speaker_name"]] == ["Eeva Asiantuntija"]

    page = app.test_client().get(f"/x/{token.group(1)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hei Eeva!" in html and "Ajanhallinta" in html
    assert "09:00" in html and "(Europe/Helsinki)" in html
    assert "Kohta 4/5, 20 min, noin klo 10:15–10:35" in html
    assert "Tapaamishuone avautuu klo 08:45" in html
    assert "Saat muistutuksen sähköpostiisi 24 ja 1 tuntia ennen tapaamista" in html
    assert talk.expert().seen_at is not None


def test_an_experts_link_opens_their_own_session_only(
    app: Flask, db: Db, talk: Talk, make_session: Any
) -> None:
    token = talk.invite()
    other = make_talk(app, db, talk.world, make_session, starts_in=timedelta(days=10))
    other_token = other.invite(email="olavi@asiantuntija.fi")
    uploaded = app.test_client().post(
        f"/x/{other_token}/materials",
        data={"file": (io.BytesIO(pdf_bytes()), "olavi.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 303
    db.rollback()
    olavis = db.query(Material).one()

    expert = app.test_client()
    page = expert.get(f"/x/{token}").get_data(as_text=True)
    assert "olavi.pdf" not in page and "Olavi" not in page
    assert expert.get(f"/x/{token}/materials/{olavis.id}").status_code == 404
    assert expert.post(f"/x/{token}/materials/{olavis.id}/remove").status_code == 404
    assert fetch(expert, f"/x/{other_token}/materials/{olavis.id}").data == pdf_bytes()
    # The link gives no identity beyond its own page: the session's API, the plain material
    # address and the board refuse this browser.
    assert expert.get(f"/materials/{olavis.id}").status_code == 401
    assert expert.get(f"/api/v1/sessions/{talk.session.id}/agenda").status_code == 401
    assert expert.get(f"/sessions/{talk.session.id}").status_code in (302, 401)
    # A tampered token is not found; the other session's page stays the other session's.
    assert expert.get(f"/x/{token[:-2]}xy").status_code == 404
    assert "Olavi" not in expert.get(f"/x/{token}").get_data(as_text=True)


def test_a_new_link_replaces_the_old_and_a_revoked_link_is_refused(app: Flask, talk: Talk) -> None:
    first = talk.invite()
    facilitator = talk.world.client("facilitator")
    renewed = facilitator.post(f"/agenda/{talk.item.id}/expert/link", data={"action": "renew"})
    assert renewed.status_code == 303
    second = talk.token()
    assert second != first
    browser = app.test_client()
    assert browser.get(f"/x/{first}").status_code == 410
    assert browser.get(f"/x/{second}").status_code == 200
    revoked = facilitator.post(f"/agenda/{talk.item.id}/expert/link", data={"action": "revoke"})
    assert revoked.status_code == 303
    refused = browser.get(f"/x/{second}")
    assert refused.status_code == 410
    assert "ask the facilitator who invited you" in refused.get_data(as_text=True)
    assert (
        browser.post(f"/x/{second}/link", data={"material_url": "https://x.org"}).status_code == 410
    )
    # Inviting someone else to the slot makes a new link; the old address stays dead.
    talk.invite(email="someone.else@example.org")
    third = talk.token()
    assert browser.get(f"/x/{third}").status_code == 200
    assert browser.get(f"/x/{second}").status_code == 410
    # Over the API too, and another organisation cannot see or stop the expert.
    api = facilitator.delete(f"/api/v1/agenda/{talk.item.id}/expert")
    assert api.status_code == 200 and api.get_json()["active"] is False
    assert browser.get(f"/x/{third}").status_code == 410


def test_experts_are_invited_to_talks_of_coming_sessions_only(
    app: Flask, db: Db, talk: Talk
) -> None:
    facilitator = talk.world.client("facilitator")
    welcome = talk.session.agenda[0]
    refused = facilitator.post(
        f"/api/v1/agenda/{welcome.id}/expert",
        json={"name": "Eeva", "email": "eeva@asiantuntija.fi"},
    )
    assert refused.status_code == 409
    invalid = facilitator.post(
        f"/api/v1/agenda/{talk.item.id}/expert", json={"name": "Eeva", "email": "not-an-email"}
    )
    assert invalid.status_code == 422
    made = facilitator.post(
        f"/api/v1/agenda/{talk.item.id}/expert",
        json={"name": "Eeva Asiantuntija", "email": "Eeva@Asiantuntija.fi", "language": "en"},
    )
    assert made.status_code == 201
    assert made.get_json()["email"] == "eeva@asiantuntija.fi"
    assert facilitator.post(f"/sessions/{talk.session.id}/cancel").status_code == 303
    cancelled = facilitator.post(
        f"/agenda/{talk.item.id}/expert",
        data={"name": "Eeva Asiantuntija", "email": "eeva@asiantuntija.fi", "language": "fi"},
    )
    assert cancelled.status_code == 422
    assert "nobody can be invited" in cancelled.get_data(as_text=True)
    renewed = facilitator.post(f"/agenda/{talk.item.id}/expert/link", data={"action": "renew"})
    assert renewed.status_code == 409
    # A participant (cookie from their join link) is no facilitator: off to the sign-in.
    refused = talk.world.client("alice").get(f"/agenda/{talk.item.id}/expert")
    assert refused.status_code == 302 and "/sign-in" in refused.location


def test_the_expert_joins_the_meeting_in_its_join_window_only(
    app: Flask, db: Db, world: World, make_session: Any
) -> None:
    soon = make_talk(app, db, world, make_session, starts_in=timedelta(minutes=5))
    later = make_talk(app, db, world, make_session, starts_in=timedelta(days=2))
    browser = app.test_client()
    waiting = browser.get(f"/x/{later.invite(email='later@example.org')}/join")
    assert waiting.status_code == 303 and "/x/" in waiting.location
    joined = browser.get(f"/x/{soon.invite()}/join")
    assert joined.status_code == 303
    assert joined.location.startswith("https://meet.jit.si/")
    assert 'displayName="Eeva Asiantuntija"' in unquote(joined.location)
    with app.app_context():
        db.rollback()
        session = db.get(Session, soon.session.id)
        assert not any(p.present for p in presence_of(db, session).values())


def test_the_expert_gets_the_reminder_and_can_turn_it_off(
    app: Flask,
    db: Db,
    world: World,
    make_session: Any,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    soon = make_talk(app, db, world, make_session, starts_in=timedelta(hours=20))
    token = soon.invite(language="en")
    run_worker(app)  # sends the invitation, and the reminders due (the worker's periodic job)
    received = by_recipient(use_smtp, "Reminder")
    assert set(received) == {
        "eeva@asiantuntija.fi",
        world.alice.email,
        world.bob.email,
        world.carol.email,
    }
    message = received["eeva@asiantuntija.fi"][0]
    assert str(message["Subject"]).startswith("Reminder: your expert talk")
    text, html = parts(message)
    assert f"/x/{token}" in text and f"/x/{token}" in html
    assert "Your slot: Asiantuntijatietoisku" in text

    browser = app.test_client()
    off = browser.post(f"/x/{token}/reminders", data={})
    assert off.status_code == 303
    assert "Reminders are off." in browser.get(f"/x/{token}").get_data(as_text=True)
    hour_before = soon.session.starts_at - timedelta(minutes=50)
    with app.app_context():
        db.rollback()  # a fresh snapshot: the worker wrote since
        assert send_due_reminders(db, hour_before) == 3  # the members only now
        db.commit()
    browser.post(f"/x/{token}/reminders", data={"reminders": "on"})
    with app.app_context():
        db.rollback()  # a fresh snapshot: the worker wrote since
        assert send_due_reminders(db, hour_before) == 1  # the expert's, the others sent
        db.commit()

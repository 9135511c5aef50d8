"""Participants see the agenda with the speaker, the slot and the material: on the waiting
page, their own page, the side panel, the API, the reminder and the summary email."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from companion.accounts.identity import participant_token
from companion.core.db import Db
from companion.experts.models import Material
from companion.sessions.join_links import join_link_for, join_token
from tests.digest.conftest import by_recipient, end_session, parts, run_worker, use_smtp  # noqa: F401
from tests.experts.conftest import Talk, fetch, make_talk, pdf_bytes, upload
from tests.notes.conftest import World
from tests.services import SmtpServer

PERSONAL_MATERIAL = re.compile(r"(http://[^\s\"<]+/me/t/[\w.\-]+\?next=material-(\d+))")


def _prepare(talk: Talk) -> Material:
    """Eeva invited, her slides uploaded and a link given; the running session of the world
    ended, so the members' join links wait for this talk's session."""
    token = talk.invite()
    expert = talk.app.test_client()
    assert upload(expert, f"/x/{token}/materials", pdf_bytes(), "diat.pdf").status_code == 303
    linked = expert.post(f"/x/{token}/link", data={"material_url": "https://example.org/video"})
    assert linked.status_code == 303
    ended = talk.world.client("facilitator").post(f"/sessions/{talk.world.session.id}/end")
    assert ended.status_code == 303
    talk.db.rollback()
    material = talk.db.query(Material).one()
    return material


def test_the_waiting_page_shows_the_speaker_slot_and_material(
    app: Flask, db: Db, talk: Talk
) -> None:
    material = _prepare(talk)
    with app.app_context():
        token = join_token(join_link_for(db, talk.world.alice))
        db.commit()
    browser = app.test_client()
    page = browser.get(f"/j/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Your next session is" in html and "Agenda" in html
    assert "Speaker: Eeva Asiantuntija" in html
    assert re.search(
        r"10:15</time></span>\s*<div class=\"agenda-body\">\s*<strong>Expert talk", html
    )
    assert f'href="/materials/{material.id}"' in html and "diat.pdf" in html
    assert 'href="https://example.org/video"' in html
    assert fetch(browser, f"/materials/{material.id}").data == pdf_bytes()


def test_my_programme_page_shows_the_next_sessions_agenda(talk: Talk) -> None:
    material = _prepare(talk)
    html = talk.world.client("alice").get("/me").get_data(as_text=True)
    assert "Speaker: Eeva Asiantuntija" in html
    assert f'href="/materials/{material.id}"' in html
    # Another group's member sees their own group's sessions, not this agenda.
    assert "Eeva Asiantuntija" not in talk.world.client("dave").get("/me").get_data(as_text=True)


def test_the_side_panel_shows_the_agenda_with_a_bearer_token_only(
    app: Flask, db: Db, talk: Talk
) -> None:
    material = _prepare(talk)
    sid = talk.session.id
    page = app.test_client().get(f"/panel/sessions/{sid}/agenda")
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    assert "https://*.zoom.us" in page.headers["Content-Security-Policy"]
    assert f"/sessions/{sid}/agenda/part" in page.get_data(as_text=True)
    with app.app_context():
        alice = participant_token(talk.world.alice, join_link_for(db, talk.world.alice))
        dave = participant_token(talk.world.dave, join_link_for(db, talk.world.dave))
        db.commit()
    inside_zoom = app.test_client()  # no cookies in the meeting's side panel
    part = inside_zoom.get(
        f"/sessions/{sid}/agenda/part", headers={"Authorization": f"Bearer {alice}"}
    )
    assert part.status_code == 200
    html = part.get_data(as_text=True)
    assert "Speaker: Eeva Asiantuntija" in html and "diat.pdf" in html
    found = PERSONAL_MATERIAL.search(html.replace("&amp;", "&"))
    assert found is not None and found.group(2) == str(material.id)
    assert 'target="_blank"' in html
    # The file opens in whatever browser follows the link (the personal link signs it in).
    system_browser = app.test_client()
    address = urlsplit(found.group(1))
    opened = system_browser.get(f"{address.path}?{address.query}")
    assert opened.status_code == 303
    assert fetch(system_browser, opened.location).data == pdf_bytes()

    other_group = inside_zoom.get(
        f"/sessions/{sid}/agenda/part", headers={"Authorization": f"Bearer {dave}"}
    )
    assert other_group.status_code == 404
    assert app.test_client().get(f"/sessions/{sid}/agenda/part").status_code == 401
    facilitator = talk.world.client("facilitator").get(f"/sessions/{sid}/agenda/part")
    assert f'href="/materials/{material.id}"' in facilitator.get_data(as_text=True)


def test_the_agenda_over_the_api(talk: Talk) -> None:
    material = _prepare(talk)
    sid = talk.session.id
    agenda = talk.world.client("alice").get(f"/api/v1/sessions/{sid}/agenda")
    assert agenda.status_code == 200
    data = agenda.get_json()
    assert data["agenda_minutes"] == 110 and data["duration_minutes"] == 120
    talk_line = data["items"][3]
    assert talk_line["speaker_name"] == "Eeva Asiantuntija"
    assert talk_line["material_url"] == "https://example.org/video"
    assert talk_line["materials"][0]["id"] == material.id
    assert talk_line["materials"][0]["content_type"] == "application/pdf"
    assert talk_line["materials"][0]["url"].endswith(f"?next=material-{material.id}")
    assert talk.world.client("olli").get(f"/api/v1/sessions/{sid}/agenda").status_code == 404


def test_the_reminder_names_the_speaker_and_links_the_material(
    app: Flask,
    db: Db,
    world: World,
    make_session: Any,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    soon = make_talk(app, db, world, make_session, starts_in=timedelta(hours=20))
    token = soon.invite()
    assert (
        upload(app.test_client(), f"/x/{token}/materials", pdf_bytes(), "diat.pdf").status_code
        == 303
    )
    run_worker(app)
    text, html = parts(by_recipient(use_smtp, "Reminder")[world.alice.email][0])
    for body in (text, html.replace("&amp;", "&")):
        assert "Eeva Asiantuntija" in body and "diat.pdf" in body
        found = PERSONAL_MATERIAL.search(body)
        assert found is not None
    path = "/" + found.group(1).split("://", 1)[1].split("/", 1)[1]
    browser = app.test_client()
    assert fetch(browser, browser.get(path).location).data == pdf_bytes()


def test_the_summary_email_carries_the_talk_and_its_material(
    app: Flask,
    db: Db,
    talk: Talk,
    make_session: Any,
    use_smtp: SmtpServer,  # noqa: F811
) -> None:
    world = talk.world
    held = make_talk(app, db, world, make_session, starts_in=timedelta(minutes=-50))
    token = held.invite(email="olavi@asiantuntija.fi")
    assert (
        upload(app.test_client(), f"/x/{token}/materials", pdf_bytes(), "olavi.pdf").status_code
        == 303
    )
    talk.invite()  # the next session's talk: its speaker is named among the coming agenda
    run_worker(app)  # the invitations
    facilitator = world.client("facilitator")
    assert facilitator.post(f"/sessions/{held.session.id}/end").status_code == 303
    assert facilitator.post(f"/sessions/{held.session.id}/digest/send").status_code == 303
    run_worker(app)
    summaries = by_recipient(use_smtp, "Ajanhallinta")
    text, html = parts(summaries[world.alice.email][-1])
    assert "Expert talk: Asiantuntijatietoisku" in text
    assert "Eeva Asiantuntija" in text  # listed with the next session's agenda
    for body in (text, html.replace("&amp;", "&")):
        assert "olavi.pdf" in body
        found = PERSONAL_MATERIAL.search(body)
        assert found is not None
    path = "/" + found.group(1).split("://", 1)[1].split("/", 1)[1]
    browser = app.test_client()
    assert fetch(browser, browser.get(path).location).data == pdf_bytes()
    assert world.dave.email not in summaries  # another group

"""The digest as people receive it: parsed from what a real SMTP server (aiosmtpd) accepted."""

from __future__ import annotations

import re

from flask import Flask

from companion.core.db import Db
from tests.digest.conftest import Held, by_recipient, end_session, parts, run_worker
from tests.services import SmtpServer


def test_each_participant_gets_their_own_digest(
    app: Flask, held: Held, use_smtp: SmtpServer
) -> None:
    world = held.world
    end_session(world)
    run_worker(app)
    received = by_recipient(use_smtp)
    assert set(received) == {world.alice.email, world.bob.email, world.carol.email}
    assert all(len(messages) == 1 for messages in received.values())
    assert world.dave.email not in received and world.olli.email not in received

    alice = received[world.alice.email][0]
    assert alice["Subject"] == f"Notes from {world.session.title}"
    text, html = parts(alice)
    for body in (text, html):
        assert "PLENARY: welcome round" in body
        assert "A-ONLY:" in body and "A-SUMMARY" in body  # her own breakout group
        assert "C-SHARED: for everyone" in body  # another group that shared
        assert "B-ONLY" not in body  # another group's notes stay there
        assert "Pricing" in body and "Hiring" in body and "Taxes" not in body
        assert "Send the price list" in body
        assert "Carol Cedar" in body  # waiting for her answer
        assert "Bob Berg" in body and "050 111 2222" in body  # a new contact, his shared phone
        assert "Session two" in body and "Expert talk: time management" in body
    assert "<strong>pricing</strong>" in html
    assert "3 votes" in text and "1 vote)" in text
    join = re.search(r"http://127\.0\.0\.1:\d+/j/[\w.\-]+", text)
    assert join is not None and join.group(0) in html
    assert re.search(r"/me/t/[\w.\-]+\?next=preferences", text)

    carol_text, carol_html = parts(received[world.carol.email][0])
    for body in (carol_text, carol_html):
        assert "B-ONLY: marketing" in body and "C-SHARED" in body
        assert "A-ONLY" not in body and "A-SUMMARY" not in body
        assert "Send the price list" not in body  # Alice's action, not hers
        assert "050 111 2222" not in body


def test_absent_participants_get_what_they_missed(
    app: Flask, held: Held, use_smtp: SmtpServer
) -> None:
    world = held.world
    end_session(world)
    run_worker(app)
    bob = by_recipient(use_smtp)[world.bob.email][0]
    assert bob["Subject"] == f"What you missed: {world.session.title}"
    text, _html = parts(bob)
    assert "We missed you" in text
    assert "A-ONLY" in text  # he was assigned to group A, so its notes are his too
    assert "Alice Aho" in text  # the contact he agreed to


def test_the_personal_links_in_the_digest_open_the_right_pages(
    app: Flask, held: Held, use_smtp: SmtpServer
) -> None:
    world = held.world
    end_session(world)
    run_worker(app)
    text, _html = parts(by_recipient(use_smtp)[world.alice.email][0])
    contacts = re.search(r"http://127\.0\.0\.1:\d+(/me/t/[\w.\-]+\?next=contacts)", text)
    assert contacts is not None
    browser = app.test_client()
    opened = browser.get(contacts.group(1))
    assert opened.status_code == 303 and opened.location.endswith("/me/contacts")
    assert "Hello Alice!" in browser.get("/me").get_data(as_text=True)
    notes = re.search(r"(/me/t/[\w.\-]+\?next=notes-\d+)", text)
    assert notes is not None
    assert browser.get(notes.group(1)).location.endswith(f"/sessions/{world.session.id}/notes")
    assert app.test_client().get("/me/t/forged-token").status_code == 410


def test_each_digest_is_in_its_recipients_language(
    app: Flask, db: Db, held: Held, use_smtp: SmtpServer
) -> None:
    world = held.world
    world.client("carol").post("/me/preferences", data={"language": "fi", "reminders": "on"})
    end_session(world)
    run_worker(app)
    received = by_recipient(use_smtp)
    carol = received[world.carol.email][0]
    assert carol["Subject"] == f"Muistiinpanot: {world.session.title}"
    text, html = parts(carol)
    for body in (text, html):
        assert "Hei Carol," in body  # the first name, as the pages greet
        assert "Seuraava tapaaminen" in body and "tiistaina 3.6.2031 09:00" in body
        assert "Käsitellyt aiheet" in body and "3 ääntä" in body
        assert "Koko ryhmä" in body and "Pienryhmä 2" in body  # names of the spaces, too
    assert 'lang="fi"' in html
    assert received[world.alice.email][0]["Subject"] == f"Notes from {world.session.title}"


def test_names_and_titles_are_escaped_in_the_html(
    app: Flask, db: Db, held: Held, use_smtp: SmtpServer
) -> None:
    world = held.world
    with app.app_context():
        alice = db.merge(world.alice)
        alice.name = "Alice <b>Bold</b> & Co"
        db.commit()
    end_session(world)
    run_worker(app)
    _text, html = parts(by_recipient(use_smtp)[world.alice.email][0])
    assert "Alice &lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
    assert "<b>Bold</b>" not in html

"""A whole session in Chromium, as a facilitator and participants live it: two participants
join through their personal links, one proposes a topic in the side panel and the other votes
for it, a breakout round runs and a latecomer is placed in it on the round page, a group
writes notes in the side panel opened in a plain browser, the facilitator ends the session
(confirming), corrects one person's presence on the review page and sends the summary; the
messages a real SMTP server (aiosmtpd) received thank those present, tell the absent one what
she missed, and name the group's real next session (not the cancelled one before it).

Set SESSION_SCREENSHOTS=<folder> to keep screenshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from companion.core.db import Db, utcnow
from companion.core.live import LiveServer
from companion.sessions import operations as ops
from companion.sessions.attendance import presence_of
from companion.sessions.join_links import join_link_for, join_token
from companion.sessions.models import Session
from tests.board.conftest import token_for
from tests.breakouts.conftest import World, key_of, live, world
from tests.digest.conftest import by_recipient, parts, run_worker, use_smtp
from tests.services import SmtpServer, signed_in_context, wait_until

pytestmark = pytest.mark.browser

__all__ = ["live", "use_smtp", "world"]  # fixtures of other packages, used by name below

SHOTS = os.environ.get("SESSION_SCREENSHOTS", "")


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _participant_context(browser: Any, width: int = 390) -> Any:
    """A participant's own browser, phone sized."""
    context = browser.new_context(viewport={"width": width, "height": 844})
    context.set_default_timeout(5000)
    return context


def _join(app: Flask, db: Db, context: Any, live_server: str, person: Any) -> None:
    """Open the personal join link in the person's browser: it forwards to the meeting (which
    is not ours to load here, the machine has no network)."""
    with app.app_context():
        token = join_token(join_link_for(db, person))
        db.commit()
    response = context.request.get(f"{live_server}/j/{token}", max_redirects=0)
    assert response.status == 303
    assert not response.headers["location"].startswith(live_server)


def test_a_whole_session_from_joining_to_the_summary_in_the_inbox(
    app: Flask,
    db: Db,
    world: World,
    live: LiveServer,
    live_server: str,
    browser: Any,
    make_participant: Any,
    make_session: Any,
    use_smtp: SmtpServer,
) -> None:
    aino, bertta, hanna = world.person("aino"), world.person("bertta"), world.person("hanna")
    # The group's next session would be in a week, but it was cancelled: the summary must name
    # the one after it.
    cancelled = make_session(
        world.group, starts_at=utcnow() + timedelta(days=7), title="Cancelled meeting"
    )
    with app.app_context():
        ops.cancel_session(db, db.merge(cancelled), notify=False)
        db.commit()

    facilitator = signed_in_context(app, browser, world.client("facilitator"), 1280)
    aino_browser, bertta_browser = _participant_context(browser), _participant_context(browser)
    try:
        # --- joining: the personal links record presence and forward to the meeting
        for person, context in ((aino, aino_browser), (bertta, bertta_browser)):
            _join(app, db, context, live_server, person)
        with app.app_context():
            session = db.merge(world.session)
            for person in (aino, bertta):
                fact = presence_of(db, session)[person.id]
                assert fact.present is True and fact.source == "link"

        # --- the board: Aino proposes in her side panel, Bertta votes in hers
        aino_panel, bertta_panel = aino_browser.new_page(), bertta_browser.new_page()
        for page, person in ((aino_panel, aino), (bertta_panel, bertta)):
            token = token_for(app, db, person)
            page.goto(f"{live_server}/panel/sessions/{world.session.id}?lang=en#token={token}")
            page.wait_for_selector("[data-live-state][data-state='live']")
        board = facilitator.new_page()
        board.goto(f"{live_server}/sessions/{world.session.id}/board?lang=en")
        board.wait_for_selector("[data-live-state][data-state='live']")
        aino_panel.click("details.propose > summary")
        aino_panel.fill("#topic-title", "Pricing my services")
        aino_panel.click(".propose-form button[type=submit]")
        bertta_panel.wait_for_selector(".topic-title:text('Pricing my services')")
        bertta_panel.click(".topic-queue .vote-up")
        board.wait_for_selector(".column-to_discuss .vote-count:text-is('1')")

        # --- a breakout round; Leena arrives late and is placed on the round page
        planned = world.plan(sizing="count", groups=2)[0]
        world.act(planned["id"], "lock")
        running = world.act(planned["id"], "start")
        leena = make_participant(world.programme, group=world.group, name="Leena Myöhä")
        leena_browser = _participant_context(browser)
        _join(app, db, leena_browser, live_server, leena)
        rounds = facilitator.new_page()
        rounds.goto(f"{live_server}/breakouts/rounds/{running['id']}?lang=en")
        rounds.wait_for_selector("[data-live-state][data-state='live']")
        card = f".person[data-key='{key_of(leena)}']"
        target = str(running["groups"][0]["id"])
        rounds.select_option(f"{card} select[name='group_id']", target)
        rounds.click(f"{card} .move-form button")
        wait_until(
            rounds,
            "([card, target]) => document.querySelector(card)?.closest('.bgroup')"
            ".dataset.groupId === target",
            arg=[card, target],
        )
        _shot(rounds, "round-1280")

        # --- notes: Bertta's group writes in the notes panel, opened in a plain browser
        notes = bertta_browser.new_page()
        token = token_for(app, db, bertta)
        notes.goto(f"{live_server}/panel/sessions/{world.session.id}/notes?lang=en#token={token}")
        notes.wait_for_selector("[data-live-status][data-state='live']")
        notes.fill("#note-body", "Price by the value, not the hour")
        notes.click("[data-add-item] button[type=submit]")
        notes.wait_for_selector("[data-items] >> text=Price by the value, not the hour")
        world.act(running["id"], "close")

        # --- the end, confirmed; nothing is sent by ending
        page = facilitator.new_page()
        page.goto(f"{live_server}/sessions/{world.session.id}?lang=en")
        page.get_by_role("link", name="End session").first.click()
        page.wait_for_url(f"**/sessions/{world.session.id}/end**")
        _shot(page, "end-confirm-1280")
        page.get_by_role("button", name="Yes, end the session").click()
        page.wait_for_url(f"**/sessions/{world.session.id}/digest**")
        assert use_smtp.messages == []
        run_worker(app)
        assert use_smtp.messages == []

        # --- review: Hanna was in a breakout group on paper but was not there
        page.get_by_role("button", name=f"Was not there {hanna.name}").click()
        page.wait_for_url(f"**/sessions/{world.session.id}/digest**")
        row = page.locator("tr", has_text=hanna.name)
        assert "Absent" in row.inner_text()
        _shot(page, "review-1280")
        page.get_by_role("link", name="Send the summary…").click()
        page.wait_for_url(f"**/sessions/{world.session.id}/digest/send**")
        confirm = page.inner_text("main")
        assert "Session 3" in confirm and "Cancelled meeting" not in confirm
        page.get_by_role("button", name="Send the summary now").click()
        page.wait_for_url(f"**/sessions/{world.session.id}/digest**")
    finally:
        for context in (facilitator, aino_browser, bertta_browser):
            context.close()
        if "leena_browser" in locals():
            leena_browser.close()

    # --- what people received
    run_worker(app)
    received = by_recipient(use_smtp)
    members = [*world.people, leena]
    assert set(received) == {p.email.lower() for p in members}
    assert all(len(messages) == 1 for messages in received.values())
    for person in members:
        message = received[person.email.lower()][0]
        text, html = parts(message)
        if person.id == hanna.id:
            assert message["Subject"] == "What you missed: Session 2"
            assert "We missed you" in text
        else:
            assert message["Subject"] == "Notes from Session 2", person.name
            assert "Thank you for taking part" in text
        assert "Pricing my services" in text
        assert "Session 3" in text and "Cancelled meeting" not in text
        assert "Session 3" in html and "Cancelled meeting" not in html
    bertta_text, _html = parts(received[bertta.email.lower()][0])
    assert "Price by the value, not the hour" in bertta_text
    with app.app_context():
        db.rollback()  # a new transaction: what the server wrote since, not an old snapshot
        session = db.get(Session, world.session.id)
        assert session is not None
        assert ops.state_of(session).value == "summary_sent"
        assert presence_of(db, session)[leena.id].present is True
        assert presence_of(db, session)[hanna.id].present is False

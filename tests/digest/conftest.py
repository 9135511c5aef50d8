"""A held session full of material for digests, a real SMTP server, and a worker to run."""

from __future__ import annotations

import email
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from companion.board.models import Board, Topic, Vote
from companion.core.db import Db
from companion.core.jobs import Worker
from companion.core.mail import SmtpTransport
from companion.sessions.attendance import record_join
from companion.sessions.models import AgendaItem
from tests.notes.conftest import World, breakouts, world  # noqa: F401 - re-exported fixtures
from tests.services import SmtpServer

GROUP_A, GROUP_B, GROUP_C = 801, 802, 803
#: The next session, at 9:00 in Helsinki on a day in summer time.
NEXT_LOCAL = datetime(2031, 6, 3, 9, 0, tzinfo=ZoneInfo("Europe/Helsinki"))


@dataclass
class Held:
    """The world after a session with notes in three breakout groups (C shared), topics,
    an action item, contact requests, Bob absent, and a next session."""

    world: World
    next_session: Any


def parse(raw: bytes) -> EmailMessage:
    """A delivered message with the modern API (get_body, iter_attachments)."""
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def by_recipient(smtp: SmtpServer, kind: str = "") -> dict[str, list[EmailMessage]]:
    """Delivered messages by recipient address, optionally only those whose subject has `kind`."""
    found: dict[str, list[EmailMessage]] = {}
    for delivered in smtp.messages:
        message = parse(delivered.raw)
        if kind and kind not in str(message["Subject"]):
            continue
        for recipient in delivered.recipients:
            found.setdefault(recipient.lower(), []).append(message)
    return found


def run_worker(app: Flask, passes: int = 20) -> None:
    """Run worker passes until there is nothing left to do."""
    worker = Worker(app)
    for _ in range(passes):
        if not worker.run_once():
            return


@pytest.fixture()
def use_smtp(app: Flask, smtp_server: SmtpServer) -> SmtpServer:
    """Deliver this test's mail to the real aiosmtpd server."""
    app.extensions["companion.mail_transport"] = SmtpTransport(smtp_server.url, timeout=10)
    return smtp_server


def _api(client: Any, method: str, url: str, body: Any = None) -> Any:
    response = client.open(url, method=method, json=body)
    assert response.status_code < 300, (url, response.get_json())
    return response.get_json()


@pytest.fixture()
def held(
    app: Flask,
    db: Db,
    world: World,  # noqa: F811
    breakouts: dict[int, set[int]],  # noqa: F811
    make_session: Callable[..., Any],
) -> Held:
    """The material of one session's digest, written through the API as people would."""
    breakouts[GROUP_A] = {world.alice.id, world.bob.id}
    breakouts[GROUP_B] = {world.carol.id}
    breakouts[GROUP_C] = set()
    sid = world.session.id
    fac = world.client("facilitator")

    plenary = _api(fac, "GET", f"/api/v1/sessions/{sid}/notes")["id"]
    _api(fac, "POST", f"/api/v1/notes/{plenary}/items", {"body": "PLENARY: welcome round"})
    a = _api(world.client("alice"), "GET", f"/api/v1/sessions/{sid}/notes?group={GROUP_A}")["id"]
    _api(world.client("alice"), "POST", f"/api/v1/notes/{a}/items", {"body": "A-ONLY: **pricing**"})
    _api(
        world.client("bob"),
        "PUT",
        f"/api/v1/notes/{a}/summary",
        {"text": "A-SUMMARY", "base_revision": 0},
    )
    _api(
        world.client("alice"),
        "POST",
        f"/api/v1/notes/{a}/actions",
        {"text": "Send the price list", "owner_id": world.alice.id, "due_on": "2031-05-20"},
    )
    b = _api(world.client("carol"), "GET", f"/api/v1/sessions/{sid}/notes?group={GROUP_B}")["id"]
    _api(world.client("carol"), "POST", f"/api/v1/notes/{b}/items", {"body": "B-ONLY: marketing"})
    c = _api(fac, "GET", f"/api/v1/sessions/{sid}/notes?group={GROUP_C}")["id"]
    _api(fac, "POST", f"/api/v1/notes/{c}/items", {"body": "C-SHARED: for everyone"})
    _api(fac, "PUT", f"/api/v1/notes/{c}/shared", {"shared": True})

    # Contacts: Carol asks Alice (waiting); Bob and Alice agreed, Bob shares his phone.
    _api(
        world.client("bob"),
        "PUT",
        "/api/v1/me/preferences",
        {"phone": "050 111 2222", "share_phone": True, "reminders": True},
    )
    _api(
        world.client("carol"),
        "POST",
        "/api/v1/contacts",
        {"person_id": world.alice.id, "kind": "customer"},
    )
    asked = _api(
        world.client("alice"),
        "POST",
        "/api/v1/contacts",
        {"person_id": world.bob.id, "kind": "lunch"},
    )
    _api(world.client("bob"), "POST", f"/api/v1/contacts/{asked['id']}/accept", {})

    with app.app_context():
        board = Board(session_id=sid, breakout_key="")
        db.add(board)
        db.flush()
        for title, column, votes in (
            ("Pricing", "done", 3),
            ("Hiring", "discussing", 1),
            ("Taxes", "to_discuss", 0),
        ):
            topic = Topic(
                board_id=board.id, title=title, author=f"p:{world.alice.id}", column=column
            )
            db.add(topic)
            db.flush()
            if votes:
                db.add(Vote(topic_id=topic.id, voter=f"p:{world.carol.id}", count=votes))
        for person in (world.alice, world.carol):
            record_join(db, world.session.id, person.id)
        db.commit()
    next_session = make_session(
        world.programme.groups[0],
        starts_at=NEXT_LOCAL.astimezone(ZoneInfo("UTC")),
        title="Session two",
    )
    with app.app_context():
        db.add(
            AgendaItem(session_id=next_session.id, position=0, title="Expert talk: time management")
        )
        db.commit()
    return Held(world, next_session)


def end_session(people: World, *, again: bool = False) -> None:
    """The facilitator ends the session, reviews the summary and sends it (each a confirmed
    step: ending sends nothing by itself). `again`: pressing both once more changes nothing
    and the second send is refused."""
    facilitator = people.client("facilitator")
    response = facilitator.post(f"/sessions/{people.session.id}/end")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/sessions/{people.session.id}/digest")
    response = facilitator.post(f"/sessions/{people.session.id}/digest/send")
    assert response.status_code == (409 if again else 303)

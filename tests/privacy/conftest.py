"""A programme whose session is over, with one person (Hannele) in everything a person can leave
behind: profile, presence, contacts both ways, a board topic and votes, a shared note, an
action item, shared contact details, consents, emails to her and an email mentioning her, an
interest-form answer; and two others (Bob, Carol) beside her."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.identity import Actor
from companion.board.access import board_for_session
from companion.board.schemas import TopicIn
from companion.board.topics import propose_topic
from companion.board.votes import cast_vote
from companion.contacts import operations as contacts
from companion.contacts.models import ContactKind
from companion.contacts.schemas import ContactIn, PreferencesIn
from companion.core.db import Base, Db, utcnow
from companion.core.mail import queue_mail
from companion.notes.access import ensure_space
from companion.notes.action_items import add_action
from companion.notes.note_items import add_item
from companion.notes.schemas import ActionIn, NoteItemIn
from companion.programmes.models import InterestSubmission
from companion.programmes.operations import record_consent
from companion.sessions.attendance import mark_presence
from companion.sessions.join_links import join_link_for

NAME = "Hannele Poistettava"
EMAIL = "hannele.poistettava@example.fi"
PHONE = "+358 40 765 4321"
WEBSITE = "https://poistettava-kalastus.example"
#: Free texts only she wrote or that are only about her; none may remain after erasure.
PRIVATE_TEXTS = (
    "Haluan löytää sparrauskumppanin Kalajoelta",
    "kalastusmatkailu ja luvat",
    "Hannele soittaa verottajalle",
    "Muista kysyä Hanneleelta luvista",
    "Poistettava Kalastus Oy",
)
#: What she wrote for the whole group: it stays, shown as by a former participant.
SHARED_TOPIC = "Kalastuslupien byrokratia"


def enter_as(app: Flask, db: Db, client: FlaskClient, participant: Any) -> FlaskClient:
    """Put the participant's join-link identity into the client's cookie, as opening it does."""
    with app.app_context():
        link = join_link_for(db, participant)
        db.commit()
        nonce = link.nonce
    with client.session_transaction() as session:
        session["pid"] = participant.id
        session["pn"] = nonce
    return client


@dataclass
class World:
    """The programme, its ended session, the facilitator and the three people."""

    programme: Any
    session: Any
    facilitator: Any
    hannele: Any
    bob: Any
    carol: Any
    topic_id: int


def build_world(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
) -> World:
    """Everything Hannele can leave behind, and Bob's and Carol's share beside it."""
    facilitator = make_facilitator()
    programme = make_programme(facilitator=facilitator, groups=1)
    hannele = make_participant(
        programme,
        name=NAME,
        email=EMAIL,
        phone=PHONE,
        company=PRIVATE_TEXTS[4],
        goals=PRIVATE_TEXTS[0],
        interests=PRIVATE_TEXTS[1],
    )
    bob = make_participant(programme, name="Bob Bergström", email="bob@example.fi")
    carol = make_participant(programme, name="Carol Castrén", email="carol@example.fi")
    session = make_session(
        programme.groups[0], starts_at=utcnow() - timedelta(hours=3), duration_minutes=120
    )
    with app.app_context():
        hannele, bob, carol = (db.merge(p) for p in (hannele, bob, carol))
        session = db.merge(session)
        for person in (hannele, bob, carol):
            record_consent(db, person, "programme", source="survey", text_version="t1")
        mark_presence(db, session, hannele.id, True)
        mark_presence(db, session, bob.id, True)
        mark_presence(db, session, carol.id, False)
        contacts.update_preferences(
            db,
            hannele,
            PreferencesIn(
                share_email=True, phone=PHONE, share_phone=True, website=WEBSITE, share_website=True
            ),
        )
        mutual = contacts.record_contact(
            db,
            hannele,
            ContactIn(person_id=bob.id, kind=ContactKind.SPARRING, session_id=session.id),
        )
        contacts.respond(db, bob, mutual.id, accept=True)
        contacts.record_contact(
            db,
            carol,
            ContactIn(
                person_id=hannele.id,
                kind=ContactKind.LUNCH,
                note=PRIVATE_TEXTS[3],
                session_id=session.id,
            ),
        )
        board = board_for_session(db, session)
        propose_topic(db, board, Actor(participant=hannele), TopicIn(title=SHARED_TOPIC))
        db.flush()
        topic_id = board.topics[0].id if board.topics else 0
        cast_vote(db, Actor(participant=hannele), topic_id)
        cast_vote(db, Actor(participant=bob), topic_id)
        space = ensure_space(db, session)
        add_item(db, Actor(participant=hannele), space, NoteItemIn(body="Verkostoituminen auttaa"))
        add_action(
            db,
            Actor(participant=hannele),
            space,
            ActionIn(text=PRIVATE_TEXTS[2], owner_id=hannele.id),
        )
        sent = queue_mail(
            db,
            to_address=EMAIL,
            to_name=NAME,
            subject=f"Yhteenveto, {NAME}",
            text_body=f"Hei {NAME}! {PRIVATE_TEXTS[2]}",
            kind="digest",
            programme_id=programme.id,
        )
        assert sent is not None
        sent.status, sent.sent_at = "sent", utcnow()
        queue_mail(
            db,
            to_address=EMAIL,
            subject="Muistutus",
            text_body=f"Hei {NAME}, huomenna tavataan.",
            kind="reminder",
            programme_id=programme.id,
        )
        queue_mail(
            db,
            to_address="bob@example.fi",
            subject="Yhteenveto",
            text_body=f"Hei Bob! Uusi yhteys: {NAME}, puhelin {PHONE}.",
            html_body=f"<p>Uusi yhteys: <b>{NAME}</b> ({EMAIL})</p>",
            kind="digest",
            programme_id=programme.id,
        )
        db.add(
            InterestSubmission(
                organisation_id=programme.organisation_id,
                name=NAME,
                email=EMAIL,
                message=PRIVATE_TEXTS[0],
                consent_version="t1",
            )
        )
        db.commit()
    return World(programme, session, facilitator, hannele, bob, carol, topic_id)


@pytest.fixture()
def world(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
) -> World:
    """The programme with Hannele in everything (see the module)."""
    return build_world(app, db, make_facilitator, make_programme, make_participant, make_session)


def every_value(db: Db) -> list[tuple[str, str, str]]:
    """(table, column, text) for every non-empty value of every column of every table."""
    found: list[tuple[str, str, str]] = []
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)).mappings():
            for column, value in row.items():
                if value is None or value == "":
                    continue
                text = (
                    value
                    if isinstance(value, str)
                    else json.dumps(value, default=str, ensure_ascii=False)
                )
                found.append((table.name, str(column), text))
    return found


def traces(db: Db, needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Where any of the texts (case-insensitive) is still stored."""
    wanted = [n.casefold() for n in needles]
    hits = []
    for table, column, text in every_value(db):
        folded = text.casefold()
        hits += [(table, column, n) for n in wanted if n in folded]
    return hits

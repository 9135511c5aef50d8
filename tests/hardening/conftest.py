"""A site with one of everything, for the bad-input suite (issue 13).

`site` builds, through the factories and the app's own API, a programme with every kind of
row a route can name (session, board and topic, breakout round and group, notes space, item
and action, contact, pair rule, agenda item, outbox message, import draft) and three
browsers: the facilitator (who reads English), a participant, and nobody (whose browser
asks for Finnish). `ids_for(rule)` fills any route's path with that site's real ids, so a
route added later is swept too.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from companion.accounts.models import FacilitatorInvitation, PasswordReset
from companion.accounts.passwords import new_link_token
from companion.core.db import Base, Db, get_database, utcnow
from companion.core.mail import OutboxMessage
from companion.digest.links import personal_token
from companion.experts.links import expert_token
from companion.experts.models import Expert, Material
from companion.outcomes import surveys
from companion.programmes.operations import record_consent
from companion.sessions.join_links import join_link_for, join_token
from tests.conftest import _Client as TestClient
from tests.notes.conftest import enter_as

#: The numbers a person might type or a script send where an integer belongs (issue 13).
BAD_NUMBERS = ("²", "٣", "99999999999999999999", "-1", "1e3", "")
#: Dates at the ends of the calendar, which overflow time-zone arithmetic.
BAD_DATES = ("9999-12-31", "0001-01-01", "0", "2030-02-30", "31.12.2030")
#: Finnish on the pages of someone whose browser asks for Finnish.
FINNISH = {"Accept-Language": "fi"}


@dataclass
class Site:
    """The ids of one of everything, and the browsers."""

    app: Flask
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def ids_for(self, rule: Rule) -> dict[str, Any]:
        """Real values for the rule's path arguments (ids of this site's rows)."""
        values: dict[str, Any] = {}
        for name in rule.arguments:
            if name == "group_id":
                breakout = "breakouts/groups" in rule.rule or "notes/groups" in rule.rule
                values[name] = self.ids["breakout_group" if breakout else "group"]
            elif name == "token":
                values[name] = self._token_for(rule.endpoint)
            elif name == "item_id" and "agenda" in rule.rule:
                values[name] = self.ids["agenda_item"]
            elif name == "direction":
                values[name] = "up"
            elif name == "filename":
                values[name] = "css/kollega.css"
            elif name == "kind":
                values[name] = "attendance"
            elif name == "fmt":
                values[name] = "csv"
            else:
                values[name] = self.ids[name.removesuffix("_id")]
        return values

    def _token_for(self, endpoint: str) -> str:
        kinds = {
            "programmes.intake": "intake",
            "programmes.interest": "interest",
            "programmes.import_preview": "import",
            "sessions.join": "join",
            "sessions.join_calendar": "join",
            "digest.personal_link": "personal",
            "outcomes.answer_survey": "survey",
            "team.accept": "invitation",
            "passwords.reset_password": "reset",
        }
        if endpoint.startswith("experts."):
            return self.tokens["expert"]
        return self.tokens[kinds[endpoint]]

    def path(self, rule: Rule, **overrides: Any) -> str:
        """The rule's address with this site's ids (or the given values)."""
        values = {**self.ids_for(rule), **overrides}
        path = rule.rule
        for name, value in values.items():
            for converter in ("int:", "path:", ""):
                path = path.replace(f"<{converter}{name}>", str(value))
        return path


def _pdf() -> bytes:
    """A real one-page PDF."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (31, 111, 92)).save(buffer, "PDF")
    return buffer.getvalue()


def warm_up(app: Flask, site: Site) -> None:
    """Open every page and GET every API address once as each browser: a first view makes
    some rows on purpose (a notes space, attendance from the join link), so the counts a
    sweep compares are taken after."""
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and rule.endpoint != "static":
            for client in site.clients.values():
                client.get(site.path(rule))


def row_counts(db: Db) -> dict[str, int]:
    """Rows in every table (what "nothing half-written" is checked against).

    The audit log is left out: a facilitator's view of personal data (a participant's page,
    the outcomes page, an export) is logged by design, whatever else the request carried.
    """
    db.rollback()
    return {
        table.name: int(db.scalar(select(func.count()).select_from(table)) or 0)
        for table in Base.metadata.sorted_tables
        if table.name != "audit_entry"
    }


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.get_data(True)[:300])
    return response.get_json()


@pytest.fixture()
def site(
    app: Flask,
    db: Db,
    make_facilitator: Callable[..., Any],
    make_programme: Callable[..., Any],
    make_participant: Callable[..., Any],
    make_session: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> Iterator[Site]:
    """One of everything, made as people make it."""
    built = Site(app)
    facilitator = make_facilitator(name="Fia Facilitator", language="en")
    programme = make_programme(facilitator=facilitator, language="fi")
    group = programme.groups[0]
    people = [
        make_participant(programme, group=group, name=name, industry=industry)
        for name, industry in (
            ("Aino Aalto", "retail"),
            ("Bea Berg", "design"),
            ("Cai Cedar", "it"),
            ("Dan Dahl", "food"),
        )
    ]
    session = make_session(group, starts_at=utcnow() - timedelta(minutes=30))

    def browser() -> FlaskClient:
        # As the `client` fixture's: ends the test's own transaction after each request, so
        # the test sees what requests wrote and can write after them.
        app.test_client_class = TestClient
        made = app.test_client()
        made.test_db = db  # type: ignore[attr-defined]
        return made

    fac = sign_in(browser(), facilitator)
    aino = enter_as(app, db, browser(), people[0])
    built.clients = {"facilitator": fac, "participant": aino, "nobody": browser()}
    ids = built.ids
    ids.update(
        facilitator=facilitator.id,  # a member of the programme's team (its owner)
        programme=programme.id,
        group=group.id,
        session=session.id,
        participant=people[0].id,
    )
    board = _ok(fac.get(f"/api/v1/sessions/{session.id}/board"))
    ids["board"] = board["board"]["id"]
    topic = _ok(aino.post(f"/api/v1/boards/{ids['board']}/topics", json={"title": "Hinnat"}), 201)
    ids["topic"] = topic["topics"][0]["id"]
    rounds = _ok(fac.post(f"/api/v1/sessions/{session.id}/breakouts", json={"kind": "random"}), 201)
    ids["round"] = rounds[0]["id"]
    ids["breakout_group"] = rounds[0]["groups"][0]["id"]
    space = _ok(fac.get(f"/api/v1/sessions/{session.id}/notes"))
    ids["space"] = space["id"]
    item = _ok(aino.post(f"/api/v1/notes/{ids['space']}/items", json={"body": "Muistiin"}), 201)
    ids["item"] = item["id"]
    action = _ok(
        fac.post(
            f"/api/v1/notes/{ids['space']}/actions",
            json={"text": "Soita", "owner_id": people[0].id},
        ),
        201,
    )
    ids["action"] = action["id"]
    contact = _ok(
        aino.post("/api/v1/contacts", json={"person_id": people[1].id, "kind": "lunch"}), 201
    )
    ids["contact"] = contact["id"]
    rule = _ok(
        fac.post(
            f"/api/v1/programmes/{programme.id}/breakouts/rules",
            json={"kind": "apart", "first_id": people[2].id, "second_id": people[3].id},
        ),
        201,
    )
    ids["rule"] = rule["id"]
    agenda = _ok(
        fac.post(f"/api/v1/sessions/{session.id}/agenda", json={"title": "Tervetuloa"}), 201
    )
    ids["agenda_item"] = agenda["agenda"][-1]["id"]
    # A coming session's expert talk: an expert invited, their slides uploaded.
    coming = make_session(group, starts_at=utcnow() + timedelta(days=7))
    talk = _ok(
        fac.post(
            f"/api/v1/sessions/{coming.id}/agenda",
            json={"kind": "expert_talk", "duration_minutes": 20},
        ),
        201,
    )
    talk_item = talk["agenda"][-1]["id"]
    _ok(
        fac.post(
            f"/api/v1/agenda/{talk_item}/expert",
            json={"name": "Eeva Expert", "email": "eeva@example.fi", "language": "en"},
        ),
        201,
    )
    with app.app_context():
        expert = db.scalars(select(Expert).where(Expert.agenda_item_id == talk_item)).one()
        built.tokens["expert"] = expert_token(expert)
    slides = browser().post(
        f"/x/{built.tokens['expert']}/materials",
        data={"file": (io.BytesIO(_pdf()), "slides.pdf")},
        content_type="multipart/form-data",
    )
    assert slides.status_code == 303, slides.get_data(as_text=True)
    db.rollback()
    ids["material"] = db.scalars(select(Material.id)).one()
    invited = fac.post(f"/programmes/{programme.id}/invitations", data={})
    assert invited.status_code == 303
    upload = fac.post(
        f"/programmes/{programme.id}/import",
        data={"file": (io.BytesIO(b"name;email\nEero;eero@example.fi\n"), "list.csv")},
    )
    assert upload.status_code == 303
    built.tokens["import"] = upload.headers["Location"].rsplit("/", 1)[1]
    db.rollback()
    ids["message"] = db.scalars(select(OutboxMessage.id)).first() or 0
    with app.app_context():
        link = join_link_for(db, db.merge(people[0]))
        # Aino shares her contact details: a consent she may withdraw on her own page.
        consent = record_consent(
            db, db.merge(people[0]), "contact_sharing", source="preferences", text_version="t1"
        )
        db.commit()
        ids["consent"] = consent.id
        built.tokens["join"] = join_token(link)
        built.tokens["personal"] = personal_token(link)
        # A survey link (the survey need not be sent: the page then says so).
        person = db.merge(people[0])
        survey = surveys.survey_for(db, person.programme)
        db.commit()
        built.tokens["survey"] = surveys.survey_token(survey, person, link)
        ids["question"] = survey.questions[0].id
        # An invitation to the organisation's team, and a reset link of the facilitator's
        # (made directly: the tokens are not stored, only their hashes).
        invitation_token, digest = new_link_token()
        invitation = FacilitatorInvitation(
            organisation_id=facilitator.organisation_id,
            email="nea@example.fi",
            token_hash=digest,
            expires_at=utcnow() + timedelta(days=7),
        )
        reset_token, digest = new_link_token()
        db.add_all(
            [
                invitation,
                PasswordReset(
                    facilitator_id=facilitator.id,
                    token_hash=digest,
                    expires_at=utcnow() + timedelta(hours=1),
                ),
            ]
        )
        db.commit()
        ids["invitation"] = invitation.id
        built.tokens["invitation"] = invitation_token
        built.tokens["reset"] = reset_token
    db.refresh(group)
    built.tokens["intake"] = group.intake_token
    built.tokens["interest"] = facilitator.organisation.interest_token
    yield built


@pytest.fixture()
def config_changed(app: Flask) -> Iterator[Callable[..., Any]]:
    """`config_changed(**changes)`: the app's (frozen) configuration with these changes, put
    back after the test (as the Zoom tests do)."""
    original = app.extensions["companion.config"]

    def change(**changes: Any) -> Any:
        updated = app.extensions["companion.config"].model_copy(update=changes)
        app.extensions["companion.config"] = updated
        return updated

    try:
        yield change
    finally:
        app.extensions["companion.config"] = original


def database_of(app: Flask) -> Any:
    """The app's database (for sessions of a test's own)."""
    return get_database(app)

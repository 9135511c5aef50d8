"""The data the accessibility audit walks through: a programme in the middle of its season, made
through the public surface as people would (the API and forms), plus the few states that need
a programme of their own (a participant waiting for a session, a programme that is over, a
session on Zoom, one on Teams)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.models import FacilitatorInvitation, PasswordReset
from companion.accounts.passwords import new_link_token
from companion.core.db import Db, utcnow
from companion.core.mail.outbox import OutboxMessage
from companion.experts.links import expert_token
from companion.experts.models import Expert
from companion.outcomes import surveys
from companion.programmes import operations as programme_ops
from companion.programmes.models import InterestSubmission
from companion.programmes.schemas import InterestIn
from companion.sessions.join_links import join_link_for, join_token
from companion.sessions.models import AgendaItem
from tests.breakouts.conftest import World

PEOPLE_CSV = "nimi,sähköposti,yritys\nUlla Uusi,ulla@example.fi,Uusi Oy\n"


@dataclass
class Site:
    """Ids and tokens of everything there is a page for."""

    world: World
    round_id: int = 0
    breakout_group_id: int = 0
    plenary_space: int = 0
    group_space: int = 0
    item_id: int = 0
    import_token: str = ""
    outbox_message: int = 0
    waiting_token: str = ""
    over_token: str = ""
    zoom_session: int = 0
    teams_session: int = 0
    cancelled: int = 0
    interest_id: int = 0
    talk_item: int = 0
    expert_token: str = ""
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def programme(self) -> int:
        """The programme's id."""
        return int(self.world.programme.id)

    @property
    def group(self) -> int:
        """Its first group's id."""
        return int(self.world.group.id)

    @property
    def session(self) -> int:
        """The session running now."""
        return int(self.world.session.id)

    @property
    def later(self) -> int:
        """The session in three weeks."""
        return int(self.world.later.id)

    @property
    def past(self) -> int:
        """The session three weeks ago."""
        return int(self.world.past.id)

    @property
    def participant(self) -> int:
        """Aino, whose browser the participant pages are opened in."""
        return int(self.world.person("aino").id)


def _api(client: FlaskClient, method: str, url: str, body: Any = None) -> Any:
    response = client.open(url, method=method, json=body)
    assert response.status_code < 300, (method, url, response.status_code, response.get_json())
    return response.get_json()


def build_site(
    app: Flask,
    db: Db,
    world: World,
    make_programme: Any,
    make_participant: Any,
    make_session: Any,
    zoom_session: Any = None,
) -> Site:
    """Everything made once; the audit only reads."""
    site = Site(world)
    fac, aino, bertta = world.client("facilitator"), world.client("aino"), world.client("bertta")
    sid = world.session.id

    # A breakout round running now, Aino in one of its groups.
    planned = world.plan()[0]
    site.round_id = int(planned["id"])
    world.act(site.round_id, "lock")
    world.act(site.round_id, "start")
    aino_key = f"p:{world.person('aino').id}"
    site.breakout_group_id = next(
        int(g["id"]) for g in planned["groups"] if aino_key in {m["key"] for m in g["members"]}
    )

    # The session three weeks ago has ended: its summary waits for review.
    _api(fac, "POST", f"/api/v1/sessions/{world.past.id}/end")

    # A session six weeks ahead, called off.
    site.cancelled = make_session(world.group, starts_at=utcnow() + timedelta(days=42)).id
    assert fac.post(f"/sessions/{site.cancelled}/cancel").status_code == 303

    # Notes: the plenary's and Aino's group's, with Markdown, a summary and an action item.
    site.plenary_space = _api(fac, "GET", f"/api/v1/sessions/{sid}/notes")["id"]
    _api(fac, "POST", f"/api/v1/notes/{site.plenary_space}/items", {"body": "Welcome round"})
    site.group_space = _api(
        aino, "GET", f"/api/v1/sessions/{sid}/notes?group={site.breakout_group_id}"
    )["id"]
    item = _api(
        aino,
        "POST",
        f"/api/v1/notes/{site.group_space}/items",
        {"body": "**Pricing**: see [the guide](https://example.org/guide)\n\n- one\n- two"},
    )
    site.item_id = int(item["id"])
    _api(
        aino,
        "PUT",
        f"/api/v1/notes/{site.group_space}/summary",
        {"text": "We talked about prices.", "base_revision": 0},
    )
    _api(
        aino,
        "POST",
        f"/api/v1/notes/{site.group_space}/actions",
        {"text": "Send the price list", "owner_id": world.person("aino").id},
    )

    # The board: a topic done, one being discussed (with a timer), two waiting with votes.
    board = _api(fac, "GET", f"/api/v1/sessions/{sid}/board")["board"]["id"]
    topics = [
        _api(bertta, "POST", f"/api/v1/boards/{board}/topics", {"title": title})["topics"][0]["id"]
        for title in ("Pricing my work", "Finding customers", "Time management", "Hiring")
    ]
    _api(fac, "POST", f"/api/v1/topics/{topics[0]}/move", {"column": "done"})
    _api(fac, "POST", f"/api/v1/topics/{topics[1]}/move", {"column": "discussing"})
    _api(fac, "POST", f"/api/v1/boards/{board}/timer", {"action": "start", "minutes": 10})
    _api(aino, "POST", f"/api/v1/topics/{topics[2]}/vote")
    _api(bertta, "POST", f"/api/v1/topics/{topics[2]}/vote")
    _api(bertta, "POST", f"/api/v1/topics/{topics[3]}/vote")

    # Contacts: Bertta asks Aino for lunch; Aino's invitation goes to the outbox.
    _api(
        bertta, "POST", "/api/v1/contacts", {"person_id": world.person("aino").id, "kind": "lunch"}
    )
    invited = fac.post(
        f"/programmes/{site.programme}/invitations",
        data={"participant_id": str(world.person("aino").id)},
    )
    assert invited.status_code == 303

    # An expert talk three weeks ahead: the expert invited, confirmed and their talk described.
    added = fac.post(
        f"/sessions/{world.later.id}/agenda", data={"kind": "expert_talk", "duration_minutes": "20"}
    )
    assert added.status_code == 303, added.get_data(as_text=True)
    with app.app_context():
        site.talk_item = int(
            db.scalars(
                select(AgendaItem.id).where(
                    AgendaItem.session_id == world.later.id, AgendaItem.kind == "expert_talk"
                )
            ).one()
        )
    talk_page = f"/agenda/{site.talk_item}/expert"
    expert_data = {"name": "Eeva Asiantuntija", "email": "eeva@example.fi", "language": "fi"}
    assert fac.post(talk_page, data=expert_data).status_code == 303
    with app.app_context():
        expert = db.scalars(select(Expert).where(Expert.agenda_item_id == site.talk_item)).one()
        site.expert_token = expert_token(expert)
    expert_browser = app.test_client()
    page = f"/x/{site.expert_token}"
    assert expert_browser.post(f"{page}/answer", data={"answer": "confirm"}).status_code == 303
    described = expert_browser.post(
        f"{page}/talk",
        data={
            "title": "Pricing without guessing",
            "abstract": "Three ways to price a service.",
            "bio": "Eeva advises small firms on pricing.",
        },
    )
    assert described.status_code == 303

    # An import waiting for its preview.
    upload = fac.post(
        f"/programmes/{site.programme}/import",
        data={"file": (io.BytesIO(PEOPLE_CSV.encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 303, upload.get_data(as_text=True)
    site.import_token = upload.headers["Location"].rsplit("/", 1)[-1]

    with app.app_context():
        organisation = world.programme.organisation
        programme_ops.submit_interest(
            db,
            organisation,
            InterestIn(
                name="Iida Innokas", email="iida@example.fi", company="Innokas Oy", consent=True
            ),
        )
        # The facilitator is their organisation's admin too (the audit log's page).
        db.merge(world.facilitator).is_admin = True
        db.commit()
        site.interest_id = db.scalars(select(InterestSubmission.id)).one()
        site.tokens["interest"] = organisation.interest_token
        site.tokens["intake"] = world.group.intake_token
        # An invitation to the team and a reset link of the facilitator's (only the hashes
        # of their tokens are stored, so they are made here rather than read from emails).
        invitation_token, invitation_hash = new_link_token()
        reset_token, reset_hash = new_link_token()
        db.add_all(
            [
                FacilitatorInvitation(
                    organisation_id=organisation.id,
                    email="nea@example.fi",
                    name="Nea Uusi",
                    token_hash=invitation_hash,
                    expires_at=utcnow() + timedelta(days=7),
                ),
                PasswordReset(
                    facilitator_id=world.facilitator.id,
                    token_hash=reset_hash,
                    expires_at=utcnow() + timedelta(hours=1),
                ),
            ]
        )
        db.commit()
        site.tokens["invitation"] = invitation_token
        site.tokens["reset"] = reset_token
        message = db.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        assert message is not None, "no email was queued"
        site.outbox_message = message.id

    # The end-of-programme survey sent (Aino's personal link to it), Aino's rating of the
    # past session, and another programme whose survey is still a draft (the editor).
    assert fac.get(f"/programmes/{site.programme}/survey").status_code == 200
    assert fac.post(f"/programmes/{site.programme}/survey/send").status_code == 303
    rated = aino.post(
        f"/sessions/{world.past.id}/feedback", data={"rating": "4", "comment": "Hyvä"}
    )
    assert rated.status_code == 303
    drafting = make_programme(facilitator=world.facilitator, name="Kevään jatko-ohjelma")
    site.tokens["draft_programme"] = str(drafting.id)
    with app.app_context():
        survey = surveys.survey_of(db, world.programme)
        assert survey is not None
        person = world.person("aino")
        site.tokens["survey"] = surveys.survey_token(survey, person, join_link_for(db, person))
        db.commit()

    # Someone whose next session is in a week (the waiting page), and someone whose
    # programme has no sessions left (the programme-over page).
    waiting = make_programme(name="Syksyn ohjelma")
    wendy = make_participant(waiting, name="Wendy Waiting")
    make_session(waiting.groups[0], starts_at=utcnow() + timedelta(days=7))
    over = make_programme(name="Past programme")
    otto = make_participant(over, name="Otto Over")
    with app.app_context():
        site.waiting_token = join_token(join_link_for(db, wendy))
        site.over_token = join_token(join_link_for(db, otto))
        db.commit()

    if zoom_session is not None:
        zoom = make_programme(facilitator=world.facilitator, platform="zoom", name="Zoom-ohjelma")
        site.zoom_session = zoom_session(zoom.groups[0], world.facilitator).id
    # A Teams session whose meeting could not be made (no host connected Microsoft 365): its
    # page shows the error, making it again, the invitations choice and attendance.
    teams = make_programme(facilitator=world.facilitator, platform="teams", name="Teams-ohjelma")
    site.teams_session = make_session(teams.groups[0], starts_at=utcnow() + timedelta(days=7)).id
    return site

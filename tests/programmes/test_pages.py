"""The facilitator's pages for programmes, groups and participants: GET and POST of each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from companion.accounts.models import Facilitator, ProgrammeRole
from companion.core.db import Db
from companion.privacy.models import AuditEntry
from companion.programmes.models import Group, Membership, Participant, Programme


@pytest.fixture()
def facilitator(make_facilitator: Callable[..., Facilitator]) -> Facilitator:
    return make_facilitator(name="Fia Facilitator")


@pytest.fixture()
def programme(make_programme: Callable[..., Programme], facilitator: Facilitator) -> Programme:
    return make_programme(facilitator=facilitator, name="eKollega spring 2027")


@pytest.fixture()
def signed_in(
    client: FlaskClient,
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    facilitator: Facilitator,
) -> FlaskClient:
    return sign_in(client, facilitator)


def text(response: Any) -> str:
    body: str = response.get_data(as_text=True)
    return body


# --- programmes -------------------------------------------------------------------------------


def test_index_invites_to_start_a_first_programme(signed_in: FlaskClient) -> None:
    response = signed_in.get("/programmes")
    assert response.status_code == 200
    assert "Start your first programme" in text(response)


def test_index_lists_the_programmes_with_their_size(
    signed_in: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
) -> None:
    make_participant(programme)
    page = text(signed_in.get("/programmes"))
    assert "eKollega spring 2027" in page
    assert "2 groups" in page
    assert "1 participant" in page


def test_new_programme_form_has_labels_for_every_field(signed_in: FlaskClient) -> None:
    page = text(signed_in.get("/programmes/new"))
    for field in ("name", "description", "language", "timezone", "starts_on", "ends_on"):
        assert f'<label for="f-{field}">' in page
        assert f'id="f-{field}"' in page
    assert '<option value="Europe/Helsinki" selected>' in page


def test_create_a_programme(signed_in: FlaskClient, facilitator: Facilitator, db: Db) -> None:
    response = signed_in.post(
        "/programmes/new",
        data={
            "name": "  eKollega autumn  ",
            "language": "en",
            "timezone": "Europe/Stockholm",
            "starts_on": "2027-09-01",
            "ends_on": "2027-12-15",
            "platform": "jitsi",
        },
    )
    assert response.status_code == 303
    programme = db.scalar(select(Programme))
    assert response.headers["Location"] == f"/programmes/{programme.id}"
    assert (programme.name, programme.language, programme.timezone) == (
        "eKollega autumn",
        "en",
        "Europe/Stockholm",
    )
    assert programme.starts_on == date(2027, 9, 1)
    roles = db.scalars(select(ProgrammeRole.facilitator_id)).all()
    assert roles == [facilitator.id]
    page = text(signed_in.get(response.headers["Location"]))
    assert "Programme created. Next, add its groups." in page
    assert "Europe/Stockholm" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "x" * 201}, "name", "Use at most 200 characters."),
        (
            {"name": "X", "starts_on": "2027-05-01", "ends_on": "2027-01-01"},
            "ends_on",
            "The programme cannot end before it starts.",
        ),
        ({"name": "X", "starts_on": "1.5.2027"}, "starts_on", "Enter a date as YYYY-MM-DD."),
        ({"name": "X", "timezone": "Europe"}, "timezone", "Choose a time zone"),
        ({"name": "X", "timezone": "Mars/Olympus"}, "timezone", "Choose a time zone"),
        ({"name": "X", "language": "sv"}, "language", "Choose Finnish (fi) or English (en)."),
        ({"name": "X", "platform": "skype"}, "platform", "Choose one of: jitsi"),
        ({"name": "X\x00"}, "name", "control characters"),
    ],
)
def test_a_programme_form_with_errors_comes_back_marked(
    signed_in: FlaskClient, db: Db, data: dict[str, str], field: str, message: str
) -> None:
    response = signed_in.post("/programmes/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert f'href="#f-{field}"' in page  # the summary links to the field
    assert 'aria-invalid="true"' in page
    assert db.scalar(select(Programme)) is None


def test_show_a_programme(
    signed_in: FlaskClient,
    programme: Programme,
    make_session: Callable[..., Any],
) -> None:
    make_session(programme.groups[0], title="Kick-off")
    response = signed_in.get(f"/programmes/{programme.id}")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>eKollega spring 2027</h1>" in page
    assert "Group 1" in page and "Group 2" in page
    assert "Kick-off" in page
    assert "Survey open" in page


def test_edit_a_programme(signed_in: FlaskClient, programme: Programme, db: Db) -> None:
    form = text(signed_in.get(f"/programmes/{programme.id}/edit"))
    assert 'value="eKollega spring 2027"' in form
    response = signed_in.post(
        f"/programmes/{programme.id}/edit",
        data={"name": "Renamed", "language": "fi", "timezone": "Europe/Helsinki"},
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Programme, programme.id).name == "Renamed"
    assert db.get(Programme, programme.id).language == "fi"

    bad = signed_in.post(
        f"/programmes/{programme.id}/edit",
        data={"name": "Renamed", "starts_on": "2027-05-01", "ends_on": "2027-04-01"},
    )
    assert bad.status_code == 422
    assert "The programme cannot end before it starts." in text(bad)


# --- groups -----------------------------------------------------------------------------------


def test_add_a_group(signed_in: FlaskClient, programme: Programme, db: Db) -> None:
    response = signed_in.post(f"/programmes/{programme.id}/groups", data={"name": "Ryhmä C"})
    assert response.status_code == 303
    group = db.scalar(select(Group).where(Group.name == "Ryhmä C"))
    assert group is not None and group.intake_open
    assert "Group “Ryhmä C” added." in text(signed_in.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "This field is required."), ("group 1", "already has a group with this name")],
)
def test_a_group_needs_a_new_name(
    signed_in: FlaskClient, programme: Programme, name: str, message: str
) -> None:
    response = signed_in.post(f"/programmes/{programme.id}/groups", data={"name": name})
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'href="#f-name"' in page


def test_group_page_shows_the_survey_link_and_the_answers(
    signed_in: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
) -> None:
    group = programme.groups[0]
    make_participant(
        programme,
        group=group,
        name="Aino Virtanen",
        company="Virtasen Puutyö",
        industry="Construction",
        interests="Pricing",
        goals="A sparring partner",
        years_as_entrepreneur=12,
    )
    page = text(signed_in.get(f"/groups/{group.id}"))
    assert f"/intake/{group.intake_token}" in page
    for answer in ("Aino Virtanen", "Virtasen Puutyö", "Construction", "Pricing", "sparring"):
        assert answer in page
    assert '<label class="visually-hidden" for="intake-url">' in page


def test_rename_a_group_and_close_its_survey(
    signed_in: FlaskClient, programme: Programme, db: Db
) -> None:
    group = programme.groups[0]
    # An unticked checkbox sends nothing at all: that must close the survey.
    response = signed_in.post(f"/groups/{group.id}", data={"name": "Ryhmä A"})
    assert response.status_code == 303
    db.expire_all()
    assert (db.get(Group, group.id).name, db.get(Group, group.id).intake_open) == (
        "Ryhmä A",
        False,
    )
    signed_in.post(f"/groups/{group.id}", data={"name": "Ryhmä A", "intake_open": "on"})
    db.expire_all()
    assert db.get(Group, group.id).intake_open is True


def test_a_group_cannot_take_another_groups_name(
    signed_in: FlaskClient, programme: Programme
) -> None:
    group = programme.groups[0]
    response = signed_in.post(f"/groups/{group.id}", data={"name": "GROUP 2", "intake_open": "on"})
    assert response.status_code == 422
    page = text(response)
    assert "already has a group with this name" in page
    assert 'id="f-name-error"' in page


# --- participants -----------------------------------------------------------------------------


def test_participants_list_and_search(
    signed_in: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
) -> None:
    url = f"/programmes/{programme.id}/participants"
    assert "No participants yet." in text(signed_in.get(url))
    make_participant(programme, name="Aino Virtanen", company="Puutyö Oy", industry="Wood")
    make_participant(programme, name="Eero Mäkelä", email="eero@example.fi", industry="IT")
    page = text(signed_in.get(url))
    assert "Aino Virtanen" in page and "Eero Mäkelä" in page
    found = text(signed_in.get(url, query_string={"q": "puutyö"}))
    assert "Aino Virtanen" in found and "Eero Mäkelä" not in found
    assert "Eero Mäkelä" in text(signed_in.get(url, query_string={"q": "EERO@"}))
    nobody = text(signed_in.get(url, query_string={"q": "<script>"}))
    assert "Nobody matches “&lt;script&gt;”." in nobody


def test_add_a_participant_by_hand(signed_in: FlaskClient, programme: Programme, db: Db) -> None:
    url = f"/programmes/{programme.id}/participants/new"
    form = text(signed_in.get(url))
    first, second = programme.groups
    assert f'id="g-{first.id}" name="group_ids" value="{first.id}" checked' in form
    response = signed_in.post(
        url,
        data={
            "name": "Sanna Järvinen",
            "email": "Sanna@Example.FI",
            "phone": "+358 40 123 4567",
            "industry": "Wellbeing",
            "years_as_entrepreneur": "7",
            "group_ids": [str(first.id), str(second.id)],
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/programmes/{programme.id}/participants"
    participant = db.scalar(select(Participant))
    assert participant.email == "sanna@example.fi"
    assert participant.years_as_entrepreneur == 7
    assert participant.source == "manual"
    assert {g.id for g in participant.groups} == {first.id, second.id}
    assert "Participant added." in text(signed_in.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "A", "email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": "a@example.fi"}, "name", "This field is required."),
        ({"name": "A", "email": "a@example.fi", "phone": "1" * 41}, "phone", "at most 40"),
        ({"name": "A", "email": "a@example.fi", "industry": "x" * 121}, "industry", "at most"),
        (
            {"name": "A", "email": "a@example.fi", "years_as_entrepreneur": "many"},
            "years_as_entrepreneur",
            "Enter a whole number.",
        ),
        (
            {"name": "A", "email": "a@example.fi", "years_as_entrepreneur": "200"},
            "years_as_entrepreneur",
            "Enter 80 or less.",
        ),
        (
            {"name": "A", "email": "a@example.fi", "group_ids": "999999"},
            "group_ids",
            "Choose groups of this programme.",
        ),
        (
            {"name": "A", "email": "a@example.fi", "group_ids": "9" * 5000},
            "group_ids",
            "",
        ),
        (
            {"name": "A", "email": "existing@example.fi"},
            "email",
            "existing@example.fi is already a participant of this programme.",
        ),
    ],
)
def test_participant_form_errors(
    signed_in: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
    db: Db,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    make_participant(programme, email="existing@example.fi")
    response = signed_in.post(f"/programmes/{programme.id}/participants/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert field in page
    assert len(db.scalars(select(Participant)).all()) == 1


def test_edit_a_participant_and_their_groups(
    signed_in: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
    db: Db,
) -> None:
    participant = make_participant(programme, name="Aino", email="aino@example.fi")
    url = f"/participants/{participant.id}/edit"
    form = text(signed_in.get(url))
    assert 'value="aino@example.fi"' in form
    assert "Join link" in form and "Remove Aino" in form
    second = programme.groups[1]
    response = signed_in.post(
        url,
        data={"name": "Aino Virtanen", "email": "aino@example.fi", "group_ids": str(second.id)},
    )
    assert response.status_code == 303
    db.expire_all()
    changed = db.get(Participant, participant.id)
    assert changed.name == "Aino Virtanen"
    assert [g.id for g in changed.groups] == [second.id]
    # No box ticked: the person belongs to no group.
    signed_in.post(url, data={"name": "Aino Virtanen", "email": "aino@example.fi"})
    db.expire_all()
    assert db.get(Participant, participant.id).groups == []


def test_an_email_cannot_be_changed_to_a_colleagues(
    signed_in: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
) -> None:
    make_participant(programme, email="taken@example.fi")
    participant = make_participant(programme, email="mine@example.fi")
    response = signed_in.post(
        f"/participants/{participant.id}/edit", data={"name": "X", "email": "TAKEN@example.fi"}
    )
    assert response.status_code == 422
    assert "taken@example.fi is already a participant" in text(response)


def test_remove_a_participant(
    signed_in: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
    facilitator: Facilitator,
    db: Db,
) -> None:
    participant = make_participant(programme, name="Poistuva")
    url = f"/participants/{participant.id}/remove"
    assert signed_in.get(url).status_code == 405
    unconfirmed = signed_in.post(url)
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["Location"] == f"/participants/{participant.id}/edit"
    assert "Tick the box to confirm the removal." in text(
        signed_in.get(unconfirmed.headers["Location"])
    )
    assert db.scalar(select(Participant)) is not None

    response = signed_in.post(url, data={"confirm": "yes"})
    assert response.status_code == 303
    assert db.scalar(select(Participant)) is None
    assert db.scalar(select(Membership)) is None
    # Looking at the person's page was logged too (a view of personal data).
    audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "participant.remove"))
    assert audit is not None
    assert audit.facilitator_id == facilitator.id
    assert "Poistuva" not in str(audit.details)  # ids only, no personal data
    page = text(signed_in.get(response.headers["Location"]))
    assert "The participant and their data were removed." in page


def test_pages_need_a_signed_in_facilitator(client: FlaskClient, programme: Programme) -> None:
    group = programme.groups[0]
    for url in (
        "/programmes",
        "/programmes/new",
        f"/programmes/{programme.id}",
        f"/programmes/{programme.id}/edit",
        f"/programmes/{programme.id}/participants",
        f"/programmes/{programme.id}/participants/new",
        f"/programmes/{programme.id}/import",
        f"/groups/{group.id}",
        "/interest",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/sign-in?next="), url
    response = client.post(f"/programmes/{programme.id}/groups", data={"name": "Sneaky"})
    assert response.status_code == 302
    assert len(programme.groups) == 2

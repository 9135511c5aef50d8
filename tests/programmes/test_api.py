"""The /api/v1 routes of programmes, groups and participants: answers, problems, no 500s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from companion.accounts.identity import facilitator_token
from companion.accounts.models import Facilitator
from companion.core.db import Db
from companion.programmes.models import Group, Participant, Programme

PROBLEM = "application/problem+json"


@pytest.fixture()
def facilitator(make_facilitator: Callable[..., Facilitator]) -> Facilitator:
    return make_facilitator()


@pytest.fixture()
def programme(make_programme: Callable[..., Programme], facilitator: Facilitator) -> Programme:
    return make_programme(facilitator=facilitator, name="eKollega spring 2027")


@pytest.fixture()
def api(app: Flask, facilitator: Facilitator) -> FlaskClient:
    """A client that calls the API as a script would: with a bearer token, no cookie."""
    with app.app_context():
        token = facilitator_token(facilitator)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def problem(response: Any, status: int) -> dict[str, Any]:
    """The RFC 9457 body of an error response, after checking its shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    return body


def field_errors(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body.get("errors", [])}


# --- programmes -------------------------------------------------------------------------------


def test_list_create_get_and_patch_programmes(api: FlaskClient, programme: Programme) -> None:
    listed = api.get("/api/v1/programmes")
    assert listed.status_code == 200
    assert [p["name"] for p in listed.get_json()] == ["eKollega spring 2027"]

    created = api.post(
        "/api/v1/programmes",
        json={
            "name": "Autumn",
            "language": "fi",
            "timezone": "Europe/Helsinki",
            "starts_on": "2027-09-01",
            "ends_on": "2027-12-01",
        },
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "Autumn" and body["starts_on"] == "2027-09-01"
    assert body["platform"] == "jitsi"

    fetched = api.get(f"/api/v1/programmes/{body['id']}")
    assert fetched.get_json() == body

    patched = api.patch(f"/api/v1/programmes/{body['id']}", json={"description": "Round two"})
    assert patched.status_code == 200
    assert patched.get_json()["description"] == "Round two"
    assert patched.get_json()["name"] == "Autumn"


def test_patch_keeps_dates_in_order(api: FlaskClient, programme: Programme) -> None:
    api.patch(f"/api/v1/programmes/{programme.id}", json={"starts_on": "2027-01-10"})
    body = problem(
        api.patch(f"/api/v1/programmes/{programme.id}", json={"ends_on": "2027-01-01"}), 422
    )
    assert field_errors(body) == {"ends_on": "The programme cannot end before it starts."}


# --- groups -----------------------------------------------------------------------------------


def test_groups(api: FlaskClient, programme: Programme) -> None:
    listed = api.get(f"/api/v1/programmes/{programme.id}/groups").get_json()
    assert [g["name"] for g in listed] == ["Group 1", "Group 2"]
    assert listed[0]["member_count"] == 0

    created = api.post(f"/api/v1/programmes/{programme.id}/groups", json={"name": "Group 3"})
    assert created.status_code == 201
    group = created.get_json()
    assert group["intake_open"] is True and group["programme_id"] == programme.id
    assert api.get(f"/api/v1/groups/{group['id']}").get_json() == group

    closed = api.patch(f"/api/v1/groups/{group['id']}", json={"intake_open": False})
    assert closed.status_code == 200
    assert closed.get_json()["intake_open"] is False
    assert closed.get_json()["name"] == "Group 3"
    renamed = api.patch(f"/api/v1/groups/{group['id']}", json={"name": "Ryhmä C"})
    assert renamed.get_json()["name"] == "Ryhmä C"
    assert renamed.get_json()["intake_open"] is False

    body = problem(
        api.post(f"/api/v1/programmes/{programme.id}/groups", json={"name": "group 1"}), 409
    )
    assert "already has a group with this name" in body["detail"]
    problem(api.patch(f"/api/v1/groups/{group['id']}", json={"name": "Group 1"}), 409)


# --- participants -----------------------------------------------------------------------------


def test_participants(api: FlaskClient, programme: Programme, db: Db) -> None:
    first, second = programme.groups
    url = f"/api/v1/programmes/{programme.id}/participants"
    assert api.get(url).get_json() == []

    created = api.post(
        url,
        json={
            "name": "Aino Virtanen",
            "email": "Aino@Example.fi",
            "industry": "Construction",
            "years_as_entrepreneur": 12,
            "language": "fi",
            "group_ids": [first.id],
        },
    )
    assert created.status_code == 201
    person = created.get_json()
    assert person["email"] == "aino@example.fi"
    assert person["group_ids"] == [first.id]
    assert person["source"] == "manual"
    assert api.get(url).get_json() == [person]
    assert api.get(f"/api/v1/participants/{person['id']}").get_json() == person

    moved = api.patch(
        f"/api/v1/participants/{person['id']}",
        json={"group_ids": [second.id], "years_as_entrepreneur": None},
    )
    assert moved.status_code == 200
    assert moved.get_json()["group_ids"] == [second.id]
    assert moved.get_json()["years_as_entrepreneur"] is None
    assert moved.get_json()["industry"] == "Construction"

    body = problem(api.post(url, json={"name": "Twin", "email": "AINO@example.fi"}), 409)
    assert body["detail"] == "aino@example.fi is already a participant of this programme."

    removed = api.delete(f"/api/v1/participants/{person['id']}")
    assert removed.status_code == 204
    assert removed.data == b""
    assert db.scalar(select(func.count()).select_from(Participant)) == 0
    problem(api.get(f"/api/v1/participants/{person['id']}"), 404)


def test_a_patch_cannot_take_a_colleagues_email(
    api: FlaskClient, programme: Programme, make_participant: Callable[..., Participant]
) -> None:
    make_participant(programme, email="taken@example.fi")
    mine = make_participant(programme, email="mine@example.fi")
    body = problem(
        api.patch(f"/api/v1/participants/{mine.id}", json={"email": "taken@example.fi"}), 409
    )
    assert "taken@example.fi" in body["detail"]


# --- validation and robustness ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": "This field is required.", "email": "This field is required."}),
        (
            {"name": "A", "email": "nope"},
            {"email": "Enter a valid email address."},
        ),
        (
            {"name": 42, "email": "a@example.fi"},
            {"name": "Expected text."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "shoe_size": 44},
            {"shoe_size": "This field is not allowed here."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "years_as_entrepreneur": 10**30},
            {"years_as_entrepreneur": "Enter 80 or less."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "years_as_entrepreneur": -1},
            {"years_as_entrepreneur": "Enter 0 or more."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "years_as_entrepreneur": "ten"},
            {"years_as_entrepreneur": "Enter a whole number."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "group_ids": ["x"]},
            {"group_ids.0": "Enter a whole number."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "group_ids": 5},
            {"group_ids": "Expected a list."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "group_ids": [10**30]},
            {"group_ids.0": "Enter 2147483647 or less."},
        ),
        (
            {"name": "x" * 100_000, "email": "a@example.fi"},
            {"name": "Use at most 200 characters."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "phone": "5" * 41},
            {"phone": "Use at most 40 characters."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "region": "r" * 121},
            {"region": "Use at most 120 characters."},
        ),
        (
            {"name": "A\u0000", "email": "a@example.fi"},
            {"name": "Remove the control characters (such as NUL) from this text."},
        ),
        (
            {"name": "A", "email": "a@example.fi", "language": "sv"},
            {"language": "Choose Finnish (fi) or English (en)."},
        ),
    ],
)
def test_participant_validation_names_the_fields(
    api: FlaskClient,
    programme: Programme,
    db: Db,
    body: dict[str, Any],
    errors: dict[str, str],
) -> None:
    response = api.post(f"/api/v1/programmes/{programme.id}/participants", json=body)
    answer = problem(response, 422)
    assert answer["detail"] == "Please correct the marked fields."
    assert field_errors(answer) == errors
    assert db.scalar(select(func.count()).select_from(Participant)) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "timezone": "Europe"}, "timezone"),
        ({"name": "X", "timezone": "a" * 300}, "timezone"),
        ({"name": "X", "timezone": "../../etc/passwd"}, "timezone"),
        ({"name": "X", "platform": "p" * 100}, "platform"),
        ({"name": "X", "starts_on": "2027-02-30"}, "starts_on"),
        ({"name": "X", "starts_on": 20270101}, "starts_on"),
        ({"name": "X", "starts_on": "99999-01-01"}, "starts_on"),
        ({"name": ["X"]}, "name"),
        ({"name": None}, "name"),
        ({"name": "X", "id": 7}, "id"),
    ],
)
def test_programme_validation_names_the_fields(
    api: FlaskClient, db: Db, body: dict[str, Any], field: str
) -> None:
    answer = problem(api.post("/api/v1/programmes", json=body), 422)
    assert field in field_errors(answer)
    assert db.scalar(select(func.count()).select_from(Programme)) == 0


def test_patching_a_group_validates(api: FlaskClient, programme: Programme) -> None:
    group = programme.groups[0]
    answer = problem(api.patch(f"/api/v1/groups/{group.id}", json={"intake_open": "maybe"}), 422)
    assert field_errors(answer) == {"intake_open": "Choose yes or no."}
    answer = problem(api.patch(f"/api/v1/groups/{group.id}", json={"name": ""}), 422)
    assert field_errors(answer) == {"name": "This field is required."}


@pytest.mark.parametrize(
    ("data", "content_type", "detail"),
    [
        ('{"name": ', "application/json", "The request body is not valid JSON."),
        ("name=X", "application/x-www-form-urlencoded", "Content-Type: application/json"),
        ('{"name": "X"}', "text/plain", "Content-Type: application/json"),
        ("", "application/json", "The request body is not valid JSON."),
        ("\xff\xfe", "application/json", "The request body is not valid JSON."),
        ("[1, 2]", "application/json", None),
        ('"just a string"', "application/json", None),
    ],
)
def test_bodies_that_are_not_a_json_object(
    api: FlaskClient, data: str, content_type: str, detail: str | None
) -> None:
    response = api.post("/api/v1/programmes", data=data, content_type=content_type)
    answer = problem(response, 422)
    if detail is not None:
        assert detail in answer["detail"]
    else:
        assert field_errors(answer) == {"body": "Expected an object."}


def test_every_route_answers_problems_for_impossible_ids(
    api: FlaskClient, programme: Programme
) -> None:
    for template in (
        "/api/v1/programmes/{}",
        "/api/v1/programmes/{}/groups",
        "/api/v1/programmes/{}/participants",
        "/api/v1/groups/{}",
        "/api/v1/participants/{}",
    ):
        for bad in ("abc", "-1", "0", "1.5", "99999999999999999999999", str(2**31), "%00"):
            problem(api.get(template.format(bad)), 404)
    for template in ("/api/v1/programmes/{}", "/api/v1/groups/{}", "/api/v1/participants/{}"):
        problem(api.patch(template.format(2**63), json={}), 404)
    problem(api.delete(f"/api/v1/participants/{2**63}"), 404)
    problem(api.post(f"/api/v1/programmes/{2**63}/groups", json={"name": "X"}), 404)


def test_wrong_methods_are_405_with_allow(api: FlaskClient, programme: Programme) -> None:
    response = api.put(f"/api/v1/programmes/{programme.id}", json={})
    problem(response, 405)
    assert "PATCH" in response.headers["Allow"]


def test_the_api_needs_a_caller(client: FlaskClient, programme: Programme) -> None:
    for method, url in (
        ("get", "/api/v1/programmes"),
        ("post", "/api/v1/programmes"),
        ("get", f"/api/v1/programmes/{programme.id}"),
        ("get", f"/api/v1/programmes/{programme.id}/participants"),
        ("get", f"/api/v1/groups/{programme.groups[0].id}"),
    ):
        response = getattr(client, method)(url, json={"name": "X"})
        problem(response, 401)
    expired = client.get("/api/v1/programmes", headers={"Authorization": "Bearer x.y.z"})
    problem(expired, 401)


def test_the_openapi_document_describes_these_routes(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/programmes"]) == {"get", "post"}
    assert set(paths["/api/v1/groups/{group_id}"]) == {"get", "patch"}
    assert set(paths["/api/v1/participants/{participant_id}"]) == {"get", "patch", "delete"}
    patch = paths["/api/v1/groups/{group_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/GroupPatch"
    )


def test_group_member_counts(
    api: FlaskClient,
    programme: Programme,
    make_participant: Callable[..., Participant],
    db: Db,
) -> None:
    make_participant(programme)
    make_participant(programme)
    groups = api.get(f"/api/v1/programmes/{programme.id}/groups").get_json()
    assert [g["member_count"] for g in groups] == [2, 0]
    assert db.scalar(select(func.count()).select_from(Group)) == 2

"""Signing in and out over HTTP: messages, rate limiting, sessions, safe redirects and CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.accounts.identity import facilitator_token
from companion.accounts.models import Facilitator
from companion.accounts.operations import set_password
from companion.core.db import Db
from tests.factories import PASSWORD

WRONG = "The email or password is not right."


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the first form on a page, as a browser would send it."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def signed_in_as(client: FlaskClient) -> int | None:
    with client.session_transaction() as session:
        value: int | None = session.get("fid")
        return value


def test_sign_in_page_has_labelled_fields(client: FlaskClient) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<label for="f-email">' in page
    assert '<label for="f-password">' in page
    assert 'autocomplete="current-password"' in page


def test_sign_in_with_the_right_password(
    client: FlaskClient, make_facilitator: Callable[..., Facilitator]
) -> None:
    facilitator = make_facilitator(email="fia@example.org")
    response = client.post("/sign-in", data={"email": " FIA@example.org ", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/programmes"
    assert signed_in_as(client) == facilitator.id
    assert client.get("/programmes").status_code == 200


def test_sign_in_records_the_time(
    client: FlaskClient, make_facilitator: Callable[..., Facilitator], db: Db
) -> None:
    facilitator = make_facilitator(email="fia@example.org")
    client.post("/sign-in", data={"email": "fia@example.org", "password": PASSWORD})
    db.expire_all()
    assert db.get(Facilitator, facilitator.id).last_sign_in_at is not None


def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: FlaskClient, make_facilitator: Callable[..., Facilitator]
) -> None:
    make_facilitator(email="fia@example.org")
    wrong = client.post("/sign-in", data={"email": "fia@example.org", "password": "nope"})
    unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        page = response.get_data(as_text=True)
        assert WRONG in page
        assert signed_in_as(client) is None
    # The typed address is kept so the person only retypes the password.
    assert 'value="fia@example.org"' in wrong.get_data(as_text=True)


def test_inactive_account_cannot_sign_in(
    client: FlaskClient, make_facilitator: Callable[..., Facilitator], db: Db
) -> None:
    facilitator = make_facilitator(email="gone@example.org")
    db.get(Facilitator, facilitator.id).active = False
    db.commit()
    response = client.post("/sign-in", data={"email": "gone@example.org", "password": PASSWORD})
    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)


def test_missing_fields_are_a_failed_attempt_not_an_error(client: FlaskClient) -> None:
    assert client.post("/sign-in", data={}).status_code == 401
    assert client.post("/sign-in", data={"email": "x" * 100_000}).status_code == 401


def test_repeated_failures_are_paused_with_a_friendly_page(
    client: FlaskClient, make_facilitator: Callable[..., Facilitator]
) -> None:
    make_facilitator(email="fia@example.org")
    for _attempt in range(5):
        response = client.post("/sign-in", data={"email": "fia@example.org", "password": "x"})
        assert response.status_code == 401
    # Even the right password waits now: the pause is what stops guessing.
    paused = client.post("/sign-in", data={"email": "fia@example.org", "password": PASSWORD})
    assert paused.status_code == 429
    assert paused.mimetype == "text/html"
    page = paused.get_data(as_text=True)
    assert "Too many failed attempts" in page
    assert "15 minutes" in page
    assert '<form method="post"' in page  # the sign-in page, not a bare error
    assert 0 < int(paused.headers["Retry-After"]) <= 15 * 60
    assert signed_in_as(client) is None
    # Another account from the same browser is not locked out by someone else's guesses.
    other = client.post("/sign-in", data={"email": "other@example.org", "password": "x"})
    assert other.status_code == 401


def test_successful_sign_ins_do_not_count_against_the_limit(
    client: FlaskClient, make_facilitator: Callable[..., Facilitator]
) -> None:
    make_facilitator(email="fia@example.org")
    for _attempt in range(4):
        client.post("/sign-in", data={"email": "fia@example.org", "password": "x"})
    ok = client.post("/sign-in", data={"email": "fia@example.org", "password": PASSWORD})
    assert ok.status_code == 303
    fifth = client.post("/sign-in", data={"email": "fia@example.org", "password": "x"})
    assert fifth.status_code == 401


def test_the_pause_page_is_finnish_too(client: FlaskClient) -> None:
    for _attempt in range(5):
        client.post("/sign-in?lang=fi", data={"email": "a@example.org", "password": "x"})
    paused = client.post("/sign-in?lang=fi", data={"email": "a@example.org", "password": "x"})
    assert paused.status_code == 429
    page = paused.get_data(as_text=True)
    assert "Liian monta" in page
    assert '<html lang="fi">' in page


def test_sign_out_needs_a_post_with_the_csrf_token(
    app: Flask,
    client: FlaskClient,
    make_facilitator: Callable[..., Facilitator],
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    csrf_on: None,
) -> None:
    facilitator = make_facilitator()
    sign_in(client, facilitator)
    assert client.get("/sign-out").status_code == 405
    refused = client.post("/sign-out")
    assert refused.status_code == 400
    assert "The form had expired" in refused.get_data(as_text=True)
    assert signed_in_as(client) == facilitator.id

    token = csrf_token(client, "/programmes")
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"
    assert signed_in_as(client) is None
    assert "You have signed out." in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/programmes").status_code == 302


def test_sign_out_keeps_the_chosen_language(
    client: FlaskClient,
    make_facilitator: Callable[..., Facilitator],
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
) -> None:
    sign_in(client, make_facilitator())
    client.get("/programmes?lang=fi")
    client.post("/sign-out")
    assert '<html lang="fi">' in client.get("/sign-in").get_data(as_text=True)


def test_a_password_change_signs_out_other_browsers(
    app: Flask,
    client: FlaskClient,
    make_facilitator: Callable[..., Facilitator],
    db: Db,
) -> None:
    facilitator = make_facilitator(email="fia@example.org")
    client.post("/sign-in", data={"email": "fia@example.org", "password": PASSWORD})
    assert client.get("/programmes").status_code == 200
    with app.app_context():
        token = facilitator_token(facilitator)
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/programmes", headers=bearer).status_code == 200

    account = db.get(Facilitator, facilitator.id)
    set_password(db, account, "a brand new password")
    db.commit()

    response = client.get("/programmes")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert app.test_client().get("/api/v1/programmes", headers=bearer).status_code == 401
    old = client.post("/sign-in", data={"email": "fia@example.org", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post(
        "/sign-in", data={"email": "fia@example.org", "password": "a brand new password"}
    )
    assert new.status_code == 303


def test_pages_send_signed_out_people_to_sign_in_and_back(
    client: FlaskClient, make_facilitator: Callable[..., Facilitator]
) -> None:
    make_facilitator(email="fia@example.org")
    response = client.get("/programmes/new")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/sign-in?next=")
    back = client.post(location, data={"email": "fia@example.org", "password": PASSWORD})
    assert back.status_code == 303
    assert back.headers["Location"].startswith("/programmes/new")


def test_signed_in_visitor_of_the_sign_in_page_goes_on(
    client: FlaskClient,
    make_facilitator: Callable[..., Facilitator],
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
) -> None:
    sign_in(client, make_facilitator())
    response = client.get("/sign-in?next=/interest")
    assert response.status_code == 302
    assert response.headers["Location"] == "/interest"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%0a/evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "///evil.example",
    ],
)
def test_next_cannot_lead_off_site(
    client: FlaskClient, make_facilitator: Callable[..., Facilitator], target: str
) -> None:
    make_facilitator(email="fia@example.org")
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"email": "fia@example.org", "password": PASSWORD},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == "/programmes" or (
        location.startswith("/") and not location.startswith(("//", "/\\"))
    )
    assert "evil" not in location or location.startswith("/%")


def test_csrf_refuses_a_cookie_post_without_the_token(
    client: FlaskClient,
    make_facilitator: Callable[..., Facilitator],
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    db: Db,
    csrf_on: None,
) -> None:
    sign_in(client, make_facilitator())
    refused = client.post("/programmes/new", data={"name": "Forged"})
    assert refused.status_code == 400
    api_refused = client.post("/api/v1/programmes", json={"name": "Forged"})
    assert api_refused.status_code == 400
    assert api_refused.mimetype == "application/problem+json"
    token = csrf_token(client, "/programmes/new")
    accepted = client.post("/programmes/new", data={"name": "Real", "csrf_token": token})
    assert accepted.status_code == 303
    names = [p["name"] for p in client.get("/api/v1/programmes").get_json()]
    assert names == ["Real"]


def test_a_bearer_token_needs_no_csrf_token(
    app: Flask, make_facilitator: Callable[..., Facilitator], csrf_on: None
) -> None:
    facilitator = make_facilitator()
    with app.app_context():
        token = facilitator_token(facilitator)
    client = app.test_client()
    response = client.post(
        "/api/v1/programmes",
        json={"name": "By script"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert response.get_json()["name"] == "By script"


def test_a_bad_bearer_token_is_not_signed_in_even_with_a_cookie(
    client: FlaskClient,
    make_facilitator: Callable[..., Facilitator],
    sign_in: Callable[[FlaskClient, Any], FlaskClient],
    csrf_on: None,
) -> None:
    # A forged "Bearer" header skips the CSRF check, so it must not fall back to the cookie.
    sign_in(client, make_facilitator())
    response = client.post(
        "/api/v1/programmes", json={"name": "Forged"}, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/programmes").get_json() == []

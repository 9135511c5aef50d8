"""Errors are problem+json for the API and friendly pages in the user's language; never 500."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_api_not_signed_in_is_a_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/programmes")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401 and body["title"] and body["type"].startswith("https://")


def test_unknown_api_route_is_a_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_wrong_method_is_a_problem_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/programmes")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_malformed_json_and_wrong_types(client: FlaskClient, make_facilitator, sign_in) -> None:
    sign_in(client, make_facilitator())
    broken = client.post("/api/v1/programmes", data="{not json", content_type="application/json")
    assert broken.status_code == 422
    assert broken.get_json()["detail"] == "The request body is not valid JSON."
    form = client.post("/api/v1/programmes", data={"name": "x"})
    assert form.status_code == 422
    assert "application/json" in form.get_json()["detail"]
    typed = client.post(
        "/api/v1/programmes",
        json={"name": "", "timezone": "Mars/Olympus", "language": "sv", "extra": 1},
    )
    assert typed.status_code == 422
    fields = {e["field"]: e["message"] for e in typed.get_json()["errors"]}
    assert fields["name"] == "This field is required."
    assert "Europe/Helsinki" in fields["timezone"]
    assert "fi" in fields["language"]
    assert fields["extra"] == "This field is not allowed here."
    not_object = client.post("/api/v1/programmes", json=[1, 2])
    assert not_object.status_code == 422


def test_pages_get_friendly_errors_in_finnish(client: FlaskClient) -> None:
    response = client.get("/no/such/page", headers={"Accept-Language": "fi"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Sivua ei löytynyt" in text
    assert 'lang="fi"' in text


def test_pages_needing_sign_in_redirect(client: FlaskClient) -> None:
    response = client.get("/programmes")
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]


def test_unexpected_error_is_a_generic_500(
    client: FlaskClient, make_facilitator, sign_in, monkeypatch
) -> None:
    def boom(*_args: object) -> list[object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("companion.programmes.views.visible_programmes", boom)
    monkeypatch.setattr("companion.programmes.api.visible_programmes", boom)
    sign_in(client, make_facilitator())
    page = client.get("/programmes", headers={"Accept-Language": "en"})
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.get_data(as_text=True)
    assert "secret internals" not in page.get_data(as_text=True)
    api = client.get("/api/v1/programmes")
    assert api.status_code == 500
    assert api.mimetype == "application/problem+json"
    assert "secret internals" not in api.get_data(as_text=True)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'self'" in csp
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Strict-Transport-Security" not in headers  # plain http in tests
    cookie = client.get("/sign-in?lang=fi").headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_ids_beyond_the_integer_range_are_not_found(
    client: FlaskClient, make_facilitator, sign_in
) -> None:
    sign_in(client, make_facilitator())
    for huge in (2**31, 2**63, 10**30):
        for url in (f"/sessions/{huge}", f"/api/v1/sessions/{huge}", f"/outbox/{huge}"):
            response = client.get(url)
            assert response.status_code == 404, url


def test_deeply_nested_json_is_refused(client: FlaskClient, make_facilitator, sign_in) -> None:
    sign_in(client, make_facilitator())
    response = client.post(
        "/api/v1/programmes", data="[" * 100_000, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"

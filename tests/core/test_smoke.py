"""The app starts, migrates and answers its front page."""

from flask.testing import FlaskClient


def test_front_page(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"Kollega" in response.data


def test_health(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}

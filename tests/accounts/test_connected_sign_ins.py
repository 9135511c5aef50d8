"""The password page shows which platform sign-ins lead to the same account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db
from integrations.zoom.models import ZoomConnection


@pytest.fixture()
def zoom_set_up(app: Flask) -> Iterator[None]:
    """Zoom's user sign-in set up on this installation (nothing here calls Zoom)."""
    original = app.extensions["companion.config"]
    app.extensions["companion.config"] = original.model_copy(
        update={"zoom_client_id": "id", "zoom_client_secret": "secret", "zoom_account_id": ""}
    )
    yield
    app.extensions["companion.config"] = original


def test_the_account_shows_its_connected_zoom_sign_in(
    db: Db,
    client: FlaskClient,
    zoom_set_up: None,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    fia = make_facilitator()
    sign_in(client, fia)
    page = client.get("/account/password").get_data(as_text=True)
    assert "Connected sign-ins" in page
    assert "<strong>Zoom</strong>:\n      not connected" in page
    db.add(ZoomConnection(facilitator_id=fia.id, zoom_user_id="z1", zoom_email="fia@zoom.example"))
    db.commit()
    page = client.get("/account/password").get_data(as_text=True)
    assert "connected as fia@zoom.example" in page
    assert 'href="/integrations/zoom/connection"' in page


def test_no_section_when_no_platform_sign_in_is_set_up(
    client: FlaskClient, make_facilitator: Callable[..., Any], sign_in: Callable[..., FlaskClient]
) -> None:
    sign_in(client, make_facilitator())
    page = client.get("/account/password").get_data(as_text=True)
    assert "Connected sign-ins" not in page

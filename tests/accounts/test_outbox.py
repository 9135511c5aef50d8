"""The outbox page tells facilitators when the mail server cannot be reached."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from companion.core.db import Db
from companion.core.mail import note_reachable, note_unreachable


@pytest.fixture()
def with_smtp(app: Flask) -> Iterator[None]:
    """The app configured with an SMTP server (the page says nothing of one otherwise)."""
    config = app.extensions["companion.config"]
    app.extensions["companion.config"] = config.model_copy(
        update={"smtp_url": "smtp://127.0.0.1:9"}
    )
    yield
    app.extensions["companion.config"] = config


def test_the_outbox_says_when_the_mail_server_is_unreachable(
    app: Flask,
    db: Db,
    client: FlaskClient,
    with_smtp: None,
    make_facilitator: Callable[..., Any],
    sign_in: Callable[..., FlaskClient],
) -> None:
    sign_in(client, make_facilitator())
    assert "cannot be reached" not in client.get("/outbox").get_data(as_text=True)
    note_unreachable(db, "cannot connect to 127.0.0.1:9: [Errno 111] Connection refused")
    db.commit()
    page = client.get("/outbox").get_data(as_text=True)
    assert "The mail server cannot be reached." in page
    assert "Connection refused" in page
    note_reachable(db)
    db.commit()
    assert "cannot be reached" not in client.get("/outbox").get_data(as_text=True)

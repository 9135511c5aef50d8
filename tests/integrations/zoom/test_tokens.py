"""Rotating refresh tokens: one refresh at a time across threads and processes, saved first.

The cross-process guarantee: every process refreshes inside a transaction that first takes
the connection's lock in the shared database (PostgreSQL: `SELECT ... FOR UPDATE` on the
row; SQLite: the database write lock, taken by the transaction's first statement), then
re-reads the row. The second process therefore finds the token the first one committed and
makes no token request of its own. `test_concurrent_refreshes_across_processes` runs that
with real processes against whichever database the suite uses.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from companion.core.crypto import decrypt_secret
from companion.core.db import Db, get_database, utcnow
from companion.meetings.platform import RoomSpec, get_platform
from integrations.zoom.errors import ZoomError
from integrations.zoom.models import ConnectionStatus, ZoomConnection
from integrations.zoom.tokens import user_access_token
from tests.fakes.zoom import FakeZoom
from tests.integrations.zoom.conftest import english

WORKER = Path(__file__).with_name("refresh_worker.py")


def _expire(db: Db, connection_id: int) -> None:
    row = db.get(ZoomConnection, connection_id)
    assert row is not None
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.commit()


def test_tokens_are_encrypted_at_rest(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    row = connect_zoom(make_facilitator())
    db.rollback()
    stored = db.get(ZoomConnection, row.id)
    assert stored is not None
    config = app.extensions["companion.config"]
    for ciphertext in (stored.access_token, stored.refresh_token):
        plain = decrypt_secret(config, ciphertext)
        assert plain != ciphertext and zoom.token_is_valid(plain)
        assert plain not in json.dumps([stored.access_token, stored.refresh_token])


def test_concurrent_refreshes_produce_one_token_request(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    connection_id = connect_zoom(make_facilitator()).id
    _expire(db, connection_id)
    database = get_database(app)
    config = app.extensions["companion.config"]
    start = threading.Barrier(8)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def refresh() -> None:
        with english(app), database.session() as session:
            start.wait()
            try:
                tokens.append(user_access_token(session, config, connection_id)[0])
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    # NOTES §1.1: a second concurrent refresh would have killed the first one's token.
    assert zoom.token_requests["refresh_token"] == 1
    assert len(set(tokens)) == 1 and zoom.token_is_valid(tokens[0])
    db.rollback()
    stored = db.get(ZoomConnection, connection_id)
    assert stored is not None and stored.status == ConnectionStatus.CONNECTED
    assert zoom.token_is_valid(decrypt_secret(config, stored.refresh_token))


@pytest.mark.slow
def test_concurrent_refreshes_across_processes(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any, tmp_path: Path
) -> None:
    connection_id = connect_zoom(make_facilitator()).id
    _expire(db, connection_id)
    config = app.extensions["companion.config"]
    settings = {
        "database_url": get_database(app).url,
        "secret_key": config.secret_key,
        "instance_path": str(tmp_path),
        "zoom_client_id": config.zoom_client_id,
        "zoom_client_secret": config.zoom_client_secret,
        "zoom_api_url": config.zoom_api_url,
        "zoom_oauth_url": config.zoom_oauth_url,
        "connection_id": connection_id,
        # Each process imports and builds its app first, then all refresh at this moment.
        "start_at": time.time() + 5,
    }
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(settings)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=str(Path(__file__).parents[3]),
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    tokens = {out.strip().splitlines()[-1] for out, _err in outputs}
    assert zoom.token_requests["refresh_token"] == 1
    assert len(tokens) == 1 and zoom.token_is_valid(tokens.pop())


def test_invalid_grant_means_reconnect_needed(
    app: Flask,
    db: Db,
    client: FlaskClient,
    sign_in: Any,
    zoom: FakeZoom,
    make_facilitator: Any,
    connect_zoom: Any,
) -> None:
    facilitator = make_facilitator()
    row = connect_zoom(facilitator)
    config = app.extensions["companion.config"]
    # Someone else used the refresh token: Zoom rotated it, ours is dead (NOTES §1.1).
    refresh_token = decrypt_secret(config, row.refresh_token)
    requests.post(
        f"{zoom.oauth_url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(zoom.client_id, zoom.client_secret),
        timeout=5,
    ).raise_for_status()
    _expire(db, row.id)
    with english(app):
        platform = get_platform("zoom", config, db, facilitator.id)
        with pytest.raises(ZoomError) as caught:
            platform.create_room(RoomSpec("s-1", "S", utcnow() + timedelta(days=1), 60, "UTC"))
    assert caught.value.reconnect
    db.rollback()
    stored = db.get(ZoomConnection, row.id)
    assert stored is not None and stored.status == ConnectionStatus.RECONNECT
    assert stored.refresh_token == "" and stored.access_token == ""
    sign_in(client, facilitator)
    page = client.get("/integrations/zoom/connection").get_data(as_text=True)
    assert "Reconnect needed" in page and "Reconnect Zoom" in page


def test_401_refreshes_once_and_repeats(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    config = app.extensions["companion.config"]
    spec = RoomSpec("s-2", "S", utcnow() + timedelta(days=1), 60, "UTC")
    with english(app):
        platform = get_platform("zoom", config, db, facilitator.id)
        zoom.expire_access_tokens()  # Zoom answers 401 code 124 (NOTES §2.4)
        room = platform.create_room(spec)
    assert room.external_id
    assert zoom.token_requests["refresh_token"] == 1


def test_a_second_401_is_not_refreshed_again(
    app: Flask, db: Db, zoom: FakeZoom, make_facilitator: Any, connect_zoom: Any
) -> None:
    facilitator = make_facilitator()
    connect_zoom(facilitator)
    zoom.inject("GET", "/v2/users/*/meetings", 401, times=2)
    with english(app):
        platform = get_platform("zoom", app.extensions["companion.config"], db, facilitator.id)
        with pytest.raises(ZoomError) as caught:
            platform.create_room(RoomSpec("s-3", "S", utcnow() + timedelta(days=1), 60, "UTC"))
    assert caught.value.reconnect
    assert zoom.token_requests["refresh_token"] == 1
    assert zoom.count("GET", "/v2/users/me/meetings") == 2

"""A coming session with its default agenda and an expert invited to its talk slot; real
material files (a PDF and a PNG made with Pillow) and a few impostors."""

from __future__ import annotations

import functools
import io
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from companion.core.db import Db, utcnow
from companion.experts.links import expert_token
from companion.experts.models import Expert
from companion.sessions.models import AgendaItem, Session
from tests.notes.conftest import World, world  # noqa: F401 - re-exported fixture


@functools.cache
def pdf_bytes() -> bytes:
    """A real one-page PDF (made once: it carries its creation time)."""
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (31, 111, 92)).save(buffer, "PDF")
    return buffer.getvalue()


def png_bytes() -> bytes:
    """A real small PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip archive with the given entries (the first stored uncompressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (name, data) in enumerate(entries.items()):
            kind = zipfile.ZIP_STORED if index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _empty_store(app: Flask) -> None:
    """Every test starts with no stored material (the instance folder outlives tests)."""
    folder = Path(app.instance_path) / "materials"
    if folder.is_dir():
        shutil.rmtree(folder)


HTML_AS_PDF = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@dataclass
class Talk:
    """Group 1's coming session (in three days, 9:00 Helsinki, default agenda) and its
    expert-talk slot; `invite()` invites Eeva to it as the facilitator would."""

    app: Flask
    db: Db
    world: World
    session: Any
    item: Any

    def invite(self, email: str = "eeva@asiantuntija.fi", language: str = "fi") -> str:
        """Invite the expert from the slot's page; returns their link's token."""
        response = self.world.client("facilitator").post(
            f"/agenda/{self.item.id}/expert",
            data={"name": "Eeva Asiantuntija", "email": email, "language": language},
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        return self.token()

    def expert(self) -> Expert:
        """The slot's expert row as stored now."""
        self.db.rollback()
        expert = self.db.scalar(select(Expert).where(Expert.agenda_item_id == self.item.id))
        assert expert is not None
        return expert

    def token(self) -> str:
        """The expert's current link token."""
        with self.app.app_context():
            return expert_token(self.expert())


def make_talk(
    app: Flask,
    db: Db,
    world: World,  # noqa: F811 - a parameter, not the fixture
    make_session: Callable[..., Any],
    *,
    starts_in: timedelta,
) -> Talk:
    """A session of group 1 starting after `starts_in` with a welcome and a talk slot."""
    session = make_session(
        world.programme.groups[0], starts_at=utcnow() + starts_in, title="Ajanhallinta"
    )
    with app.app_context():
        db.add(AgendaItem(session_id=session.id, position=0, kind="welcome", title="Tervetuloa"))
        item = AgendaItem(
            session_id=session.id, position=1, kind="expert_talk", title="Asiantuntijatietoisku"
        )
        db.add(item)
        db.commit()
    return Talk(app, db, world, session, item)


@pytest.fixture()
def talk(app: Flask, db: Db, world: World) -> Talk:  # noqa: F811
    """The session created over the API with the default agenda, three days ahead."""
    local = (utcnow() + timedelta(days=3)).astimezone(ZoneInfo("Europe/Helsinki"))
    response = world.client("facilitator").post(
        f"/api/v1/programmes/{world.programme.id}/sessions",
        json={
            "group_id": world.programme.groups[0].id,
            "title": "Ajanhallinta",
            "date": local.date().isoformat(),
            "start_time": "09:00",
        },
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    db.rollback()
    session = db.get(Session, data["id"])
    item = next(i for i in session.agenda if i.kind == "expert_talk")
    return Talk(app, db, world, session, item)


@dataclass
class Fetched:
    """A response read to its end and closed: a served file holds its handle until then, and
    the test client keeps a large request body in a temporary file until then."""

    status_code: int
    headers: Any
    data: bytes
    location: str | None

    def get_data(self, as_text: bool = False) -> Any:
        """The body, as text if asked."""
        return self.data.decode() if as_text else self.data


def _read(response: Any) -> Fetched:
    try:
        return Fetched(
            response.status_code, response.headers, response.get_data(), response.location
        )
    finally:
        response.close()


def fetch(client: Any, url: str) -> Fetched:
    """GET `url` with the client, read the body and close the response."""
    return _read(client.get(url))


def upload(client: Any, url: str, data: bytes, name: str, **fields: Any) -> Fetched:
    """POST a file (and other form fields) as a browser's upload form does.

    The body is encoded in memory here: werkzeug's test client spools a large one to a
    temporary file that it leaves open when the server stops reading (a body over the limit)."""
    boundary, body = encode_multipart(
        MultiDict([*fields.items(), ("file", FileStorage(io.BytesIO(data), filename=name))])
    )
    return _read(
        client.post(
            url,
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
    )

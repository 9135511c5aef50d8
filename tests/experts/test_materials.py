"""A talk's material: uploads checked by size and by what the content really is, kept in the
instance folder under random names, served only to the session's people, never run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from flask import Flask

from companion.core.db import Db
from companion.digest.links import personal_token
from companion.experts.materials import sweep_orphans
from companion.experts.models import Material
from companion.experts.storage import LocalStore
from companion.sessions.join_links import join_link_for
from tests.experts.conftest import (
    HTML_AS_PDF,
    Talk,
    fetch,
    pdf_bytes,
    png_bytes,
    upload,
    zip_bytes,
)


def _materials(db: Db) -> list[Material]:
    db.rollback()
    return list(db.query(Material).order_by(Material.id))


def _store(app: Flask) -> Path:
    return Path(app.instance_path) / "materials"


def test_real_files_are_accepted_and_served_to_the_sessions_people(
    app: Flask, db: Db, talk: Talk
) -> None:
    token = talk.invite(language="en")
    expert = app.test_client()
    pdf = upload(expert, f"/x/{token}/materials", pdf_bytes(), "Ajanhallinta – diat.pdf")
    assert pdf.status_code == 303 and pdf.location.endswith("#material")
    png = upload(expert, f"/x/{token}/materials", png_bytes(), "kaavio.PNG")
    assert png.status_code == 303
    slides, picture = _materials(db)
    assert (slides.content_type, slides.filename, slides.size) == (
        "application/pdf",
        "Ajanhallinta – diat.pdf",
        len(pdf_bytes()),
    )
    assert picture.content_type == "image/png" and picture.uploaded_by == "expert"
    # Stored under random names in the instance folder, nothing of the uploader's name.
    stored = sorted(p.name for p in _store(app).iterdir())
    assert sorted([slides.storage_key, picture.storage_key]) == stored
    assert all(len(name) == 32 and "diat" not in name for name in stored)
    page = expert.get(f"/x/{token}").get_data(as_text=True)
    assert "Ajanhallinta – diat.pdf" in page and "kaavio.PNG" in page

    served = fetch(talk.world.client("alice"), f"/materials/{slides.id}")
    assert served.status_code == 200 and served.data == pdf_bytes()
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''Ajanhallinta%20%E2%80%93%20diat.pdf"
        in served.headers["Content-Disposition"]
    )
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "script-src" not in served.headers["Content-Security-Policy"]
    assert served.headers["Cache-Control"] == "private, no-store"
    image = fetch(talk.world.client("bob"), f"/materials/{picture.id}")
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    facilitator = fetch(talk.world.client("facilitator"), f"/materials/{slides.id}")
    assert facilitator.status_code == 200


def test_people_outside_the_session_cannot_fetch_the_material(
    app: Flask, db: Db, talk: Talk, make_facilitator, sign_in
) -> None:
    token = talk.invite()
    upload(app.test_client(), f"/x/{token}/materials", pdf_bytes(), "diat.pdf")
    (slides,) = _materials(db)
    world = talk.world
    assert world.client("dave").get(f"/materials/{slides.id}").status_code == 404  # group 2
    assert world.client("olli").get(f"/materials/{slides.id}").status_code == 404  # programme B
    assert world.client("nobody").get(f"/materials/{slides.id}").status_code == 401
    outsider = sign_in(app.test_client(), make_facilitator())  # another organisation
    assert outsider.get(f"/materials/{slides.id}").status_code == 404
    assert outsider.get(f"/api/v1/agenda/{talk.item.id}/materials").status_code == 404
    assert world.client("alice").get("/materials/424242").status_code == 404
    listed = world.client("facilitator").get(f"/api/v1/agenda/{talk.item.id}/materials")
    assert [m["url"] for m in listed.get_json()] == [f"/materials/{slides.id}"]


def test_wrong_types_are_refused_whatever_their_name_says(app: Flask, db: Db, talk: Talk) -> None:
    token = talk.invite(language="en")
    expert = app.test_client()
    cases = [
        (HTML_AS_PDF, "slides.pdf"),  # HTML pretending to be a PDF
        (png_bytes(), "slides.pdf"),  # a real image under the wrong name
        (pdf_bytes(), "slides.html"),  # a real PDF named as a page
        (pdf_bytes(), "slides"),  # no extension at all
        (b"MZ\x90\x00" + b"\x00" * 100, "setup.png"),  # a program
        (zip_bytes({"a.txt": b"hello"}), "slides.pptx"),  # any zip is not a presentation
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>", "pic.svg"),
    ]
    for data, name in cases:
        refused = upload(expert, f"/x/{token}/materials", data, name)
        assert refused.status_code == 422, name
        assert "This file cannot be shared." in refused.get_data(as_text=True), name
    empty = upload(expert, f"/x/{token}/materials", b"", "empty.pdf")
    assert empty.status_code == 422 and "The file is empty." in empty.get_data(as_text=True)
    missing = expert.post(f"/x/{token}/materials", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert _materials(db) == []
    assert not _store(app).exists() or list(_store(app).iterdir()) == []


def test_uploads_over_the_size_limit_are_refused(
    app: Flask, db: Db, talk: Talk, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = app.extensions["companion.config"]
    monkeypatch.setitem(
        app.extensions, "companion.config", config.model_copy(update={"materials_max_mb": 1})
    )
    token = talk.invite(language="en")
    app.config["WTF_CSRF_ENABLED"] = True  # the expert's forms need none: the link is the key
    expert = app.test_client()
    just_over = pdf_bytes() + b"%" * (1024 * 1024 + 1 - len(pdf_bytes()))
    refused = upload(expert, f"/x/{token}/materials", just_over, "big.pdf")
    assert refused.status_code == 413
    assert "The file is too large: at most 1 MB." in refused.get_data(as_text=True)
    # Far over: the server stops reading and says so, with the way back.
    far = upload(expert, f"/x/{token}/materials", b"%PDF-" + b"0" * (3 * 1024 * 1024), "x.pdf")
    assert far.status_code == 413
    html = far.get_data(as_text=True)
    assert "Files can be at most 1 MB." in html and f"/x/{token}#material" in html
    # The facilitator's upload (cookie and CSRF token) gets the same answer.
    facilitator = talk.world.client("facilitator")
    page = facilitator.get(f"/agenda/{talk.item.id}/expert").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    big = upload(
        facilitator,
        f"/agenda/{talk.item.id}/materials",
        b"0" * (2 * 1024 * 1024),
        "x.pdf",
        csrf_token=csrf,
    )
    assert big.status_code == 413
    exact = pdf_bytes() + b"%" * (1024 * 1024 - len(pdf_bytes()))
    fits = upload(
        facilitator, f"/agenda/{talk.item.id}/materials", exact, "exact.pdf", csrf_token=csrf
    )
    assert fits.status_code == 303
    assert [m.filename for m in _materials(db)] == ["exact.pdf"]


def test_the_default_limit_is_twenty_megabytes(app: Flask, talk: Talk) -> None:
    assert app.extensions["companion.config"].materials_max_mb == 20
    token = talk.invite(language="en")
    page = app.test_client().get(f"/x/{token}").get_data(as_text=True)
    assert "at most 20 MB" in page
    assert 'accept=".pdf,.pptx,.odp,.key,.png,.jpg,.jpeg"' in page


def test_files_are_removed_with_their_row_and_orphans_are_swept(
    app: Flask, db: Db, talk: Talk
) -> None:
    token = talk.invite()
    expert = app.test_client()
    upload(expert, f"/x/{token}/materials", pdf_bytes(), "diat.pdf")
    (slides,) = _materials(db)
    path = _store(app) / slides.storage_key
    assert path.exists()
    removed = expert.post(f"/x/{token}/materials/{slides.id}/remove")
    assert removed.status_code == 303
    assert not path.exists()
    assert talk.world.client("alice").get(f"/materials/{slides.id}").status_code == 404

    upload(expert, f"/x/{token}/materials", png_bytes(), "kept.png")
    (kept,) = _materials(db)
    orphan = _store(app) / ("ab" * 16)
    orphan.write_bytes(b"left behind by an upload that failed")
    young = _store(app) / ("cd" * 16)
    young.write_bytes(b"an upload whose row is not committed yet")
    hours_ago = time.time() - 2 * 3600
    for old in (orphan, _store(app) / kept.storage_key):
        os.utime(old, (hours_ago, hours_ago))
    with app.app_context():
        assert sweep_orphans(db, LocalStore(_store(app))) == 1
    assert not orphan.exists() and young.exists()
    assert (_store(app) / kept.storage_key).exists()


def test_a_file_opens_from_an_email_through_the_personal_link(
    app: Flask, db: Db, talk: Talk
) -> None:
    token = talk.invite()
    upload(app.test_client(), f"/x/{token}/materials", pdf_bytes(), "diat.pdf")
    (slides,) = _materials(db)
    with app.app_context():
        personal = personal_token(join_link_for(db, talk.world.alice))
        dave = personal_token(join_link_for(db, talk.world.dave))
        db.commit()
    fresh = app.test_client()  # another browser: no cookie yet
    opened = fresh.get(f"/me/t/{personal}?next=material-{slides.id}")
    assert opened.status_code == 303 and opened.location.endswith(f"/materials/{slides.id}")
    assert fetch(fresh, opened.location).data == pdf_bytes()
    outsider = app.test_client()
    followed = outsider.get(f"/me/t/{dave}?next=material-{slides.id}")
    assert outsider.get(followed.location).status_code == 404


def test_the_material_link_must_be_https(app: Flask, talk: Talk) -> None:
    token = talk.invite(language="en")
    expert = app.test_client()
    plain = expert.post(f"/x/{token}/link", data={"material_url": "http://example.org/diat"})
    assert plain.status_code == 422
    assert "starting with https://" in plain.get_data(as_text=True)
    script = expert.post(f"/x/{token}/link", data={"material_url": "javascript:alert(1)"})
    assert script.status_code == 422
    saved = expert.post(f"/x/{token}/link", data={"material_url": "https://example.org/diat"})
    assert saved.status_code == 303
    facilitator = talk.world.client("facilitator")
    agenda = facilitator.get(f"/api/v1/sessions/{talk.session.id}").get_json()["agenda"]
    assert [i["material_url"] for i in agenda if i["material_url"]] == ["https://example.org/diat"]
    cleared = facilitator.post(f"/agenda/{talk.item.id}/material-link", data={})
    assert cleared.status_code == 303
    agenda = facilitator.get(f"/api/v1/sessions/{talk.session.id}").get_json()["agenda"]
    assert all(not i["material_url"] for i in agenda)

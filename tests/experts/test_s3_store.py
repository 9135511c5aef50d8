"""Material in an S3-compatible store: the store speaks SigV4 over HTTP to moto's standalone
S3 server on a local port, as it would to MinIO or AWS; uploads through the expert's page land
in the bucket and the session's people download the same bytes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from companion.checks import run_checks
from companion.config import load_config
from companion.core.db import Db, utcnow
from companion.experts.materials import sweep_orphans
from companion.experts.models import Material
from tests.conftest import free_port
from tests.experts.conftest import Talk, fetch, pdf_bytes, png_bytes, upload
from tests.services import require_service

BUCKET = "kollega-materials"
PREFIX = "kollega/materials/"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A fresh moto S3 server on a free port, for this module."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        require_service("moto", "the S3 tests need moto[server] (a test dependency)")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture()
def s3_settings(s3_endpoint: str) -> dict[str, Any]:
    """Settings for an empty bucket on the local server (made anew for each test)."""
    from companion.experts.s3_store import s3_store

    settings = {
        "materials_s3_endpoint": s3_endpoint,
        "materials_s3_bucket": BUCKET,
        "materials_s3_prefix": PREFIX,
        "materials_s3_region": "eu-north-1",
        "materials_s3_access_key_id": "test-key-id",
        "materials_s3_secret_access_key": "test-secret-key",
    }
    client = s3_store(_config(settings)).client
    existing = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
    if BUCKET in existing:
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
        client.delete_bucket(Bucket=BUCKET)
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
    )
    return settings


def _config(settings: dict[str, Any], **more: Any) -> Any:
    return load_config({"secret_key": "s" * 20, **settings, **more})


@pytest.fixture()
def s3_app(app: Flask, s3_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The test app with its material store in the bucket."""
    config = app.extensions["companion.config"].model_copy(update=s3_settings)
    monkeypatch.setitem(app.extensions, "companion.config", config)
    return app


def _objects(settings: dict[str, Any]) -> dict[str, bytes]:
    from companion.experts.s3_store import s3_store

    client = s3_store(_config(settings)).client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in listed
    }


def test_the_store_saves_opens_deletes_and_lists_objects(s3_settings: dict[str, Any]) -> None:
    from companion.experts.s3_store import s3_store

    store = s3_store(_config(s3_settings))
    key = store.save(io.BytesIO(pdf_bytes()))
    assert len(key) == 32 and int(key, 16) >= 0
    assert _objects(s3_settings) == {PREFIX + key: pdf_bytes()}
    with store.open(key) as handle:
        assert handle.read() == pdf_bytes()
    # The stream is read from its start, wherever the caller left it.
    stream = io.BytesIO(png_bytes())
    stream.read(4)
    second = store.save(stream)
    with store.open(second) as handle:
        assert handle.read() == png_bytes()

    # Objects outside the prefix or not named like a key are no material of ours.
    store.client.put_object(Bucket=BUCKET, Key="elsewhere/" + "ab" * 16, Body=b"x")
    store.client.put_object(Bucket=BUCKET, Key=PREFIX + "notes.txt", Body=b"x")
    assert sorted(store.keys_older_than(utcnow() + timedelta(minutes=1))) == sorted([key, second])
    assert list(store.keys_older_than(utcnow() - timedelta(minutes=1))) == []

    store.delete(key)
    assert PREFIX + key not in _objects(s3_settings)
    with pytest.raises(FileNotFoundError):
        store.open(key)
    store.delete(key)  # gone already: nothing happens
    store.delete("../" + second)  # not a key: nothing happens, nothing else removed
    assert PREFIX + second in _objects(s3_settings)


def test_a_missing_or_malformed_key_is_not_found(s3_settings: dict[str, Any]) -> None:
    from companion.experts.s3_store import s3_store

    store = s3_store(_config(s3_settings))
    with pytest.raises(FileNotFoundError):
        store.open("0" * 32)
    with pytest.raises(FileNotFoundError):
        store.open("../../etc/passwd")


def test_the_settings_go_in_pairs_and_the_prefix_is_a_folder(tmp_path: Path) -> None:
    from companion.config import ConfigError

    base = {"instance_path": tmp_path, "secret_key": "s" * 20}
    with pytest.raises(ConfigError, match="MATERIALS_S3_BUCKET go together"):
        load_config({**base, "materials_s3_endpoint": "https://s3.example.org"})
    with pytest.raises(ConfigError, match="SECRET_ACCESS_KEY go together"):
        load_config(
            {
                **base,
                "materials_s3_endpoint": "https://s3.example.org",
                "materials_s3_bucket": "b",
                "materials_s3_access_key_id": "id",
            }
        )
    with pytest.raises(ConfigError, match="MATERIALS_S3_ENDPOINT"):
        load_config({**base, "materials_s3_endpoint": "s3.example.org", "materials_s3_bucket": "b"})
    config = load_config(
        {
            **base,
            "materials_s3_endpoint": "https://s3.example.org/",
            "materials_s3_bucket": "b",
            "materials_s3_prefix": "/kollega/materials",
        }
    )
    assert config.materials_s3_configured and config.materials_s3_prefix == "kollega/materials/"
    assert config.materials_s3_endpoint == "https://s3.example.org"
    assert not load_config(base).materials_s3_configured


def test_an_upload_lands_in_the_bucket_and_is_served_from_it(
    s3_app: Flask, db: Db, talk: Talk, s3_settings: dict[str, Any]
) -> None:
    token = talk.invite(language="en")
    sent = upload(s3_app.test_client(), f"/x/{token}/materials", pdf_bytes(), "diat.pdf")
    assert sent.status_code == 303
    db.rollback()
    (slides,) = db.query(Material).all()
    assert _objects(s3_settings) == {PREFIX + slides.storage_key: pdf_bytes()}
    # Nothing went to the instance folder.
    assert not (Path(s3_app.instance_path) / "materials").exists()

    served = fetch(talk.world.client("alice"), f"/materials/{slides.id}")
    assert served.status_code == 200 and served.data == pdf_bytes()
    assert served.headers["Content-Type"] == "application/pdf"

    # The sweep keeps the referenced object and removes one no row refers to.
    from companion.experts.s3_store import s3_store

    store = s3_store(s3_app.extensions["companion.config"])
    orphan = store.save(io.BytesIO(b"left behind by a failed upload"))
    with s3_app.app_context():
        assert sweep_orphans(db, store) == 0  # both younger than an hour
    assert set(_objects(s3_settings)) == {PREFIX + slides.storage_key, PREFIX + orphan}

    # Removing the file removes its object once the deletion commits.
    expert = s3_app.test_client()
    removed = expert.post(f"/x/{token}/materials/{slides.id}/remove")
    assert removed.status_code == 303
    assert PREFIX + slides.storage_key not in _objects(s3_settings)
    gone = fetch(talk.world.client("alice"), f"/materials/{slides.id}")
    assert gone.status_code == 404


def test_companion_check_verifies_the_bucket(app: Flask, s3_settings: dict[str, Any]) -> None:
    reachable = _config(s3_settings, instance_path=app.instance_path)
    found = _materials_check(app, reachable)
    assert found.outcome == "ok" and BUCKET in found.detail
    assert _objects(s3_settings) == {}  # the probe removed its object

    missing = _config({**s3_settings, "materials_s3_bucket": "no-such-bucket"})
    failed = _materials_check(app, missing)
    assert failed.outcome == "fail" and "no-such-bucket" in failed.detail
    assert "test-secret-key" not in failed.detail

    config = app.extensions["companion.config"]
    local = _materials_check(app, config)
    # The instance folder is fine for one machine; on PostgreSQL (several web processes) the
    # check warns that every web process must share it.
    expected = "warn" if config.database_url.startswith("postgresql") else "ok"
    assert local.outcome == expected and "materials" in local.detail


def _materials_check(app: Flask, config: Any) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.extensions, "companion.config", config)
        found = run_checks(app, timeout=2.0)
    (item,) = [c for c in found if c.name == "materials"]
    return item

"""Tests of the fake Zoom's harness: the fixture's check, reset, and the vendored spec."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests

from tests.fakes.zoom import SPEC_PATH, FakeZoom
from tests.fakes.zoom_client import bearer, create, login
from tests.fakes.zoom_fixture import check_no_violations, fake_zoom

__all__ = ["fake_zoom"]  # the fixture is used by name below


def test_fixture_check_fails_on_violations(fake_zoom: FakeZoom) -> None:
    """The fixture's teardown check fails a test with violations."""
    requests.get(f"{fake_zoom.api_url}/meetings/1")  # no token: a violation
    with pytest.raises(pytest.fail.Exception, match="does not accept"):
        check_no_violations(fake_zoom)
    check_no_violations(fake_zoom)  # cleared


def test_reset_forgets_everything(fake_zoom: FakeZoom) -> None:
    """reset() keeps the port and forgets all state."""
    tokens = login(fake_zoom)
    create(fake_zoom, tokens)
    fake_zoom.inject("*", "*", status=500, times=None)
    port = fake_zoom.port
    fake_zoom.reset()
    assert fake_zoom.port == port and fake_zoom.meetings() == [] and fake_zoom.requests == []
    r = requests.get(f"{fake_zoom.api_url}/users/me", headers=bearer(tokens))
    assert r.status_code == 401


#: SHA-256 of shared/specs/zoom/meetings-openapi.json, the official extract the fake copies.
SHARED_SPEC_SHA256 = "726febca536f8d7b71970e064083445c79028f1027854cd885c896e1f6a7e1f7"


def test_vendored_spec_is_the_shared_copy() -> None:
    """The spec copy in tests/fakes is byte for byte the one in shared/specs/zoom."""
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == SHARED_SPEC_SHA256
    shared = Path(__file__).resolve().parents[3] / "shared" / "specs" / "zoom"
    if (shared / "meetings-openapi.json").exists():  # beside the checkout in development
        assert SPEC_PATH.read_bytes() == (shared / "meetings-openapi.json").read_bytes()

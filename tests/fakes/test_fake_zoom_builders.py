"""Tests of what the fake Zoom builds for the app: the app context header and webhook
signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import pytest
from cryptography.exceptions import InvalidTag

from tests.fakes.zoom import FakeZoom
from tests.fakes.zoom_client import decrypt_app_context
from tests.fakes.zoom_fixture import fake_zoom

__all__ = ["fake_zoom"]  # the fixture is used by name below


def test_app_context_round_trip(fake_zoom: FakeZoom) -> None:
    """make_app_context output decrypts with NOTES §5.1's algorithm."""
    before = int(time.time() * 1000)
    header = fake_zoom.make_app_context(fake_zoom.client_secret, mid="mtg==", aad=b"zoom")
    ctx = decrypt_app_context(header, fake_zoom.client_secret)
    assert ctx["typ"] == "panel" and ctx["mid"] == "mtg=="
    assert ctx["uid"] == fake_zoom.default_user.id
    assert ctx["aud"] == fake_zoom.client_id and ctx["iss"] == "marketplace.zoom.us"
    assert ctx["exp"] - ctx["ts"] == 120_000 and ctx["ts"] >= before
    guest = fake_zoom.make_app_context(uid=None, urlsafe=True, exp_ms=1)
    ctx = decrypt_app_context(guest, fake_zoom.client_secret)
    assert "uid" not in ctx and ctx["exp"] == 1
    raw = base64.b64decode(header)
    assert raw[0] == 12  # iv length byte, then iv, aad length (uint16 LE) ...
    assert struct.unpack_from("<H", raw, 13)[0] == 4 and raw[15:19] == b"zoom"
    with pytest.raises(InvalidTag):
        decrypt_app_context(header, "another secret")


def test_webhook_signature_matches_notes(fake_zoom: FakeZoom) -> None:
    """sign_webhook and url_validation_answer follow NOTES §4."""
    body = b'{"event":"meeting.started","event_ts":1700000000000,"payload":{}}'
    headers = fake_zoom.sign_webhook(body, "whsecret", timestamp=1700000000)
    assert headers["x-zm-request-timestamp"] == "1700000000"
    mac = hmac.new(b"whsecret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-zm-signature"], "v0=" + mac)
    now_headers = fake_zoom.sign_webhook(body, "whsecret")
    assert abs(int(now_headers["x-zm-request-timestamp"]) - time.time()) < 5
    answer = FakeZoom.url_validation_answer("plain", "whsecret")
    expected = hmac.new(b"whsecret", b"plain", hashlib.sha256).hexdigest()
    assert answer == {"plainToken": "plain", "encryptedToken": expected}

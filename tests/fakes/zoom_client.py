"""Plain ``requests`` calls to the fake Zoom, as the app would make them, for the fake's own
tests (``test_fake_zoom_*.py``)."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.fakes.zoom import FakeZoom

REDIRECT = "http://localhost/oauth/zoom/callback"


def pkce_pair(method: str) -> tuple[str, str]:
    """A (verifier, challenge) pair for ``S256`` or ``plain``."""
    verifier = base64.urlsafe_b64encode(b"v" * 48).rstrip(b"=").decode()
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(
    fz: FakeZoom, challenge: str | None = None, method: str | None = None, **extra: str
) -> requests.Response:
    """Follow the authorise URL like a browser (without following the redirect)."""
    params = {
        "response_type": "code",
        "client_id": fz.client_id,
        "redirect_uri": REDIRECT,
        "state": "s-123",
    }
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    params.update(extra)
    return requests.get(f"{fz.oauth_url}/oauth/authorize", params=params, allow_redirects=False)


def code_from(response: requests.Response) -> str:
    """The ``code`` of an authorise redirect."""
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["s-123"]
    return query["code"][0]


def token_request(fz: FakeZoom, auth: tuple[str, str] | None = None, **form: str) -> Any:
    """POST /oauth/token with Basic auth and a form body."""
    return requests.post(
        f"{fz.oauth_url}/oauth/token", auth=auth or (fz.client_id, fz.client_secret), data=form
    )


def login(fz: FakeZoom) -> dict[str, Any]:
    """Run the whole authorisation-code flow (PKCE S256) and return the token answer."""
    verifier, challenge = pkce_pair("S256")
    code = code_from(authorize(fz, challenge, "S256"))
    r = token_request(
        fz,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def bearer(token: str | dict[str, Any]) -> dict[str, str]:
    """Authorization header for an access token (or a token answer)."""
    value = token["access_token"] if isinstance(token, dict) else token
    return {"Authorization": f"Bearer {value}"}


def create(fz: FakeZoom, token: dict[str, Any], **body: Any) -> requests.Response:
    """POST /users/me/meetings."""
    payload = {"topic": "Mentoring", "type": 2, "start_time": "2031-03-01T10:00:00Z", **body}
    return requests.post(f"{fz.api_url}/users/me/meetings", headers=bearer(token), json=payload)


def double_encode(uuid: str) -> str:
    """Double URL-encoding of a meeting UUID (spec, NOTES §3)."""
    return quote(quote(uuid, safe=""), safe="")


def decrypt_app_context(header: str, client_secret: str) -> dict[str, Any]:
    """NOTES §5.1's decryption algorithm, written out independently of the fake."""
    raw = base64.urlsafe_b64decode(
        header.replace("+", "-").replace("/", "_") + "=" * (-len(header) % 4)
    )
    n = raw[0]
    iv = raw[1 : 1 + n]
    i = 1 + n
    (alen,) = struct.unpack_from("<H", raw, i)
    i += 2
    aad = raw[i : i + alen]
    i += alen
    (clen,) = struct.unpack_from("<i", raw, i)
    i += 4
    ct = raw[i : i + clen]
    tag = raw[i + clen :]
    key = hashlib.sha256(client_secret.encode()).digest()
    return dict(json.loads(AESGCM(key).decrypt(iv, ct + tag, aad)))

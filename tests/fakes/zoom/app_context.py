"""The ``x-zoom-app-context`` header Zoom sends to a Zoom App's Home URL (NOTES §5.1)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.fakes.zoom.formats import new_uuid
from tests.fakes.zoom.state import ZoomState

_DEFAULT = object()


class AppContextInputs(ZoomState):
    """Builds the encrypted context header as the Zoom client does."""

    def make_app_context(
        self,
        client_secret: str | None = None,
        *,
        uid: Any = _DEFAULT,
        mid: str | None = None,
        typ: str = "panel",
        ts_ms: int | None = None,
        exp_ms: int | None = None,
        aud: str | None = None,
        iss: str = "marketplace.zoom.us",
        attendrole: str | None = "host",
        extra: Mapping[str, Any] | None = None,
        aad: bytes = b"",
        iv: bytes | None = None,
        urlsafe: bool = False,
    ) -> str:
        """An ``x-zoom-app-context`` header value (NOTES §5.1), encrypted like Zoom does.

        Layout ``[ivLen:1][iv][aadLen:2 LE][aad][ctLen:4 LE][ct][tag:16]``, AES-256-GCM with
        key SHA-256(client_secret), base64 (``urlsafe`` for base64url). ``uid=None`` omits
        the user id (guest mode); ``ts``/``exp`` are epoch ms on the real clock, exp = ts +
        120 s by default. ``aud`` defaults to the default app's client_id.
        """
        now_ms = int(time.time() * 1000) if ts_ms is None else ts_ms
        ctx: dict[str, Any] = {
            "typ": typ,
            "uid": self.default_user.id if uid is _DEFAULT else uid,
            "mid": mid if mid is not None else new_uuid(),
            "ts": now_ms,
            "exp": now_ms + 120_000 if exp_ms is None else exp_ms,
            "iss": iss,
            "aud": aud if aud is not None else self.client_id,
            "attendrole": attendrole,
        }
        ctx.update(extra or {})
        ctx = {k: v for k, v in ctx.items() if v is not None}
        key = hashlib.sha256((client_secret or self.client_secret).encode()).digest()
        nonce = iv if iv is not None else secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, json.dumps(ctx).encode(), aad)
        ct, tag = sealed[:-16], sealed[-16:]
        raw = (
            bytes([len(nonce)])
            + nonce
            + struct.pack("<H", len(aad))
            + aad
            + struct.pack("<i", len(ct))
            + ct
            + tag
        )
        encoder = base64.urlsafe_b64encode if urlsafe else base64.b64encode
        return encoder(raw).decode()

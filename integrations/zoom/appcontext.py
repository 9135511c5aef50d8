"""The `x-zoom-app-context` header of the Zoom App: decrypted and checked (NOTES §5.1).

Layout after base64 (or base64url) decoding:
`[ivLen:1][iv][aadLen:2 LE][aad][ctLen:4 LE][ciphertext][tag:16]`, AES-256-GCM with the key
SHA-256(client secret) (not PBKDF2: that fails with InvalidTag, NOTES §5.1). The plaintext
is JSON with `typ`, `uid` (absent for guests), `mid` (meeting UUID; in a breakout room the
breakout's, with `pid` the main meeting's), `ts`/`exp` (epoch milliseconds), `iss`, `aud`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: NOTES §5.1: the issuer Zoom puts in every context.
ISSUER = "marketplace.zoom.us"
#: Clock skew allowed when checking `exp` (milliseconds).
SKEW_MS = 5_000


class AppContextError(Exception):
    """The header is missing, malformed, not ours, or expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: "missing", "malformed", "key" (wrong secret or tampered), "foreign", "expired".
        self.reason = reason


@dataclass(frozen=True)
class AppContext:
    """The parts of a decrypted context Kollega uses."""

    typ: str
    #: The Zoom user's id; empty in guest mode (NOTES §5.1).
    uid: str
    #: The meeting instance UUID (in a breakout room: the breakout room's).
    mid: str
    #: The main meeting's UUID when in a breakout room.
    pid: str
    role: str
    expires_ms: int
    raw: dict[str, Any]

    @property
    def meeting_uuids(self) -> list[str]:
        """UUIDs to look the session up by: the main meeting's first."""
        return [uuid for uuid in (self.pid, self.mid) if uuid]


def _b64decode(value: str) -> bytes:
    # NOTES §5.1: Node's Buffer.from(x, 'base64') also takes base64url: accept both.
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=True)


def decrypt_app_context(header: str, client_secret: str) -> dict[str, Any]:
    """The JSON inside the header; AppContextError if it cannot be read with our secret."""
    if not header:
        raise AppContextError("missing")
    try:
        raw = _b64decode(header)
        iv_length = raw[0]
        iv = raw[1 : 1 + iv_length]
        index = 1 + iv_length
        (aad_length,) = struct.unpack_from("<H", raw, index)
        index += 2
        aad = raw[index : index + aad_length]
        index += aad_length
        (ct_length,) = struct.unpack_from("<i", raw, index)
        index += 4
        ciphertext = raw[index : index + ct_length]
        tag = raw[index + ct_length :]
    except (binascii.Error, ValueError, IndexError, struct.error):
        raise AppContextError("malformed") from None
    if len(iv) != iv_length or len(ciphertext) != ct_length or len(tag) != 16 or not iv:
        raise AppContextError("malformed")
    key = hashlib.sha256(client_secret.encode()).digest()
    try:
        plaintext = AESGCM(key).decrypt(iv, ciphertext + tag, aad)
    except (InvalidTag, ValueError):
        raise AppContextError("key") from None
    try:
        data = json.loads(plaintext)
    except ValueError:
        raise AppContextError("malformed") from None
    if not isinstance(data, dict):
        raise AppContextError("malformed")
    return data


def read_app_context(
    header: str, client_id: str, client_secret: str, *, now_ms: int | None = None
) -> AppContext:
    """Decrypt and check a context: ours (`aud`, `iss`) and not expired (`exp`, NOTES §5.1)."""
    data = decrypt_app_context(header, client_secret)
    if data.get("aud") != client_id or data.get("iss", ISSUER) != ISSUER:
        raise AppContextError("foreign")
    expires = data.get("exp")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not isinstance(expires, int) or expires + SKEW_MS < now_ms:
        raise AppContextError("expired")
    return AppContext(
        typ=str(data.get("typ") or ""),
        uid=str(data.get("uid") or ""),
        mid=str(data.get("mid") or ""),
        pid=str(data.get("pid") or ""),
        role=str(data.get("attendrole") or ""),
        expires_ms=expires,
        raw=data,
    )

"""Jitsi rooms: unguessable names, personal addresses, JWT room tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey

from companion.config import Config
from companion.meetings.platform import Capability, Person, RoomSpec, get_platform, platform_names
from integrations.jitsi.platform import JitsiPlatform

SPEC = RoomSpec(
    key="session-1",
    title="eKollega kevät: Tapaaminen 1",
    starts_at=datetime(2027, 2, 15, 7, 0, tzinfo=UTC),
    duration_minutes=120,
    timezone="Europe/Helsinki",
)


def _config(**kwargs: object) -> Config:
    return Config(secret_key="x" * 32, instance_path="/tmp", **kwargs)  # type: ignore[arg-type]


def test_jitsi_is_registered_as_an_entry_point() -> None:
    assert "jitsi" in platform_names()
    platform = get_platform("jitsi", _config(), None, None)  # type: ignore[arg-type]
    assert isinstance(platform, JitsiPlatform)
    assert Capability.NO_ACCOUNT in platform.capabilities


def test_room_names_are_unguessable_and_readable() -> None:
    platform = JitsiPlatform(_config())
    names = {platform.create_room(SPEC).external_id for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert re.fullmatch(r"EkollegaKevatTapaaminen1-[0-9a-f]{30}", name), name


def test_configurable_server_and_display_name() -> None:
    platform = JitsiPlatform(_config(jitsi_url="https://jitsi.example.org/"))
    room = platform.create_room(SPEC)
    assert room.join_url.startswith("https://jitsi.example.org/EkollegaKevat")
    url = platform.join_url(room, Person(1, "Äino Ö'Brien", "aino@example.fi"))
    assert unquote(urlsplit(url).fragment) == 'userInfo.displayName="Äino Ö\'Brien"'
    assert "jwt=" not in url


def test_jwt_room_tokens_for_a_self_hosted_jitsi() -> None:
    platform = JitsiPlatform(
        _config(
            jitsi_url="https://meet.example.org",
            jitsi_app_id="kollega",
            jitsi_app_secret="s3cret-s3cret-s3cret-s3cret-s3cret",
        )
    )
    room = platform.create_room(SPEC)
    url = platform.join_url(room, Person(7, "Mikko Laine", "mikko@example.fi", moderator=True))
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    key = OctKey.import_key(b"s3cret-s3cret-s3cret-s3cret-s3cret")
    decoded = jwt.decode(token, key)
    claims = decoded.claims
    assert decoded.header["alg"] == "HS256"
    assert claims["aud"] == "jitsi" and claims["iss"] == "kollega"
    assert claims["sub"] == "meet.example.org"
    assert claims["room"] == room.external_id
    assert claims["context"]["user"] == {
        "name": "Mikko Laine",
        "email": "mikko@example.fi",
        "moderator": True,
    }
    ends = SPEC.starts_at + timedelta(minutes=SPEC.duration_minutes)
    assert claims["exp"] >= int(ends.timestamp())
    wrong = OctKey.import_key(b"another-secret-another-secret-xx")
    try:
        jwt.decode(token, wrong)
    except Exception as exc:  # joserfc raises BadSignatureError
        assert "signature" in type(exc).__name__.lower()
    else:
        raise AssertionError("a token must not verify with another key")

"""Secrets at rest: Fernet with keys from COMPANION_TOKEN_KEYS (newest first), rotatable."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from companion.config import Config, ConfigError, load_config
from companion.core.crypto import (
    SecretUnreadable,
    decrypt_secret,
    encrypt_secret,
    generate_key,
    parse_keys,
    reencrypt_secret,
)


def _config(tmp_path: Path, keys: str = "", secret: str = "a-secret-key-for-tests") -> Config:
    return load_config({"instance_path": tmp_path, "secret_key": secret, "token_keys": keys})


def test_round_trip_with_a_key_derived_from_the_secret_key(tmp_path: Path) -> None:
    config = _config(tmp_path)
    sealed = encrypt_secret(config, "zoom-access-token")
    assert sealed != "zoom-access-token" and "zoom" not in sealed
    assert decrypt_secret(config, sealed) == "zoom-access-token"
    assert encrypt_secret(config, "") == "" and decrypt_secret(config, "") == ""
    # Another secret key derives another key: the stored value cannot be read with it.
    with pytest.raises(SecretUnreadable):
        decrypt_secret(_config(tmp_path, secret="another-secret-key!!"), sealed)


def test_rotation_newest_key_first(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    before = _config(tmp_path, old)
    sealed = encrypt_secret(before, "refresh-token")
    during = _config(tmp_path, f"{new}, {old}")
    assert decrypt_secret(during, sealed) == "refresh-token"  # old values still read
    rotated = reencrypt_secret(during, sealed)
    assert Fernet(new.encode()).decrypt(rotated.encode()) == b"refresh-token"
    fresh = encrypt_secret(during, "another")
    assert Fernet(new.encode()).decrypt(fresh.encode()) == b"another"  # new values: newest key
    after = _config(tmp_path, new)
    assert decrypt_secret(after, rotated) == "refresh-token"
    with pytest.raises(SecretUnreadable):
        decrypt_secret(after, sealed)


def test_tampered_or_too_old_values_are_refused(tmp_path: Path) -> None:
    config = _config(tmp_path, generate_key())
    sealed = encrypt_secret(config, "state")
    with pytest.raises(SecretUnreadable):
        decrypt_secret(config, sealed[:-4] + "AAAA")
    assert decrypt_secret(config, sealed, max_age_seconds=60) == "state"
    old = Fernet(config.token_keys.encode()).encrypt_at_time(b"state", 1_000_000).decode()
    with pytest.raises(SecretUnreadable):
        decrypt_secret(config, old, max_age_seconds=60)


def test_a_bad_key_is_a_clear_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, f"{generate_key()},not-a-key")
    assert "COMPANION_TOKEN_KEYS" in str(caught.value) and "key 2" in str(caught.value)
    with pytest.raises(ValueError, match="key 1"):
        parse_keys("short")
    assert len(parse_keys(f" {generate_key()} , {generate_key()} ,")) == 2

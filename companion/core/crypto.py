"""Secrets at rest (OAuth access and refresh tokens): Fernet with rotatable keys.

`COMPANION_TOKEN_KEYS` holds Fernet keys, comma-separated, newest first. New values are
always encrypted with the newest key; every listed key still decrypts, so a key is rotated by
putting a new one in front, re-encrypting what is stored (`reencrypt_secret`), and dropping
the old key later. With no keys configured one key is derived from the secret key, so an
embedded install encrypts too without extra setup (and changing the secret key then makes
the stored tokens unreadable: their platforms must be connected again).

Platform-neutral: Zoom uses it today, Teams will store its tokens the same way.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from companion.config import Config
from companion.core.security import derive_key

#: The `derive_key` purpose of the key used when COMPANION_TOKEN_KEYS is empty.
DERIVED_KEY_PURPOSE = "token-encryption"


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with any configured key (or was tampered with)."""


class TokenKeyError(ValueError):
    """COMPANION_TOKEN_KEYS holds something that is not a Fernet key."""


def generate_key() -> str:
    """A new random key to put in front of COMPANION_TOKEN_KEYS."""
    return Fernet.generate_key().decode()


def parse_keys(raw: str) -> list[bytes]:
    """The configured keys, newest first; TokenKeyError names the position of a bad one."""
    keys = [part.strip().encode() for part in raw.split(",") if part.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise TokenKeyError(
                f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            ) from None
    return keys


@lru_cache(maxsize=8)
def _cipher(token_keys: str, secret_key: str) -> MultiFernet:
    keys = parse_keys(token_keys) or [derive_key(secret_key, DERIVED_KEY_PURPOSE)]
    return MultiFernet([Fernet(key) for key in keys])


def cipher(config: Config) -> MultiFernet:
    """The MultiFernet for the configuration: encrypts with the newest key, decrypts with all."""
    return _cipher(config.token_keys, config.secret_key)


def encrypt_secret(config: Config, plaintext: str) -> str:
    """`plaintext` encrypted (and authenticated) with the newest key; empty stays empty."""
    if not plaintext:
        return ""
    return cipher(config).encrypt(plaintext.encode()).decode()


def decrypt_secret(config: Config, ciphertext: str, *, max_age_seconds: int | None = None) -> str:
    """The plaintext of `encrypt_secret`'s output; SecretUnreadable if no key fits.

    `max_age_seconds` also rejects values encrypted longer ago than that (Fernet carries its
    creation time), for short-lived state such as an OAuth `state` parameter.
    """
    if not ciphertext:
        return ""
    try:
        return cipher(config).decrypt(ciphertext.encode(), ttl=max_age_seconds).decode()
    except (InvalidToken, ValueError, TypeError):
        raise SecretUnreadable("no configured key decrypts this value") from None


def reencrypt_secret(config: Config, ciphertext: str) -> str:
    """The same secret encrypted with the newest key (for key rotation)."""
    if not ciphertext:
        return ""
    try:
        return cipher(config).rotate(ciphertext.encode()).decode()
    except (InvalidToken, ValueError, TypeError):
        raise SecretUnreadable("no configured key decrypts this value") from None

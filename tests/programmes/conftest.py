"""Fixtures for these tests."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from companion.accounts import operations


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts made here get a cheap (still salted) hash instead of scrypt.

    scrypt's deliberate slowness is not what these tests check, and every factory-made
    facilitator would otherwise spend a sizeable part of a second on it. Checking a password
    still goes through the real `verify_password`.
    """
    monkeypatch.setattr(
        operations,
        "hash_password",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )

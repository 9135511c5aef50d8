"""Remembering who asked to be erased from a programme, without keeping who they were.

An erased person's email is gone, so a re-import of a growing form export that still lists
them would add them again as new. Instead each erasure stores a keyed hash of the normalised
email per programme (`ErasedAddress`): imports and facilitators' additions are refused for
it, while the person signing up again themselves (the intake survey) is their own new choice
and clears the mark. The key is derived from the secret key, so the digest cannot be checked
against guessed addresses without it (changing the secret key forgets the marks).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import delete, select

from companion.core.db import Db, utcnow
from companion.core.security import derive_key
from companion.privacy.models import ErasedAddress

#: The `derive_key` purpose of the key of the digests.
DIGEST_KEY_PURPOSE = "erased-address"


def normalise_email(email: str) -> str:
    """The form emails are compared in: trimmed, lower case (as the import matches them)."""
    return email.strip().lower()


def email_digest(email: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) of the normalised email."""
    key = derive_key(str(current_app.config["SECRET_KEY"]), DIGEST_KEY_PURPOSE)
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def remember_erased(db: Db, programme_id: int, email: str) -> None:
    """Mark the email as erased from the programme (once; a later erasure keeps the first)."""
    digest = email_digest(email)
    known = db.scalar(
        select(ErasedAddress.id).where(
            ErasedAddress.programme_id == programme_id, ErasedAddress.digest == digest
        )
    )
    if known is None:
        db.add(ErasedAddress(programme_id=programme_id, digest=digest, erased_at=utcnow()))
        db.flush()


def was_erased(db: Db, programme_id: int, email: str) -> bool:
    """Whether someone with this email asked to be erased from the programme."""
    found = db.scalar(
        select(ErasedAddress.id).where(
            ErasedAddress.programme_id == programme_id,
            ErasedAddress.digest == email_digest(email),
        )
    )
    return found is not None


def erased_digests(db: Db, programme_id: int) -> set[str]:
    """The digests of everyone erased from the programme (for checking a whole import)."""
    return set(
        db.scalars(select(ErasedAddress.digest).where(ErasedAddress.programme_id == programme_id))
    )


def forget_erased(db: Db, programme_id: int, email: str) -> None:
    """Clear the mark: the person signed up again themselves."""
    db.execute(
        delete(ErasedAddress).where(
            ErasedAddress.programme_id == programme_id,
            ErasedAddress.digest == email_digest(email),
        )
    )

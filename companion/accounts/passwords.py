"""Passwords: the strength check every new password passes, changing one, and resetting a
forgotten one through a single-use emailed link.

Strength is zxcvbn's estimate of guessing effort (dictionaries, names, keyboard patterns,
dates, the person's own name and address), not a home-made rule; its feedback is English
only, so it is mapped to our own translated texts. A reset link lasts an hour, works once,
and its token is stored only as a hash. Asking for a reset answers the same whether or not
the address has an account, and does the same work either way.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, Literal

from flask_babel import gettext as _
from sqlalchemy import CursorResult, delete, func, select, update
from zxcvbn import zxcvbn

from companion.accounts.models import Facilitator, PasswordReset
from companion.accounts.operations import MIN_PASSWORD_LENGTH, set_password
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Invalid, NotFound
from companion.core.jobs import periodic
from companion.core.mail import queue_mail
from companion.core.security import verify_password

#: zxcvbn scores 0-4; 3 is "safely unguessable" against an offline attack on a slow hash.
MIN_SCORE = 3
#: Longer passwords are refused (hashing and estimating a megabyte is work for nothing).
MAX_PASSWORD_LENGTH = 200
#: zxcvbn's estimate grows with the square of the length; the first part decides it anyway.
_ESTIMATED_LENGTH = 100
#: How long a reset link works.
RESET_LIFETIME = timedelta(hours=1)

LinkProblem = Literal["unknown", "used", "expired", "revoked"]


class LinkNotValid(NotFound):
    """An emailed link (reset, invitation) that is unknown, used, expired or revoked."""

    def __init__(self, reason: LinkProblem) -> None:
        super().__init__(_("This link is not valid."))
        self.reason = reason
        self.status = 404 if reason == "unknown" else 410


# --- tokens of emailed links --------------------------------------------------------------


def token_digest(token: str) -> str:
    """What is stored of a link's token: its SHA-256 (the token itself is random, 256 bits)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_link_token() -> tuple[str, str]:
    """A fresh token for an emailed link, and its digest to store."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


# --- strength -----------------------------------------------------------------------------


def _warning_texts() -> dict[str, str]:
    """zxcvbn's warnings (as `_warning_key` writes them) in the user's language."""
    keyboard = _("Rows and patterns of keys on the keyboard are easy to guess.")
    repeats = _("Repeated characters or words are easy to guess.")
    dates = _("Dates and years are easy to guess.")
    common = _("This is one of the most commonly used passwords.")
    names = _("Names are easy to guess.")
    return {
        "straight rows of keys are easy to guess": keyboard,
        "short keyboard patterns are easy to guess": keyboard,
        "repeats like aaa are easy to guess": repeats,
        "repeats like abcabcabc are only slightly harder to guess than abc": repeats,
        "sequences like abc or 6543 are easy to guess": _(
            "Sequences like abc or 6543 are easy to guess."
        ),
        "recent years are easy to guess": dates,
        "dates are often easy to guess": dates,
        "this is a top-10 common password": common,
        "this is a top-100 common password": common,
        "this is a very common password": common,
        "this is similar to a commonly used password": _(
            "This is too close to a commonly used password."
        ),
        "a word by itself is easy to guess": _("A single word is easy to guess."),
        "names and surnames by themselves are easy to guess": names,
        "common names and surnames are easy to guess": names,
    }


def _warning_key(english: str) -> str:
    return english.replace('"', "").strip().rstrip(".").lower()


def user_inputs_of(*texts: str) -> list[str]:
    """Words about the person (name, email, organisation) that a password should not lean on."""
    words: list[str] = []
    for text in texts:
        text = text.strip().lower()
        if not text:
            continue
        words.append(text)
        words.extend(part for part in re.split(r"[\s@._+-]+", text) if len(part) > 1)
    return list(dict.fromkeys(words))


def _uses_personal_words(sequence: Iterable[dict[str, Any]]) -> bool:
    return any(match.get("dictionary_name") == "user_inputs" for match in sequence)


def password_problem(password: str, user_inputs: Sequence[str] = ()) -> str | None:
    """Why the password is not good enough (translated), or None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(n)s characters.", n=MAX_PASSWORD_LENGTH)
    estimated = password[:_ESTIMATED_LENGTH]
    result = zxcvbn(estimated, user_inputs=list(user_inputs), max_length=_ESTIMATED_LENGTH)
    if int(result["score"]) >= MIN_SCORE:
        return None
    if _uses_personal_words(result.get("sequence", [])):
        warning = _("Your name, email address or organisation makes it easy to guess.")
    else:
        english = str(result.get("feedback", {}).get("warning") or "")
        warning = _warning_texts().get(_warning_key(english), "")
    hint = _("Add more words, or use a phrase of several unrelated words.")
    return " ".join(
        part for part in (_("This password is too easy to guess."), warning, hint) if part
    )


def require_strong_password(
    password: str, user_inputs: Sequence[str] = (), *, field: str = "password"
) -> None:
    """Raise Invalid (on `field`) unless the password is long and hard enough to guess."""
    problem = password_problem(password, user_inputs)
    if problem is not None:
        raise Invalid(_("Please choose a stronger password."), errors={field: problem})


def facilitator_inputs(facilitator: Facilitator) -> list[str]:
    """The account's own words for the strength check."""
    return user_inputs_of(facilitator.email, facilitator.name, facilitator.organisation.name)


# --- changing and resetting ---------------------------------------------------------------


def _end_reset_links(db: Db, facilitator: Facilitator) -> None:
    db.execute(
        update(PasswordReset)
        .where(PasswordReset.facilitator_id == facilitator.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )


def change_password(db: Db, facilitator: Facilitator, current: str, new: str) -> None:
    """The signed-in person's new password; the current one is asked (when there is one).
    Every sign-in of the account ends (the caller signs this browser in again)."""
    if facilitator.password_hash and not verify_password(facilitator.password_hash, current):
        raise Invalid(
            _("Please correct the marked fields."),
            errors={"current_password": _("The current password is not right.")},
        )
    if facilitator.password_hash and verify_password(facilitator.password_hash, new):
        raise Invalid(
            _("Please correct the marked fields."),
            errors={"password": _("Choose a password different from the current one.")},
        )
    require_strong_password(new, facilitator_inputs(facilitator))
    set_password(db, facilitator, new)
    _end_reset_links(db, facilitator)


def reset_url(config: Config, token: str) -> str:
    """The absolute address of a reset link."""
    return config.external_url(f"/reset-password/{token}")


def request_password_reset(db: Db, config: Config, email: str, *, language: str) -> bool:
    """Email a reset link if an active account has this address; True if one was queued.

    The caller answers the same either way. For an unknown address the token is made and
    hashed, the account looked up and the email written all the same, but nothing is stored
    or queued.
    """
    from companion.accounts.mail import render_password_reset

    token, digest = new_link_token()
    facilitator = db.scalar(
        select(Facilitator).where(func.lower(Facilitator.email) == email.strip().lower())
    )
    known = facilitator is not None and facilitator.active
    mail = render_password_reset(
        config,
        name=facilitator.name if facilitator is not None else "",
        language=(facilitator.language if facilitator is not None else "") or language,
        url=reset_url(config, token),
    )
    if not known or facilitator is None:
        return False
    db.add(
        PasswordReset(
            facilitator_id=facilitator.id, token_hash=digest, expires_at=utcnow() + RESET_LIFETIME
        )
    )
    queue_mail(
        db,
        to_address=facilitator.email,
        to_name=facilitator.name,
        subject=mail.subject,
        text_body=mail.text,
        html_body=mail.html,
        kind="password_reset",
    )
    db.flush()
    return True


def reset_for_token(db: Db, token: str) -> PasswordReset:
    """The live reset link of this token, or LinkNotValid saying why not."""
    reset = db.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_digest(token)))
    if reset is None or not reset.facilitator.active:
        raise LinkNotValid("unknown")
    if reset.used_at is not None:
        raise LinkNotValid("used")
    if reset.expires_at <= utcnow():
        raise LinkNotValid("expired")
    return reset


def reset_password(db: Db, token: str, password: str) -> Facilitator:
    """Set the password through a reset link: once only; every sign-in of the account ends."""
    reset = reset_for_token(db, token)
    facilitator = reset.facilitator
    require_strong_password(password, facilitator_inputs(facilitator))
    # The guard makes the link single-use even when two requests race with it.
    used = db.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if not isinstance(used, CursorResult) or used.rowcount != 1:
        raise LinkNotValid("used")
    set_password(db, facilitator, password)
    _end_reset_links(db, facilitator)
    db.flush()
    return facilitator


#: Reset records are kept a day past their expiry (a late click still hears "expired").
RESET_RECORD_LIFETIME = timedelta(days=1)


@periodic(3600)
def purge_password_resets(db: Db) -> None:
    """Delete reset records long past their expiry (their links work no more anyway)."""
    cutoff = utcnow() - RESET_RECORD_LIFETIME
    db.execute(delete(PasswordReset).where(PasswordReset.expires_at < cutoff))

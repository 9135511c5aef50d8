"""Sign-ins through a platform (Zoom, Microsoft 365) that lead to the same account.

An integration that offers "Sign in with ..." registers a lookup here; the account page asks
each which of its platform's accounts (if any) is connected to the facilitator's, so the
person sees every way into their one Kollega account. Accounts stays free of platform names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from companion.accounts.models import Facilitator
from companion.core.db import Db


@dataclass(frozen=True)
class ConnectedSignIn:
    """One platform's sign-in for an account."""

    #: The platform's name as people know it ("Zoom").
    platform: str
    #: The platform account connected to this one (an email or user name); "" if none.
    account: str
    #: The page where the facilitator connects or disconnects it.
    manage_url: str


#: Called with the facilitator; None when the platform is not set up on this installation.
SignInLookup = Callable[[Db, Facilitator], ConnectedSignIn | None]


def add_sign_in_lookup(app: Flask, lookup: SignInLookup) -> None:
    """Show a platform's sign-in on the account page (an integration calls this)."""
    lookups: list[SignInLookup] = app.extensions.setdefault("companion.sign_in_lookups", [])
    if lookup not in lookups:
        lookups.append(lookup)


def connected_sign_ins(db: Db, facilitator: Facilitator) -> list[ConnectedSignIn]:
    """The platform sign-ins this installation offers, each with what is connected."""
    lookups: list[SignInLookup] = current_app.extensions.get("companion.sign_in_lookups", [])
    found = (lookup(db, facilitator) for lookup in lookups)
    return [entry for entry in found if entry is not None]

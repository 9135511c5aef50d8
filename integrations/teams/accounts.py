"""Facilitators' Microsoft 365 accounts: connecting one, signing in with it, disconnecting.

An account is known by its tenant and object id (NOTES §1.4): `preferred_username` can be
renamed and is only shown. The first sign-in with Microsoft links the account to the
facilitator whose Kollega email is the email Microsoft vouches for; later sign-ins find it by
the ids alone. Nobody gets a Kollega account by signing in: accounts are by invitation.

Like every operations module: no `flask.request`, the caller commits.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from companion.accounts.models import Facilitator
from companion.config import Config
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, NotAllowed, NotFound
from integrations.teams.claims import MicrosoftUser
from integrations.teams.models import TeamsConnection
from integrations.teams.oauth import TokenSet
from integrations.teams.tokens import connection_for, store_tokens

#: The callback of every Microsoft sign-in (connect and sign in), registered in Entra.
CALLBACK_PATH = "/integrations/teams/callback"


def missing_settings(config: Config) -> list[str]:
    """The settings an administrator still has to give before Teams can be used."""
    missing = []
    if not config.teams_client_id:
        missing.append("COMPANION_TEAMS_CLIENT_ID")
    if not config.teams_client_secret:
        missing.append("COMPANION_TEAMS_CLIENT_SECRET")
    return missing


def redirect_uri(config: Config) -> str:
    """The redirect URI to register in the Entra app (NOTES §1.1: matched exactly)."""
    return config.external_url(CALLBACK_PATH)


def connection_by_account(db: Db, user: MicrosoftUser) -> TeamsConnection | None:
    """The connection of this Microsoft account (tenant and object id), if any."""
    return db.scalar(
        select(TeamsConnection).where(
            TeamsConnection.tenant_id == user.tenant_id,
            TeamsConnection.object_id == user.object_id,
        )
    )


def _describe(row: TeamsConnection, user: MicrosoftUser) -> None:
    row.upn = user.username[:254]
    row.display_name = user.name[:200]
    row.email = (user.verified_email or user.email or row.email)[:254]


def connect_account(
    db: Db, config: Config, facilitator: Facilitator, tokens: TokenSet, user: MicrosoftUser
) -> TeamsConnection:
    """Keep the signed-in facilitator's new Microsoft 365 connection (or renew it)."""
    taken = connection_by_account(db, user)
    if taken is not None and taken.facilitator_id != facilitator.id:
        raise Conflict(
            _(
                "This Microsoft 365 account is already connected to another Kollega account. "
                "Disconnect it there first."
            )
        )
    row = connection_for(db, facilitator.id)
    if row is None:
        row = TeamsConnection(facilitator_id=facilitator.id)
        db.add(row)
    row.tenant_id = user.tenant_id
    row.object_id = user.object_id
    row.connected_at = utcnow()
    _describe(row, user)
    store_tokens(row, config, tokens)
    db.flush()
    return row


def _facilitator_by_email(db: Db, email: str) -> Facilitator | None:
    return db.scalar(select(Facilitator).where(func.lower(Facilitator.email) == email.lower()))


def sign_in_with_microsoft(
    db: Db, config: Config, tokens: TokenSet, user: MicrosoftUser
) -> Facilitator:
    """The active facilitator of this Microsoft account, linked by verified email the first
    time; their tokens are renewed. NotFound or NotAllowed say why someone is refused."""
    row = connection_by_account(db, user)
    if row is not None:
        facilitator = row.facilitator
        if not facilitator.active:
            raise NotAllowed(_("This Kollega account has been closed."))
    else:
        facilitator = _link_by_email(db, user)
        row = connection_for(db, facilitator.id)
        if row is not None:
            raise NotAllowed(
                _(
                    "Your Kollega account is connected to another Microsoft 365 account "
                    "(%(account)s). Sign in with that account, or sign in with your email and "
                    "password and connect this one on the Teams connection page.",
                    account=row.account_name,
                )
            )
        row = TeamsConnection(
            facilitator_id=facilitator.id, tenant_id=user.tenant_id, object_id=user.object_id
        )
        db.add(row)
    _describe(row, user)
    store_tokens(row, config, tokens)
    facilitator.last_sign_in_at = utcnow()
    db.flush()
    return facilitator


def _link_by_email(db: Db, user: MicrosoftUser) -> Facilitator:
    if not user.verified_email:
        raise NotFound(
            _(
                "Microsoft did not confirm the email address of %(account)s, so Kollega cannot "
                "tell whose account it is. Sign in with your email and password, then connect "
                "Microsoft 365 on the Teams connection page; after that, signing in with "
                "Microsoft works.",
                account=user.username or user.name or "?",
            )
        )
    facilitator = _facilitator_by_email(db, user.verified_email)
    if facilitator is None:
        raise NotFound(
            _(
                "There is no Kollega account for %(email)s. Kollega accounts are made by "
                "invitation: ask the person who runs Kollega in your organisation to invite "
                "you.",
                email=user.verified_email,
            )
        )
    if not facilitator.active:
        raise NotAllowed(_("This Kollega account has been closed."))
    return facilitator


def disconnect(db: Db, facilitator: Facilitator) -> bool:
    """Forget the facilitator's Microsoft 365 connection and its tokens; False if none."""
    row = connection_for(db, facilitator.id)
    if row is None:
        return False
    db.delete(row)
    db.flush()
    return True

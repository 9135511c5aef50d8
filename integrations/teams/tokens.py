"""Access tokens for calling Microsoft Graph as a facilitator, refreshed one at a time.

This is the interface the Graph side uses:

- `access_token(db, facilitator_id)`: a bearer token for Graph, refreshed when it is near its
  expiry (or when `stale`, a token Graph just refused with 401, is the stored one);
- `connection_for(db, facilitator_id)`: the facilitator's connection, or None;
- `ReconnectNeeded` (a `Conflict` and a `PlatformError` with `reconnect=True`): there is no
  usable grant; the facilitator must connect Microsoft 365 again. `MicrosoftUnavailable`
  (temporary) and `CredentialsRefused` (the administrator's settings) are the other failures.

Microsoft replaces the refresh token on every use (NOTES §1.3), so the new one is committed
*before* the new access token is returned for use, in a transaction of its own that locks the
connection's row (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite a first write takes the
database's write lock, after committing the caller's transaction, since SQLite has one writer).
Whoever waited on the lock re-reads the row and uses the token the first one stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from companion.config import Config
from companion.core.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from companion.core.db import Db, utcnow
from companion.core.errors import Conflict, Unavailable
from companion.meetings.platform import PlatformError
from integrations.teams.models import TeamsConnection
from integrations.teams.oauth import MicrosoftOAuth, OAuthFailure, TokenSet

log = logging.getLogger(__name__)

#: Refresh this long before Microsoft's expiry, so a token never dies in the middle of a call.
REFRESH_MARGIN = timedelta(minutes=5)


class ReconnectNeeded(Conflict, PlatformError):
    """No usable Microsoft grant for this facilitator: they must connect Microsoft 365 again."""

    type_slug = "teams-reconnect-needed"
    title = _l("Microsoft 365 must be connected again")

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.reconnect = True


class MicrosoftUnavailable(Unavailable, PlatformError):
    """Microsoft's sign-in service did not answer (network, 5xx, 429): try again later."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.temporary = True


class CredentialsRefused(Conflict, PlatformError):
    """Microsoft refuses Kollega's app credentials: only an administrator can fix that."""

    type_slug = "teams-credentials-refused"
    title = _l("Microsoft does not accept Kollega's app settings")

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def reconnect_message(connection: TeamsConnection | None) -> str:
    """What a facilitator reads when their Microsoft grant is gone."""
    if connection is None:
        return _(
            "No Microsoft 365 account is connected. Connect it on the Teams connection page, "
            "then try again."
        )
    return _(
        "Microsoft 365 no longer accepts Kollega's access to %(account)s (for example after "
        "a password change, or when an administrator revoked it). Connect Microsoft 365 again "
        "on the Teams connection page, then try again.",
        account=connection.account_name or _("your account"),
    )


def credentials_message() -> str:
    """What anyone reads when Microsoft refuses the client id or secret."""
    return _(
        "Microsoft does not accept this Kollega's app credentials. An administrator should "
        "check COMPANION_TEAMS_CLIENT_ID and COMPANION_TEAMS_CLIENT_SECRET (a client secret "
        "expires; see docs/teams.md)."
    )


def unavailable_message() -> str:
    """What anyone reads when Microsoft's sign-in service does not answer."""
    return _("Microsoft's sign-in service did not answer. Try again in a moment.")


def _config() -> Config:
    config: Config = current_app.extensions["companion.config"]
    return config


def connection_for(db: Db, facilitator_id: int) -> TeamsConnection | None:
    """The facilitator's Microsoft 365 connection (freshly read), or None."""
    return db.scalar(
        select(TeamsConnection)
        .where(TeamsConnection.facilitator_id == facilitator_id)
        .execution_options(populate_existing=True)
    )


def access_token(
    db: Db, facilitator_id: int, *, stale: str | None = None, config: Config | None = None
) -> str:
    """A Graph access token of the facilitator, valid for a few minutes at least.

    `stale` is a token Graph just refused (401): a different stored one is used, the same
    one is refreshed even before its expiry. Raises ReconnectNeeded, MicrosoftUnavailable or
    CredentialsRefused. The configuration defaults to the current app's.
    """
    config = config or _config()
    row = connection_for(db, facilitator_id)
    if row is None:
        raise ReconnectNeeded(reconnect_message(None))
    if not row.needs_reconnect:
        current = _fresh(row, config, stale)
        if current is not None:
            return current
    failure: ReconnectNeeded | None = None
    with _own_transaction(db) as tx:
        locked = _locked(tx, row.id)
        if locked is None:
            raise ReconnectNeeded(reconnect_message(None))
        if locked.needs_reconnect or not locked.refresh_token:
            raise ReconnectNeeded(reconnect_message(locked))
        # Someone may have refreshed while we waited for the lock: use theirs.
        current = _fresh(locked, config, stale)
        if current is not None:
            return current
        try:
            tokens = MicrosoftOAuth(config).refresh(decrypt_secret(config, locked.refresh_token))
        except SecretUnreadable:
            failure = _mark_reconnect(locked, "unreadable")
        except OAuthFailure as exc:
            if exc.temporary:
                log.warning("Microsoft token refresh of connection %s: %s", locked.id, exc.error)
                raise MicrosoftUnavailable(unavailable_message()) from None
            if exc.error in ("invalid_client", "unauthorized_client"):
                log.error("Microsoft refused the app credentials: %s %s", exc.error, exc.aadsts)
                raise CredentialsRefused(credentials_message()) from None
            log.warning(
                "Microsoft refused the refresh of connection %s: %s %s",
                locked.id,
                exc.error,
                exc.aadsts,
            )
            failure = _mark_reconnect(locked, exc.error)
        else:
            # NOTES §1.3: keep the replacement refresh token before the new access token is
            # used; _own_transaction commits when this block ends, before we return.
            store_tokens(locked, config, tokens)
            new_token = tokens.access_token
    if failure is not None:
        raise failure
    return new_token


def store_tokens(row: TeamsConnection, config: Config, tokens: TokenSet) -> None:
    """Put a token answer on the connection, encrypted, and clear "reconnect needed"."""
    row.access_token = encrypt_secret(config, tokens.access_token)
    if tokens.refresh_token:
        row.refresh_token = encrypt_secret(config, tokens.refresh_token)
    row.expires_at = tokens.expires_at
    row.scopes = tokens.scopes or row.scopes
    row.refreshed_at = utcnow()
    row.needs_reconnect = False
    row.last_error = ""


def _fresh(row: TeamsConnection, config: Config, stale: str | None) -> str | None:
    """The stored access token if it is usable for a while and not the refused one."""
    if not row.access_token or row.expires_at is None:
        return None
    if row.expires_at - utcnow() <= REFRESH_MARGIN:
        return None
    try:
        current = decrypt_secret(config, row.access_token)
    except SecretUnreadable:
        return None
    return None if current == stale else current


def _mark_reconnect(row: TeamsConnection, error: str) -> ReconnectNeeded:
    # NOTES §1.3: the grant is gone; only the facilitator signing in again brings it back.
    row.needs_reconnect = True
    row.access_token = ""
    row.refresh_token = ""
    row.expires_at = None
    row.last_error = error[:200]
    return ReconnectNeeded(reconnect_message(row))


def _is_sqlite(db: Db) -> bool:
    return db.get_bind().dialect.name == "sqlite"


@contextmanager
def _own_transaction(db: Db) -> Iterator[Db]:
    """A transaction of its own, committed at the end whatever the caller does later.

    On SQLite the caller's open transaction is committed first (one writer per database).
    """
    if _is_sqlite(db) and db.in_transaction():
        db.commit()
    side = Session(bind=db.get_bind(), expire_on_commit=False)
    try:
        yield side
        side.commit()
    except BaseException:
        side.rollback()
        raise
    finally:
        side.close()


def _locked(tx: Db, connection_id: int) -> TeamsConnection | None:
    if _is_sqlite(tx):
        # SQLite has no SELECT FOR UPDATE: a write first takes the database's write lock.
        tx.execute(
            update(TeamsConnection)
            .where(TeamsConnection.id == connection_id)
            .values(id=TeamsConnection.id)
            .execution_options(synchronize_session=False)
        )
    return tx.execute(
        select(TeamsConnection)
        .where(TeamsConnection.id == connection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()

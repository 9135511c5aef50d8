"""Access tokens for calling Zoom, refreshed by exactly one thread or process at a time.

Zoom rotates refresh tokens: each refresh answers a new one and kills the old one at once, so
two concurrent refreshes leave one of them with a dead token and the facilitator forced to
reconnect (NOTES §1.1, §7). Hence a single flight per connection, across threads *and*
processes, through the database every process shares:

- **PostgreSQL**: the refresh runs in a transaction of its own that locks the connection's
  row (`SELECT ... FOR UPDATE`). Whoever comes second waits on the lock, then re-reads the
  row, finds the token the first one stored and uses it. One token request per expiry.
- **SQLite**: no row locks, one writer per database file, honoured by all processes. The
  refresh transaction starts with a write (`UPDATE ... SET id = id`), which takes that lock
  before the token is read, just as `BEGIN IMMEDIATE` would. Since the caller's own
  transaction may hold the same lock (a form post, a job), it is committed first; SQLite
  cannot run a second writer beside it (the one place an operation's caller gets committed
  early: losing a rotated refresh token would disconnect the facilitator).

Either way the rotated refresh token is committed *before* the new access token is returned
for use. A refresh Zoom refuses with `invalid_grant` marks the connection "reconnect needed".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from companion.config import Config
from companion.core.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from companion.core.db import Db, utcnow
from integrations.zoom.errors import ZoomError
from integrations.zoom.models import ConnectionKind, ConnectionStatus, ZoomConnection
from integrations.zoom.oauth import OAuthFailure, TokenSet, ZoomOAuth

log = logging.getLogger(__name__)

#: Refresh this long before Zoom's expiry, so a token never dies in the middle of a call.
REFRESH_MARGIN = timedelta(minutes=2)


def is_sqlite(db: Db) -> bool:
    """Whether the session talks to SQLite (one writer at a time, see the module docstring)."""
    return db.get_bind().dialect.name == "sqlite"


@contextmanager
def own_transaction(db: Db) -> Iterator[Db]:
    """A transaction of its own, committed at the end whatever the caller does later.

    On SQLite the caller's open transaction is committed first (see the module docstring).
    """
    if is_sqlite(db) and db.in_transaction():
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


@contextmanager
def counting_transaction(db: Db) -> Iterator[Db]:
    """Where usage counts are written: their own transaction on PostgreSQL (a count stays
    even if the caller rolls back), the caller's on SQLite (a second writer would wait)."""
    if is_sqlite(db):
        yield db
        db.flush()
        return
    with own_transaction(db) as side:
        yield side


def lock_rows(tx: Db, *where: Any) -> None:
    """On SQLite, take the database write lock before reading (it has no SELECT FOR UPDATE)."""
    if is_sqlite(tx):
        tx.execute(
            update(ZoomConnection)
            .where(*where)
            .values(id=ZoomConnection.id)
            .execution_options(synchronize_session=False)
        )


class TokenSource(Protocol):
    """Where a Zoom API client gets its bearer token."""

    #: Counts meeting writes against this host (NOTES §2.1 per-user daily limit).
    host_key: str
    #: The path segment naming the host in `/users/{userId}/...` ("me" for user tokens).
    user_ref: str

    def access_token(self) -> str:
        """A token valid for a while yet."""

    def renew(self, stale: str) -> str:
        """A token other than `stale`, which Zoom just refused (401)."""

    def api_base(self) -> str:
        """The Meeting API base URL (ends in /v2)."""


def _reconnect_error(email: str = "") -> ZoomError:
    return ZoomError(
        _(
            "Zoom no longer accepts the connection of %(account)s. Connect Zoom again on the "
            "Connections page, then try again.",
            account=email or _("this Zoom account"),
        ),
        reconnect=True,
    )


def _credentials_error() -> ZoomError:
    return ZoomError(
        _(
            "Zoom does not accept this Kollega's app credentials. An administrator should "
            "check COMPANION_ZOOM_CLIENT_ID and COMPANION_ZOOM_CLIENT_SECRET (see docs/zoom.md)."
        )
    )


def _unreachable_error() -> ZoomError:
    return ZoomError(
        _("Zoom's sign-in service did not answer. Try again in a moment."), temporary=True
    )


def _fresh(row: ZoomConnection, config: Config, stale: str | None) -> str | None:
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


def _store(row: ZoomConnection, config: Config, tokens: TokenSet) -> None:
    row.access_token = encrypt_secret(config, tokens.access_token)
    if tokens.refresh_token:
        row.refresh_token = encrypt_secret(config, tokens.refresh_token)
    row.expires_at = tokens.expires_at
    row.scopes = tokens.scopes or row.scopes
    row.refreshed_at = utcnow()
    row.status = ConnectionStatus.CONNECTED
    row.last_error = ""


def _locked(tx: Db, connection_id: int) -> ZoomConnection | None:
    lock_rows(tx, ZoomConnection.id == connection_id)
    return tx.execute(
        select(ZoomConnection)
        .where(ZoomConnection.id == connection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def user_access_token(
    db: Db, config: Config, connection_id: int, *, stale: str | None = None
) -> tuple[str, datetime]:
    """A usable access token of a facilitator's connection, refreshed once if needed.

    `stale` is a token Zoom just refused: a different stored one is used, the same one is
    refreshed even if it has not reached its expiry.
    """
    row = db.execute(
        select(ZoomConnection)
        .where(ZoomConnection.id == connection_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is not None and row.status == ConnectionStatus.CONNECTED:
        current = _fresh(row, config, stale)
        if current is not None and row.expires_at is not None:
            return current, row.expires_at
    failure: ZoomError | None = None
    with own_transaction(db) as tx:
        row = _locked(tx, connection_id)
        if row is None:
            raise ZoomError(_("No Zoom account is connected."), reconnect=True)
        email = row.zoom_email
        if row.status != ConnectionStatus.CONNECTED or not row.refresh_token:
            raise _reconnect_error(email)
        # Someone may have refreshed while we waited for the lock: use theirs.
        current = _fresh(row, config, stale)
        if current is not None and row.expires_at is not None:
            return current, row.expires_at
        try:
            refresh_token = decrypt_secret(config, row.refresh_token)
            tokens = ZoomOAuth(config).refresh(refresh_token)
        except SecretUnreadable:
            failure = _mark_reconnect(row, "unreadable")
        except OAuthFailure as exc:
            if exc.temporary:
                log.warning("Zoom token refresh for connection %s failed: %s", row.id, exc.error)
                raise _unreachable_error() from None
            if exc.error == "invalid_client":
                raise _credentials_error() from None
            log.warning("Zoom refused the refresh of connection %s: %s", row.id, exc.error)
            failure = _mark_reconnect(row, exc.error)
        else:
            # NOTES §1.1: save the rotated refresh token before the new access token is used;
            # own_transaction commits when this block ends, before we return.
            _store(row, config, tokens)
            new_token, expires_at = tokens.access_token, tokens.expires_at
    if failure is not None:
        raise failure
    return new_token, expires_at


def _mark_reconnect(row: ZoomConnection, error: str) -> ZoomError:
    # NOTES §1.1: `invalid_grant` (or any refusal of the refresh) = re-authorisation needed.
    row.status = ConnectionStatus.RECONNECT
    row.access_token = ""
    row.refresh_token = ""
    row.expires_at = None
    row.last_error = error[:200]
    return _reconnect_error(row.zoom_email)


def account_access_token(
    db: Db, config: Config, *, stale: str | None = None
) -> tuple[str, datetime, str]:
    """A Server-to-Server token (NOTES §1.2), cached for all processes; also its API base."""
    row = db.execute(
        select(ZoomConnection)
        .where(ZoomConnection.kind == ConnectionKind.ACCOUNT, ZoomConnection.zoom_user_id == "")
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is not None and row.zoom_account_id == config.zoom_account_id:
        current = _fresh(row, config, stale)
        if current is not None and row.expires_at is not None:
            return current, row.expires_at, row.api_url
    for attempt in range(2):
        try:
            return _refresh_account(db, config, stale)
        except IntegrityError:
            # Two processes created the account row at once; the other one won: use it.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _refresh_account(db: Db, config: Config, stale: str | None) -> tuple[str, datetime, str]:
    with own_transaction(db) as tx:
        lock_rows(tx, ZoomConnection.kind == ConnectionKind.ACCOUNT)
        row = tx.execute(
            select(ZoomConnection)
            .where(ZoomConnection.kind == ConnectionKind.ACCOUNT, ZoomConnection.zoom_user_id == "")
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if row is None:
            row = ZoomConnection(kind=ConnectionKind.ACCOUNT, zoom_user_id="")
            tx.add(row)
            tx.flush()
        elif row.zoom_account_id == config.zoom_account_id:
            current = _fresh(row, config, stale)
            if current is not None and row.expires_at is not None:
                return current, row.expires_at, row.api_url
        try:
            tokens = ZoomOAuth(config).account_token(config.zoom_account_id)
        except OAuthFailure as exc:
            if exc.temporary:
                raise _unreachable_error() from None
            raise _credentials_error() from None
        _store(row, config, tokens)
        row.zoom_account_id = config.zoom_account_id
        row.api_url = f"{tokens.api_url.rstrip('/')}/v2" if tokens.api_url else ""
        return tokens.access_token, tokens.expires_at, row.api_url


class UserTokens:
    """Tokens of a facilitator's own Zoom connection; the host is "me" (NOTES §2.1)."""

    user_ref = "me"

    def __init__(self, db: Db, config: Config, connection: ZoomConnection) -> None:
        self.db = db
        self.config = config
        self.connection_id = connection.id
        self.host_key = connection.zoom_user_id
        self._token: str | None = None
        self._expires_at: datetime | None = None

    def access_token(self) -> str:
        """The cached token while it lasts, else one from the store (refreshed if due)."""
        if self._token and self._expires_at and self._expires_at - utcnow() > REFRESH_MARGIN:
            return self._token
        self._token, self._expires_at = user_access_token(self.db, self.config, self.connection_id)
        return self._token

    def renew(self, stale: str) -> str:
        """Refresh once after a 401."""
        self._token, self._expires_at = user_access_token(
            self.db, self.config, self.connection_id, stale=stale
        )
        return self._token

    def api_base(self) -> str:
        """The configured Meeting API base."""
        return self.config.zoom_api_url


class AccountTokens:
    """Server-to-Server tokens; the host is the facilitator's Zoom user, named by email."""

    def __init__(self, db: Db, config: Config, host_email: str | None) -> None:
        self.db = db
        self.config = config
        self.user_ref = host_email or "me"
        self.host_key = f"account:{self.user_ref}"
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._api_url = ""

    def access_token(self) -> str:
        """The cached token while it lasts, else one from the store (fetched if due)."""
        if self._token and self._expires_at and self._expires_at - utcnow() > REFRESH_MARGIN:
            return self._token
        self._token, self._expires_at, self._api_url = account_access_token(self.db, self.config)
        return self._token

    def renew(self, stale: str) -> str:
        """A new token after a 401."""
        self._token, self._expires_at, self._api_url = account_access_token(
            self.db, self.config, stale=stale
        )
        return self._token

    def api_base(self) -> str:
        """The regional base Zoom named with the token, else the configured one."""
        return self._api_url or self.config.zoom_api_url


class BearerTokens:
    """A token we hold only for a moment (right after an authorisation), never refreshed."""

    user_ref = "me"

    def __init__(self, config: Config, token: str) -> None:
        self.config = config
        self.token = token
        self.host_key = ""

    def access_token(self) -> str:
        """The token as given."""
        return self.token

    def renew(self, stale: str) -> str:
        """Nothing to refresh with: the authorisation itself failed."""
        raise ZoomError(
            _("Zoom did not accept the new authorisation. Please try again."), reconnect=True
        )

    def api_base(self) -> str:
        """The configured Meeting API base."""
        return self.config.zoom_api_url

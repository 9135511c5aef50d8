"""Stand-in for the identity half of issue 14 (branch teams-identity), which replaces this file.

That half keeps each facilitator's Microsoft connection with its tokens encrypted and
refreshes them; until it lands no facilitator has a connection, so every call says so. The
signature is the one the Graph client is written against.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from companion.config import Config
from companion.core.db import Db
from companion.core.errors import Conflict
from companion.meetings.platform import PlatformError


class ReconnectNeeded(Conflict, PlatformError):
    """No usable Microsoft grant for this facilitator: they must connect Microsoft 365 again."""

    type_slug = "teams-reconnect-needed"
    title = _l("Microsoft 365 must be connected again")

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.reconnect = True


def connection_for(db: Db, facilitator_id: int) -> Any:
    """The facilitator's Microsoft 365 connection, or None."""
    return None


def access_token(
    db: Db, facilitator_id: int, *, stale: str | None = None, config: Config | None = None
) -> str:
    """A Graph access token of the facilitator (ReconnectNeeded when there is none)."""
    raise ReconnectNeeded(
        _(
            "No Microsoft 365 account is connected. Connect it on the Teams connection page, "
            "then try again."
        )
    )

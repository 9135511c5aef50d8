"""What the account tests share: reading the links out of queued emails."""

from __future__ import annotations

import re

from sqlalchemy import select

from companion.core.db import Db
from companion.core.mail import OutboxMessage

#: A strong password (zxcvbn score 4) that names nobody in these tests.
STRONG = "lantern orbit muesli canoe"


def mails_to(db: Db, address: str) -> list[OutboxMessage]:
    """The emails queued to an address, oldest first."""
    db.rollback()
    return list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id)
        )
    )


def link_token(message: OutboxMessage, path: str) -> str:
    """The token of the `/<path>/<token>` link in an email's text."""
    match = re.search(rf"/{path}/([A-Za-z0-9_-]+)", message.text_body)
    assert match, f"no /{path}/ link in the email"
    return match.group(1)

"""Personal links in emails: open a participant's own pages without an account.

A link carries the participant's join-link nonce, so renewing or revoking the join link
invalidates every emailed link as well.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from companion.config import Config
from companion.core.db import Db
from companion.core.security import TokenError, sign, unsign
from companion.sessions.models import JoinLink

#: Where a personal link may lead ("next"); anything else goes to the programme page.
TARGETS = ("me", "contacts", "preferences", "reminders", "actions", "data")


def personal_token(link: JoinLink) -> str:
    """The signed token naming the participant and their current join-link nonce."""
    return sign({"p": link.participant_id, "n": link.nonce}, "personal")


def personal_url(config: Config, link: JoinLink, target: str = "me") -> str:
    """The absolute address of a participant's page, for emails."""
    (url,) = personal_urls(config, link, target)
    return url


def personal_urls(config: Config, link: JoinLink, *targets: str) -> tuple[str, ...]:
    """Several of a participant's addresses, signing their token once (a digest has three
    per person, and signing is most of the cost of reading a run's data)."""
    token = personal_token(link)
    urls = []
    for target in targets:
        query = urlencode({"next": target}) if target != "me" else ""
        urls.append(config.external_url(f"/me/t/{token}" + (f"?{query}" if query else "")))
    return tuple(urls)


def resolve_personal_token(db: Db, token: str) -> JoinLink | None:
    """The live join link a personal token belongs to, or None (tampered, renewed, revoked)."""
    try:
        data = unsign(token, "personal")
    except TokenError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    link = db.query(JoinLink).filter_by(participant_id=data["p"]).one_or_none()
    if link is None or link.revoked_at is not None:
        return None
    if not secrets.compare_digest(str(link.nonce), str(data.get("n", ""))):
        return None
    return link
